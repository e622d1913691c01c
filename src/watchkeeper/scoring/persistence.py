"""Persistence: tell a transient blip from persistent trouble, and keep tiers from flapping.

A small state machine per model, fed one window at a time:

* **k-of-n to enter.** A tier is entered when at least `required` (k) of the last `windows` (n)
  raw tiers reach it. One noisy window cannot page anybody.
* **Hysteresis to leave.** A tier is left only after `clear` consecutive windows below its
  *leave* threshold, which is the enter threshold minus `hysteresis` points; a score hovering
  around a band edge therefore does not toggle the tier.
* **Catastrophic bypass.** A window with a catastrophic signal takes its raw tier at once.
* **Flapping held open.** When a model re-enters T1+ `flap_reentries` times within
  `flap_window` windows, it is flagged as flapping; while flapping, its tier does not drop
  below the highest raw tier of the last `flap_window` windows, so the incident stays open
  instead of being resolved and re-fired. The hold decays on its own once the model stops
  reaching that tier, and the flag clears after `flap_window` windows in a row below every
  leave threshold.

The state is plain data (`to_dict` / `from_dict`), so the service stores it per model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.core.enums import Tier
from watchkeeper.scoring.config import PersistenceConfig, TierBands
from watchkeeper.scoring.tiers import tier_for


@dataclass(slots=True)
class PersistenceState:
    tier: int = 0
    raw: list[int] = field(default_factory=list)  # last n raw (enter-threshold) tiers
    recent: list[int] = field(default_factory=list)  # last flap_window raw tiers
    leave: list[int] = field(default_factory=list)  # last `clear` leave-threshold tiers
    reentries: list[int] = field(default_factory=list)  # steps at which T0 -> T1+ happened
    flapping: bool = False
    quiet: int = 0  # consecutive windows below every leave threshold
    step: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier, "raw": list(self.raw), "recent": list(self.recent),
            "leave": list(self.leave),
            "reentries": list(self.reentries), "flapping": self.flapping,
            "quiet": self.quiet, "step": self.step,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PersistenceState:
        if not data:
            return cls()
        return cls(
            tier=int(data.get("tier", 0)), raw=[int(x) for x in data.get("raw", [])],
            recent=[int(x) for x in data.get("recent", [])],
            leave=[int(x) for x in data.get("leave", [])],
            reentries=[int(x) for x in data.get("reentries", [])],
            flapping=bool(data.get("flapping", False)), quiet=int(data.get("quiet", 0)),
            step=int(data.get("step", 0)),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    tier: Tier  # what the window is reported as
    raw_tier: Tier  # what its score alone says
    bypassed: bool  # a catastrophic signal skipped confirmation
    flapping: bool
    held: bool  # the tier would have dropped but flapping holds it open


def _confirmed(history: list[int], required: int) -> int:
    """Highest tier reached by at least `required` entries of `history`."""
    for t in (3, 2, 1):
        if sum(1 for x in history if x >= t) >= required:
            return t
    return 0


def step(
    state: PersistenceState,
    value: float,
    bands: TierBands,
    config: PersistenceConfig,
    *,
    catastrophic: bool = False,
) -> tuple[Decision, PersistenceState]:
    """Feed one window's score; returns the decision and the new state (input untouched)."""
    raw = int(tier_for(value, bands))
    low = int(tier_for(value, bands, lowered_by=config.hysteresis))
    n, clear = config.windows, config.clear_windows
    new = PersistenceState(
        tier=state.tier,
        raw=([*state.raw, raw])[-n:],
        recent=([*state.recent, raw])[-config.flap_window:],
        leave=([*state.leave, low])[-clear:],
        reentries=[s for s in state.reentries if s > state.step - config.flap_window],
        flapping=state.flapping,
        quiet=state.quiet + 1 if low == 0 else 0,
        step=state.step + 1,
    )
    confirmed = _confirmed(new.raw, config.required)
    up = max(confirmed, raw) if catastrophic else confirmed
    # The current tier stays while any of the last `clear` windows was above its leave line.
    keep = max(new.leave) if len(new.leave) == clear else max([*new.leave, state.tier])
    proposed = max(up, min(state.tier, keep))
    held = False
    if new.flapping:
        if new.quiet >= config.flap_window:
            new.flapping = False
        else:
            hold = min(state.tier, max(new.recent))
            if hold > proposed:
                proposed, held = hold, True
    if state.tier == 0 and proposed > 0:
        new.reentries.append(new.step)
        if len(new.reentries) >= config.flap_reentries + 1:
            new.flapping = True
            new.quiet = 0
    new.tier = proposed
    return (
        Decision(Tier(proposed), Tier(raw), up > confirmed and up > state.tier, new.flapping, held),
        new,
    )
