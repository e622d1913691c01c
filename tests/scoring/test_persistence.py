from __future__ import annotations

from watchkeeper.core.enums import Tier
from watchkeeper.scoring.config import PersistenceConfig, TierBands
from watchkeeper.scoring.persistence import PersistenceState, step

BANDS = TierBands()  # 30 / 60 / 85


def run(values: list[float], cfg: PersistenceConfig | None = None,
        catastrophic: set[int] = frozenset()) -> list[Tier]:
    cfg = cfg or PersistenceConfig()
    state, tiers = PersistenceState(), []
    for i, v in enumerate(values):
        d, state = step(state, v, BANDS, cfg, catastrophic=i in catastrophic)
        tiers.append(d.tier)
    return tiers


def test_a_single_blip_pages_nobody() -> None:
    assert run([0, 0, 95, 0, 0, 0]) == [Tier.T0] * 6


def test_two_of_three_windows_confirm_a_tier() -> None:
    assert run([0, 70, 0, 70, 0])[:4] == [Tier.T0, Tier.T0, Tier.T0, Tier.T2]
    assert run([70, 70])[-1] == Tier.T2


def test_catastrophic_signal_bypasses_confirmation() -> None:
    state = PersistenceState()
    d, _ = step(state, 90, BANDS, PersistenceConfig(), catastrophic=True)
    assert d.tier == Tier.T3 and d.bypassed


def test_hysteresis_keeps_the_tier_while_the_score_hovers_at_the_edge() -> None:
    # 58 is below T2's enter threshold (60) but above its leave threshold (50).
    tiers = run([70, 70, 58, 62, 58, 59, 58])
    assert all(t == Tier.T2 for t in tiers[1:])


def test_tier_steps_down_after_clear_windows_below_the_leave_threshold() -> None:
    tiers = run([70, 70, 10, 10, 10])
    assert tiers[1] == Tier.T2
    assert tiers[2] == Tier.T2  # one clear window is not enough (clear = 3 - 2 + 1 = 2)
    assert tiers[3] == Tier.T0


def test_flapping_is_detected_and_held_open() -> None:
    cfg = PersistenceConfig(windows=1, required=1, clear=1, flap_window=12, flap_reentries=2)
    pattern = [70, 0, 70, 0, 70, 0, 0, 0]
    state, decisions = PersistenceState(), []
    for v in pattern:
        d, state = step(state, v, BANDS, cfg)
        decisions.append(d)
    tiers = [d.tier for d in decisions]
    # Fires, clears, fires again, clears; the third entry marks flapping and is then held.
    assert tiers[:5] == [Tier.T2, Tier.T0, Tier.T2, Tier.T0, Tier.T2]
    assert all(t == Tier.T2 for t in tiers[5:])
    assert decisions[-1].flapping and decisions[-1].held


def test_flapping_clears_after_a_quiet_flap_window() -> None:
    cfg = PersistenceConfig(windows=1, required=1, clear=1, flap_window=4, flap_reentries=2)
    tiers = run([70, 0, 70, 0, 70] + [0] * 6, cfg)
    assert tiers[-1] == Tier.T0


def test_state_round_trips_through_a_dict() -> None:
    state = PersistenceState()
    for v in (70, 0, 90):
        _, state = step(state, v, BANDS, PersistenceConfig())
    again = PersistenceState.from_dict(state.to_dict())
    assert again == state
    assert PersistenceState.from_dict(None) == PersistenceState()


def test_input_state_is_not_mutated() -> None:
    state = PersistenceState()
    step(state, 90, BANDS, PersistenceConfig())
    assert state == PersistenceState()


def test_a_flapping_hold_decays_once_the_model_stops_reaching_the_tier() -> None:
    cfg = PersistenceConfig(windows=1, required=1, clear=1, flap_window=6, flap_reentries=2)
    # Flaps at T3, then only grazes T1 now and then: held at T3 for at most flap_window
    # windows, then no longer pinned to T3 although the flag stays until it is quiet.
    values = [90, 0, 90, 0, 90, 0, 35, 0, 0, 35, 0, 0, 35, 0]
    state, decisions = PersistenceState(), []
    for v in values:
        d, state = step(state, v, BANDS, cfg)
        decisions.append(d)
    assert decisions[5].tier == Tier.T3 and decisions[5].held
    assert decisions[-1].tier <= Tier.T1 and decisions[-1].flapping
