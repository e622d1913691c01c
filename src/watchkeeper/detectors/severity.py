"""Monotone mappings from a detector's evidence to a severity in [0, 1].

Every signal's severity comes from here, so a 0.7 means the same thing whichever detector said
it. Two ingredients:

* **Magnitude** — how large the effect is *relative to the smallest effect that matters*
  (``min_effect``, the detector's configured threshold). With ``r = effect / min_effect`` the
  magnitude is the Hill curve ``r**k / (1 + r**k)`` (a logistic in ``log r``), so

  ====================  ========
  effect                magnitude
  ====================  ========
  0                     0
  min_effect / 2        0.2 (k=2)
  min_effect            0.5
  2 x min_effect        0.8
  3 x min_effect        0.9
  ====================  ========

  ``k`` (``steepness``, default 2) sets how quickly severity saturates.

* **Significance** — a factor in [0, 1] that is 1 when ``p <= alpha`` and falls to 0 as
  ``p -> 1`` (linearly in ``log p``: ``log(p) / log(alpha)``). An effect that the data cannot
  distinguish from noise is therefore damped, however large it looks on a small sample; when a
  detector has no p-value the factor is 1.

``severity = magnitude(effect) * significance(p)``: non-decreasing in the effect size and
non-increasing in the p-value (the hypothesis tests in tests/detectors check both).
"""

from __future__ import annotations

import math

DEFAULT_ALPHA = 0.05
DEFAULT_STEEPNESS = 2.0


def magnitude(effect: float, min_effect: float, *, steepness: float = DEFAULT_STEEPNESS) -> float:
    """Hill curve of ``effect / min_effect``: 0 at 0, 0.5 at ``min_effect``, towards 1 beyond.

    Negative or NaN effects count as no effect; an infinite effect is 1.
    """
    if min_effect <= 0 or not math.isfinite(min_effect):
        raise ValueError(f"min_effect must be a positive finite number, got {min_effect}")
    if steepness <= 0:
        raise ValueError(f"steepness must be positive, got {steepness}")
    if math.isnan(effect) or effect <= 0:
        return 0.0
    if math.isinf(effect):
        return 1.0
    # r**k / (1 + r**k) written as 1 / (1 + r**-k) so that huge r cannot overflow.
    log_r = math.log(effect) - math.log(min_effect)  # a ratio could underflow to 0
    z = -steepness * log_r
    if z > 700:  # exp would overflow; the value is 0 to double precision
        return 0.0
    return 1.0 / (1.0 + math.exp(z))


def significance(p_value: float | None, *, alpha: float = DEFAULT_ALPHA) -> float:
    """1 when ``p <= alpha``, ``log(p) / log(alpha)`` between alpha and 1, 0 at ``p = 1``.

    None (a detector without a test) is fully significant; NaN counts as ``p = 1``.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if p_value is None:
        return 1.0
    if math.isnan(p_value) or p_value >= 1.0:
        return 0.0
    if p_value <= alpha:
        return 1.0
    return math.log(p_value) / math.log(alpha)


def severity(
    effect: float,
    min_effect: float,
    p_value: float | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    steepness: float = DEFAULT_STEEPNESS,
) -> float:
    """The documented mapping: ``magnitude(effect / min_effect) * significance(p)``."""
    value = magnitude(effect, min_effect, steepness=steepness) * significance(p_value, alpha=alpha)
    return min(1.0, max(0.0, value))


def severity_over_budget(
    value: float, budget: float, *, higher_is_worse: bool = True, steepness: float = 4.0
) -> float:
    """Severity of a measured value against a budget (a KPI bound or latency limit).

    The effect is the relative excess over the budget (``value / budget - 1`` when higher is
    worse, ``1 - value / budget`` when lower is worse), mapped so that being exactly on the
    budget is 0 and a 10% excess is 0.5 (``min_effect = 0.1``). No p-value: a budget is a
    promise, not a hypothesis.
    """
    if budget == 0 or not math.isfinite(budget):
        raise ValueError(f"budget must be a non-zero finite number, got {budget}")
    if math.isnan(value):
        return 0.0
    excess = value / budget - 1.0 if higher_is_worse else 1.0 - value / budget
    if budget < 0:  # keep "worse" meaning worse for negative budgets (rare, e.g. a log score)
        excess = -excess
    return severity(excess, 0.1, steepness=steepness)


# A drift effect (the drift routine's Wasserstein effect size: a shift in reference sds, or the
# share of category mass that moved) of 0.1 is "clearly there but modest"; severity 0.5 sits
# there rather than at the routine's min_effect (0.02), which only marks where a significant
# change stops being negligible — at 0.02 drift severity is 0.04.
DRIFT_HALF_EFFECT = 0.1


def drift_severity(
    effect: float, p_value: float | None, *, min_effect: float = 0.0, alpha: float = DEFAULT_ALPHA
) -> float:
    """Severity of one feature's drift: ``severity(effect, max(min_effect, 0.1), p_value)``,
    with ``p_value`` the multiple-testing adjusted one (None for distance methods)."""
    return severity(effect, max(min_effect, DRIFT_HALF_EFFECT), p_value, alpha=alpha)
