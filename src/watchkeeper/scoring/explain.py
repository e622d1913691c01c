"""Explanations: the top contributors of a score and a sentence a product manager can read."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import Contributor, Score, Signal, WindowKey
from watchkeeper.scoring.fusion import Fusion, Part
from watchkeeper.scoring.persistence import Decision
from watchkeeper.scoring.tiers import MEANING

_PHRASE = {
    SignalKind.DATA_DRIFT: "input '{f}' shifted away from its reference",
    SignalKind.PERFORMANCE: "measured accuracy fell",
    SignalKind.ESTIMATED_PERFORMANCE: "estimated accuracy fell",
    SignalKind.DATA_QUALITY: "the data feeding '{f}' looks broken",
    SignalKind.CALIBRATION: "predicted probabilities no longer match outcomes",
    SignalKind.LATENCY: "responses slowed down",
    SignalKind.LABEL_DELAY: "ground-truth labels are arriving late",
    SignalKind.PREDICTION_DRIFT: "the model's predictions shifted",
    SignalKind.EXTERNAL: "an external alert fired",
}
_NO_FEATURE = {
    SignalKind.DATA_DRIFT: "the inputs shifted away from their reference",
    SignalKind.DATA_QUALITY: "the input data looks broken",
}
_Z95 = 1.959963984540054


def phrase(kind: SignalKind, feature: str | None, segment: str | None = None) -> str:
    if feature is None and kind in _NO_FEATURE:
        text = _NO_FEATURE[kind]
    else:
        text = _PHRASE[kind].format(f=feature)
    if segment:
        text += f" in segment '{segment}'"
    return text


def effect_interval(signal: Signal) -> tuple[float, float] | None:
    """95% interval of the effect size: the detector's own when it gives one (details
    'interval' or 'ci'), else a Wald interval recovered from the effect and its two-sided
    p-value (se = |effect| / z(p/2)). None when neither is known or p says nothing."""
    given = signal.details.get("interval") or signal.details.get("ci")
    if given is not None and len(given) == 2:
        return (float(given[0]), float(given[1]))
    eff, p = signal.effect_size, signal.p_value
    if eff is None or p is None or not math.isfinite(eff) or not 0.0 < p < 1.0 or eff == 0:
        return None
    z = -NormalDist().inv_cdf(max(p, 1e-300) / 2.0)
    if z <= 0:
        return None
    se = abs(eff) / z
    return (eff - _Z95 * se, eff + _Z95 * se)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def contributor(part: Part) -> Contributor:
    s = part.signal
    interval = effect_interval(s)
    if interval is not None and not all(math.isfinite(v) for v in interval):
        interval = None  # stored as JSON, which has no NaN or infinity
    bits = []
    if s.effect_size is not None and math.isfinite(s.effect_size):
        bits.append(f"{s.method} effect {s.effect_size:.3g}")
        if interval:
            bits.append(f"95% interval {interval[0]:.3g} to {interval[1]:.3g}")
    detail = f" ({', '.join(bits)})" if bits else ""
    text = f"{phrase(s.kind, s.feature, s.segment)}{detail}: {part.share:.0%} of the score"
    return Contributor(
        kind=s.kind, share=round(part.share, 4), severity=s.severity, feature=s.feature,
        method=s.method, effect_size=_finite(s.effect_size), interval=interval, text=text,
    )


def summary(
    model: str, value: float, decision: Decision, contributors: Sequence[Contributor],
    *, context_reasons: Sequence[str] = (), extra: int = 0,
) -> str:
    tier = decision.tier
    if not contributors:
        if tier == 0:
            return (f"{model} looks healthy: no signal rose above its noise level "
                    f"(score {value:.0f}).")
        why = ("it keeps flapping between tiers" if decision.held
               else "the score has not stayed below the leave threshold long enough")
        return f"{model} scored {value:.0f}/100 but stays at {tier} because {why}."
    head = f"{model} scored {value:.0f}/100 ({tier}, {MEANING[tier]})"
    top = contributors[0]
    text = f"{head} mainly because {phrase_of(top)} ({top.share:.0%} of the score)"
    rest = [f"{phrase_of(c)} ({c.share:.0%})" for c in contributors[1:3]]
    if rest:
        text += "; also " + " and ".join(rest)
    more = extra + max(0, len(contributors) - 3)
    if more:
        text += f", plus {more} smaller signal(s)"
    text += "."
    if context_reasons:
        text += " Weighted up or down for " + ", ".join(context_reasons) + "."
    if decision.bypassed:
        text += " A catastrophic signal skipped the usual confirmation."
    elif decision.raw_tier > tier:
        text += f" Not yet confirmed: the score alone says {decision.raw_tier}."
    if decision.held:
        text += f" Held at {tier} because the model keeps flapping."
    elif decision.flapping:
        text += " The model is flapping between tiers."
    return text


def phrase_of(c: Contributor) -> str:
    return phrase(c.kind, c.feature)


def explain(
    window: WindowKey, fusion: Fusion, decision: Decision, config_version: str, *,
    top: int = 5, context_reasons: Sequence[str] = (),
) -> Score:
    """The stored `Score`: value, tiers, top contributors with shares, and a summary."""
    contributors = tuple(contributor(p) for p in fusion.parts[:top])
    extra = max(0, len(fusion.parts) - top)
    return Score(
        window=window, value=round(fusion.value, 3), tier=decision.tier,
        raw_tier=decision.raw_tier, contributors=contributors, config_version=config_version,
        summary=summary(window.model, fusion.value, decision, contributors,
                        context_reasons=context_reasons if fusion.parts else (), extra=extra),
    )

