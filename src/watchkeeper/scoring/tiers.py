"""Tiers from score bands: T0 healthy .. T3 critical."""

from __future__ import annotations

from watchkeeper.core.enums import Tier
from watchkeeper.scoring.config import TierBands

MEANING = {
    Tier.T0: "healthy",
    Tier.T1: "worth a look during working hours",
    Tier.T2: "needs attention soon",
    Tier.T3: "critical, act now",
}


def tier_for(value: float, bands: TierBands, *, lowered_by: float = 0.0) -> Tier:
    """The highest tier whose threshold (minus `lowered_by`, for leave thresholds) is reached."""
    t1, t2, t3 = bands.as_tuple()
    if value >= t3 - lowered_by:
        return Tier.T3
    if value >= t2 - lowered_by:
        return Tier.T2
    if value >= t1 - lowered_by:
        return Tier.T1
    return Tier.T0


def threshold(tier: Tier, bands: TierBands) -> float:
    """The score at which `tier` is entered (0 for T0)."""
    return (0.0, *bands.as_tuple())[int(tier)]
