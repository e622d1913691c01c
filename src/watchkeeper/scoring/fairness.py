"""Fairness of the scorer: do alerts concentrate in some segments beyond their share of traffic?

For each segment, compare its share of *alerts* with its share of *traffic*. The ratio is the
concentration (1 = proportional; 2 = twice as many alerts as its traffic explains). Whether
the difference is more than chance is tested per segment with an exact binomial test (alerts in
the segment out of all alerts, at the segment's traffic share), Holm-corrected across segments,
and overall with a chi-square goodness-of-fit test (scipy).

"Alerts" are counted however the caller attributes them: alert windows weighted by each
segment's events in them (`alert_exposure`), or alerts raised on per-segment signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats

from watchkeeper.core.errors import InputError


@dataclass(frozen=True, slots=True)
class SegmentFinding:
    segment: str
    traffic_share: float
    alert_share: float
    ratio: float  # alert_share / traffic_share
    p_value: float  # Holm-adjusted, two-sided
    concentrated: bool


@dataclass(frozen=True, slots=True)
class FairnessReport:
    segments: tuple[SegmentFinding, ...]
    chi2_p_value: float
    alerts: float
    concentrated: bool

    def summary(self) -> str:
        if self.alerts == 0:
            return "No alerts, so nothing can concentrate in a segment."
        flagged = [s for s in self.segments if s.concentrated]
        if not flagged:
            worst = max(self.segments, key=lambda s: s.ratio)
            return (f"Alerts follow traffic: the most over-represented segment, {worst.segment},"
                    f" gets {worst.ratio:.2f}x its traffic share (not significant).")
        parts = [f"{s.segment} ({s.ratio:.2f}x its traffic share, p={s.p_value:.2g})"
                 for s in flagged]
        return "Alerts concentrate in " + ", ".join(parts) + "."


def alert_concentration(
    alerts: Mapping[str, float], traffic: Mapping[str, float], *, alpha: float = 0.01,
    min_ratio: float = 1.25,
) -> FairnessReport:
    """`alerts` and `traffic` map segment -> count (or weight). A segment is flagged when its
    ratio is at least `min_ratio` and its Holm-adjusted p-value is below `alpha`."""
    unknown = sorted(set(alerts) - set(traffic))
    if unknown:
        raise InputError(f"alerts in segments without traffic: {unknown}", field="segments",
                         expected="every alerting segment to have traffic")
    total_t = float(sum(traffic.values()))
    if total_t <= 0 or any(v < 0 for v in (*traffic.values(), *alerts.values())):
        raise InputError("traffic must be non-negative with a positive total", field="traffic",
                         expected="counts >= 0, total > 0")
    total_a = float(sum(alerts.values()))
    names = sorted(traffic)
    shares = {s: traffic[s] / total_t for s in names}
    if total_a == 0:
        segs = tuple(SegmentFinding(s, shares[s], 0.0, 0.0, 1.0, False) for s in names)
        return FairnessReport(segs, 1.0, 0.0, False)
    n = max(1, round(total_a))
    raw_p = {}
    for s in names:
        k = round(alerts.get(s, 0.0) / total_a * n)
        raw_p[s] = float(stats.binomtest(k, n, shares[s]).pvalue) if shares[s] > 0 else 1.0
    adjusted = _holm(raw_p)
    observed = [alerts.get(s, 0.0) for s in names]
    expected = [shares[s] * total_a for s in names]
    chi_p = float(stats.chisquare(observed, expected).pvalue) if len(names) > 1 else 1.0
    segs = []
    for s in names:
        a_share = alerts.get(s, 0.0) / total_a
        ratio = a_share / shares[s] if shares[s] > 0 else float("inf")
        segs.append(SegmentFinding(s, shares[s], a_share, ratio, adjusted[s],
                                   ratio >= min_ratio and adjusted[s] < alpha))
    return FairnessReport(tuple(segs), chi_p, total_a, any(f.concentrated for f in segs))


def _holm(p: Mapping[str, float]) -> dict[str, float]:
    order = sorted(p, key=p.get)  # type: ignore[arg-type]
    m, running, out = len(order), 0.0, {}
    for i, name in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[name]))
        out[name] = running
    return out
