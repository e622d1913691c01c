"""Validation gates a retrained candidate must pass before it sees any traffic. Pure.

Each gate takes plain values, reads its settings from `policy.mitigation.gates`, and returns a
`GateResult` with the figures it judged, so a rejection says exactly why and an approval can
be audited. `evaluate` runs them all on the candidate's and the champion's outputs on the most
recent labelled window (rows the candidate never trained on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from watchkeeper.core.enums import Task
from watchkeeper.mitigation import metrics as m
from watchkeeper.mitigation.data import MISSING


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def validation(metric: str, value: float, *, method: str, kpi_min: float | None = None,
               kpi_max: float | None = None) -> GateResult:
    """The candidate's own validation figure (holdout or k-fold) must be finite and meet the
    model's KPI bound where the policy sets one."""
    figures = {"method": method, "metric": metric, "value": _round(value),
               "kpi_min": kpi_min, "kpi_max": kpi_max}
    if not np.isfinite(value):
        return GateResult("validation", False, figures, f"{metric} is not a number")
    if kpi_min is not None and value < kpi_min:
        return GateResult("validation", False, figures,
                          f"{method} {metric} {value:.4f} is below the KPI minimum {kpi_min:g}")
    if kpi_max is not None and value > kpi_max:
        return GateResult("validation", False, figures,
                          f"{method} {metric} {value:.4f} is above the KPI maximum {kpi_max:g}")
    return GateResult("validation", True, figures, f"{method} {metric} {value:.4f}")


def beat_champion(metric: str, candidate: float, champion: float | None, *, margin: float,
                  n: int) -> GateResult:
    figures = {"metric": metric, "candidate": _round(candidate), "champion": _round(champion),
               "margin": margin, "n_recent": n}
    if champion is None:
        return GateResult("beat_champion", True, figures, "no champion to beat", skipped=True)
    better = m.higher_is_better(metric)
    gain = (candidate - champion) if better else (champion - candidate)
    figures["gain"] = _round(gain)
    passed = gain >= margin
    word = "beats" if passed else "does not beat"
    return GateResult("beat_champion", passed, figures,
                      f"candidate {metric} {candidate:.4f} {word} the champion's {champion:.4f} "
                      f"by the margin {margin:g} (gain {gain:+.4f}) on the {n} most recent "
                      "labelled rows")


def calibration(y: np.ndarray, scores: np.ndarray, task: Task, *, max_ece: float) -> GateResult:
    if task == Task.REGRESSION:
        return GateResult("calibration", True, {"max_ece": max_ece}, "regression: no "
                          "probabilities to calibrate", skipped=True)
    value = m.ece(y, scores)
    passed = value <= max_ece
    return GateResult("calibration", passed, {"ece": _round(value), "max_ece": max_ece},
                      f"ECE {value:.4f} {'within' if passed else 'above'} the bound {max_ece:g}")


def fairness(y: np.ndarray, decided: np.ndarray, groups: np.ndarray | None, *, attribute: str,
             metric: str, max_gap: float, min_group: int = 20) -> GateResult:
    """Gap between the groups of `attribute` in positive-decision rate (demographic parity) or
    true-positive rate (equal opportunity); groups smaller than `min_group` are not judged."""
    if groups is None:
        return GateResult("fairness", False, {"attribute": attribute},
                          f"the attribute column {attribute!r} is not in the data")
    rates: dict[str, float] = {}
    for g in np.unique(groups):
        mask = groups == g
        if metric == "equal_opportunity":
            mask = mask & (y == 1)
        if mask.sum() >= min_group and str(g) != MISSING:
            rates[str(g)] = float(np.mean(decided[mask]))
    figures: dict[str, Any] = {"attribute": attribute, "metric": metric, "max_gap": max_gap,
                               "rates": {k: round(v, 6) for k, v in rates.items()}}
    if len(rates) < 2:
        return GateResult("fairness", True, figures, "fewer than two groups large enough to "
                          "compare", skipped=True)
    gap = max(rates.values()) - min(rates.values())
    figures["gap"] = _round(gap)
    passed = gap <= max_gap
    return GateResult("fairness", passed, figures,
                      f"{metric} gap across {attribute} is {gap:.4f} "
                      f"({'within' if passed else 'above'} {max_gap:g})")


def latency(per_row_ms: Sequence[float], *, max_p99_ms: float | None) -> GateResult:
    """Measured single-row prediction times against the budget (the gate's or the latency
    KPI's); without a budget the figures are recorded and the gate passes."""
    arr = np.asarray(per_row_ms, dtype=float)
    p50 = float(np.percentile(arr, 50)) if arr.size else None
    p99 = float(np.percentile(arr, 99)) if arr.size else None
    figures = {"p50_ms": _round(p50), "p99_ms": _round(p99), "max_p99_ms": max_p99_ms,
               "n": int(arr.size)}
    if max_p99_ms is None or p99 is None:
        return GateResult("latency", True, figures, "no latency budget", skipped=True)
    passed = p99 <= max_p99_ms
    return GateResult("latency", passed, figures, f"p99 {p99:.3f} ms "
                      f"{'within' if passed else 'over'} the budget {max_p99_ms:g} ms")


def prediction_sanity(candidate: np.ndarray, champion: np.ndarray | None, task: Task, *,
                      threshold: float, champion_threshold: float | None,
                      max_shift: float) -> GateResult:
    """Outputs finite and in range, not constant, and their mean (positive rate for
    classifiers) within `max_shift` of the champion's on the same rows."""
    arr = np.asarray(candidate, dtype=float)
    figures: dict[str, Any] = {"max_shift": max_shift}
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        return GateResult("prediction_sanity", False, figures, "outputs are empty or not finite")
    if task != Task.REGRESSION and (arr.min() < 0 or arr.max() > 1):
        return GateResult("prediction_sanity", False, figures, "probabilities outside [0, 1]")

    def level(a: np.ndarray, t: float) -> float:
        if task == Task.BINARY_CLASSIFICATION:
            return float(np.mean(a >= t))
        if task == Task.REGRESSION:
            return float(np.mean(a))
        return float(np.mean(np.max(a, axis=1)))

    decided = m.decisions(arr, task, threshold)
    figures["distinct_outputs"] = int(min(np.unique(decided).size, 1000))
    figures["candidate_level"] = _round(level(arr, threshold))
    if np.unique(decided).size < 2:
        return GateResult("prediction_sanity", False, figures,
                          "the candidate gives the same answer for every row")
    if champion is None:
        return GateResult("prediction_sanity", True, figures, "outputs are plausible")
    champ_level = level(np.asarray(champion, dtype=float),
                        champion_threshold if champion_threshold is not None else threshold)
    shift = abs(figures["candidate_level"] - champ_level)
    if task == Task.REGRESSION:  # relative to the champion's spread, as the shift is unitless
        spread = float(np.std(champion)) or 1.0
        shift = shift / spread
    figures.update(champion_level=_round(champ_level), shift=_round(shift))
    passed = shift <= max_shift
    return GateResult("prediction_sanity", passed, figures,
                      f"mean output shift {shift:.4f} vs the champion "
                      f"({'within' if passed else 'above'} {max_shift:g})")


def ood(train_x: np.ndarray, recent_x: np.ndarray, numeric: int, *,
        max_share: float) -> GateResult:
    """Share of recent rows outside the training data's support: a numeric value beyond the
    training range, or a category the training data never had. The first `numeric` columns
    are numeric."""
    if len(recent_x) == 0:
        return GateResult("ood", True, {"max_share": max_share}, "no recent rows", skipped=True)
    outside = np.zeros(len(recent_x), dtype=bool)
    per_feature: dict[int, float] = {}
    for j in range(train_x.shape[1]):
        if j < numeric:
            tr = np.asarray(train_x[:, j], dtype=float)
            cur = np.asarray(recent_x[:, j], dtype=float)
            finite = tr[np.isfinite(tr)]
            if finite.size == 0:
                continue
            out = np.isfinite(cur) & ((cur < finite.min()) | (cur > finite.max()))
        else:
            out = ~np.isin(recent_x[:, j], np.unique(train_x[:, j]))
        per_feature[j] = float(out.mean())
        outside |= out
    share = float(outside.mean())
    passed = share <= max_share
    return GateResult("ood", passed, {"share": _round(share), "max_share": max_share,
                                      "by_column": {str(k): round(v, 6)
                                                    for k, v in per_feature.items() if v}},
                      f"{share:.2%} of recent rows fall outside the training data "
                      f"({'within' if passed else 'above'} {max_share:.0%})")


def passed(results: Sequence[GateResult]) -> bool:
    return all(r.passed for r in results)


def summary(results: Sequence[GateResult]) -> str:
    failed = [r for r in results if not r.passed]
    if not failed:
        return "all gates passed: " + ", ".join(r.gate for r in results if not r.skipped)
    return "failed " + "; ".join(f"{r.gate}: {r.reason}" for r in failed)


def as_records(results: Sequence[GateResult]) -> list[Mapping[str, Any]]:
    return [r.to_dict() for r in results]
