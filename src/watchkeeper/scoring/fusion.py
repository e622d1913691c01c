"""Fusion: many signals of one window -> one score in 0..100. Pure and deterministic.

The rule (justified in docs/scoring.md):

1. Calibrated evidence per signal: severity above the kind's noise floor, rescaled to 0..1 and
   tempered by the feature's importance (1 for the most important feature),
   ``e = (1 + importance) / 2 * max(0, (severity - floor_kind) / (1 - floor_kind))``.
   The floor is what the kind's detectors say on healthy windows (fitted by calibration), so
   each part is measured against its own false-alarm rate. Importance only tempers: a feature
   the model barely uses still counts half, because a broken input is a broken pipeline.
2. Per kind, a soft maximum (the p-norm, p = 4 by default): ``E_k = min(1, (sum e^p)^(1/p))``.
   One strong signal passes through unchanged (``E_k >= max e``), while n equal weak ones
   add up only as ``n^(1/p)`` (50 features at 0.1 give 0.27, not 5.0).
3. Across kinds, an additive hazard with a noisy-OR read-out:
   ``score = 100 * (1 - exp(-c * sum_k w_k E_k))`` with ``w_k`` the kind's weight and ``c``
   the context multiplier. Each kind is an independent chance that the model is in trouble,
   so the score is never below what the strongest kind alone says (no averaging that hides a
   failing part), independent kinds that agree reinforce each other, and the score saturates
   below 100. Hazards add, so each signal's share of the score is exactly its share of the
   hazard.
4. A catastrophic signal counts as full evidence and lifts the score to at least the T3 band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import Signal
from watchkeeper.scoring.config import ScoringConfig


@dataclass(frozen=True, slots=True)
class Part:
    """One signal's place in the score."""

    signal: Signal
    evidence: float  # calibrated, importance-weighted, 0..1
    hazard: float  # its part of the (context-adjusted) hazard
    share: float  # hazard / total hazard, 0..1


@dataclass(frozen=True, slots=True)
class Fusion:
    value: float  # 0..100
    hazard: float  # after the context multiplier
    multiplier: float
    kind_evidence: dict[SignalKind, float]
    parts: tuple[Part, ...]  # only signals with evidence > 0, largest share first
    catastrophic: bool


def signal_evidence(
    signal: Signal, config: ScoringConfig, importance: Mapping[str, float] | None = None
) -> float:
    """Step 1: calibrated, importance-weighted evidence of one signal, in [0, 1]."""
    if signal.catastrophic:
        return 1.0
    floor = config.floor(signal.kind)
    excess = signal.severity - floor
    if excess <= 0.0:
        return 0.0
    value = excess / (1.0 - floor)
    if importance and signal.feature is not None:
        # A feature without a known importance is not discounted: unknown is not unimportant.
        value *= 0.5 + 0.5 * importance.get(signal.feature, 1.0)
    return min(1.0, value)


def _grouped(
    signals: Sequence[Signal], config: ScoringConfig, importance: Mapping[str, float] | None
) -> dict[SignalKind, list[tuple[Signal, float]]]:
    groups: dict[SignalKind, list[tuple[Signal, float]]] = {}
    for s in signals:
        e = signal_evidence(s, config, importance)
        if e > 0.0:
            groups.setdefault(s.kind, []).append((s, e))
    return groups


def _pnorm(values: Sequence[float], p: float) -> float:
    return min(1.0, math.fsum(v**p for v in values) ** (1.0 / p))


def kind_evidence(
    signals: Sequence[Signal],
    config: ScoringConfig,
    importance: Mapping[str, float] | None = None,
) -> dict[SignalKind, float]:
    """Step 2: the soft maximum of evidence per kind (kinds without evidence are absent)."""
    p = config.softmax_power
    return {
        kind: _pnorm([e for _, e in items], p)
        for kind, items in _grouped(signals, config, importance).items()
    }


def score_from_hazard(hazard: float) -> float:
    return 100.0 * (1.0 - math.exp(-hazard))


def hazard_for_score(value: float) -> float:
    """Inverse of `score_from_hazard` (for value < 100)."""
    return -math.log(1.0 - value / 100.0)


def fuse(
    signals: Sequence[Signal],
    config: ScoringConfig,
    *,
    importance: Mapping[str, float] | None = None,
    multiplier: float = 1.0,
) -> Fusion:
    """Steps 1-4 for one window; `multiplier` comes from context.context_multiplier."""
    if multiplier < 0 or not math.isfinite(multiplier):
        raise ValueError(f"context multiplier must be finite and >= 0, got {multiplier}")
    p = config.softmax_power
    groups = _grouped(signals, config, importance)
    kinds: dict[SignalKind, float] = {}
    raw_parts: list[tuple[Signal, float, float]] = []  # signal, evidence, hazard
    for kind, items in groups.items():
        powers = [e**p for _, e in items]
        mass = math.fsum(powers)
        e_kind = min(1.0, mass ** (1.0 / p))
        kinds[kind] = e_kind
        h_kind = multiplier * config.weight(kind) * e_kind
        for (s, e), pw in zip(items, powers, strict=True):
            raw_parts.append((s, e, h_kind * pw / mass))
    hazard = math.fsum(h for _, _, h in raw_parts)
    value = score_from_hazard(hazard)
    catastrophic = any(s.catastrophic for s in signals)
    if catastrophic:
        value = max(value, config.bands.t3)
    parts = tuple(
        sorted(
            (Part(s, e, h, h / hazard if hazard > 0 else 0.0) for s, e, h in raw_parts),
            key=lambda part: (-part.share, part.signal.kind.value, part.signal.feature or ""),
        )
    )
    return Fusion(
        value=round(value, 6),
        hazard=hazard,
        multiplier=multiplier,
        kind_evidence=kinds,
        parts=parts,
        catastrophic=catastrophic,
    )
