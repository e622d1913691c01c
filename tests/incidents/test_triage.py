from datetime import UTC, datetime, timedelta

from watchkeeper.core.enums import SignalKind, Tier
from watchkeeper.core.records import Contributor, Score, WindowKey
from watchkeeper.incidents.silences import Matcher, Silence
from watchkeeper.incidents.triage import (
    Healthy,
    Open,
    OpenIncident,
    Reopen,
    Suppressed,
    TriageInput,
    Update,
    triage,
)

START = datetime(2026, 11, 2, 10, tzinfo=UTC)
WINDOW = WindowKey("credit-risk", START, START + timedelta(hours=1))


def score(tier: Tier, kind: SignalKind = SignalKind.DATA_DRIFT, feature: str = "income") -> Score:
    c = Contributor(kind=kind, share=0.8, severity=0.9, feature=feature)
    return Score(window=WINDOW, value=20.0 * tier, tier=tier, raw_tier=tier, contributors=(c,))


def test_first_t1_window_opens_one_incident_keyed_by_model_and_cause() -> None:
    [decision] = triage(TriageInput(score(Tier.T1), active=[]))
    assert isinstance(decision, Open)
    assert decision.key == "credit-risk/drift"
    assert decision.labels == {
        "model": "credit-risk",
        "kind": "drift",
        "tier": "T1",
        "feature": "income",
    }


def test_same_cause_in_another_feature_updates_instead_of_opening() -> None:
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T1)]
    [decision] = triage(TriageInput(score(Tier.T2, feature="age"), active=active))
    assert decision == Update("i1", Tier.T1, Tier.T2)
    assert decision.direction == "upgrade"


def test_prediction_drift_groups_with_data_drift() -> None:
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T2)]
    [decision] = triage(TriageInput(score(Tier.T1, SignalKind.PREDICTION_DRIFT), active=active))
    assert isinstance(decision, Update) and decision.direction == "downgrade"


def test_different_cause_opens_a_second_incident() -> None:
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T1)]
    decision, quiet = triage(TriageInput(score(Tier.T1, SignalKind.LATENCY), active=active,
                                         resolve_after_healthy_windows=3))
    assert isinstance(decision, Open) and decision.key == "credit-risk/latency"
    # nothing drifted in this window: the drift incident counts it as a healthy one
    assert quiet == Healthy("i1", 1, resolve=False)


def test_open_t3_inhibits_lesser_noise_of_the_same_model_only() -> None:
    active = [OpenIncident("i3", "credit-risk/performance", "credit-risk", Tier.T3)]
    decision, _quiet = triage(TriageInput(score(Tier.T2, SignalKind.LATENCY), active=active))
    assert isinstance(decision, Suppressed) and decision.inhibited_by == "i3"
    other = [OpenIncident("i3", "churn/performance", "churn", Tier.T3)]
    [decision] = triage(TriageInput(score(Tier.T2, SignalKind.LATENCY), active=other))
    assert isinstance(decision, Open)


def test_matching_silence_suppresses_and_names_itself() -> None:
    s = Silence(
        "s1",
        (Matcher("model", "credit-risk"), Matcher("kind", "drift")),
        START,
        None,
        "alice",
        "known upstream migration",
    )
    [decision] = triage(TriageInput(score(Tier.T2), active=[], silences=[s]))
    assert isinstance(decision, Suppressed)
    assert decision.silence_id == "s1" and "known upstream migration" in decision.reason
    [decision] = triage(TriageInput(score(Tier.T2, SignalKind.LATENCY), active=[], silences=[s]))
    assert isinstance(decision, Open)


def test_healthy_windows_resolve_only_when_the_policy_says_so() -> None:
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T1, healthy_windows=2)]
    [d] = triage(TriageInput(score(Tier.T0), active=active, resolve_after_healthy_windows=3))
    assert d == Healthy("i1", 3, resolve=True)
    [d] = triage(TriageInput(score(Tier.T0), active=active, resolve_after_healthy_windows=None))
    assert d == Healthy("i1", 3, resolve=False)


def test_a_held_tier_without_signals_continues_the_open_incident() -> None:
    held = Score(window=WINDOW, value=5.0, tier=Tier.T1, raw_tier=Tier.T0, contributors=())
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T2),
              OpenIncident("i2", "credit-risk/latency", "credit-risk", Tier.T1)]
    assert triage(TriageInput(held, active=active)) == [Update("i1", Tier.T2, Tier.T1)]
    assert triage(TriageInput(held, active=[])) == []


def test_a_problem_back_within_the_grouping_window_reopens_its_incident() -> None:
    recent = [OpenIncident("i9", "credit-risk/drift", "credit-risk", Tier.T1)]
    [d] = triage(TriageInput(score(Tier.T2), active=[], recently_resolved=recent))
    assert d == Reopen("i9", Tier.T2)
    other = [OpenIncident("i9", "credit-risk/latency", "credit-risk", Tier.T1)]
    [d] = triage(TriageInput(score(Tier.T2), active=[], recently_resolved=other))
    assert isinstance(d, Open)


def test_performance_and_drift_of_one_model_are_one_problem() -> None:
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T2)]
    [d] = triage(TriageInput(score(Tier.T2, SignalKind.ESTIMATED_PERFORMANCE), active=active))
    assert isinstance(d, Update) and d.incident_id == "i1"


def test_performance_loss_during_a_data_quality_incident_joins_it() -> None:
    active = [OpenIncident("dq", "credit-risk/data_quality", "credit-risk", Tier.T3)]
    [d] = triage(TriageInput(score(Tier.T2, SignalKind.PERFORMANCE), active=active))
    assert d == Update("dq", Tier.T3, Tier.T2)


def test_drift_of_the_broken_input_joins_the_data_quality_incident_another_input_opens_one(
) -> None:
    dq = OpenIncident("dq", "credit-risk/data_quality", "credit-risk", Tier.T1,
                      labels={"feature": "debt_ratio"})
    [same] = triage(TriageInput(score(Tier.T2, feature="debt_ratio"), active=[dq]))
    assert same == Update("dq", Tier.T1, Tier.T2)
    other, healing = triage(TriageInput(score(Tier.T2, feature="income"), active=[dq],
                                        resolve_after_healthy_windows=1))
    assert isinstance(other, Open) and other.key == "credit-risk/drift"
    assert other.labels["feature"] == "income"
    # the broken input is quiet in this window: the data-quality incident heals meanwhile
    assert healing == Healthy("dq", 1, resolve=True)


def test_a_weak_signal_under_a_held_tier_does_not_open_a_new_incident() -> None:
    c = Contributor(kind=SignalKind.DATA_QUALITY, share=1.0, severity=0.3, feature="x")
    held = Score(window=WINDOW, value=3.0, tier=Tier.T3, raw_tier=Tier.T0, contributors=(c,))
    active = [OpenIncident("i1", "credit-risk/drift", "credit-risk", Tier.T3)]
    assert triage(TriageInput(held, active=active)) == [Update("i1", Tier.T3, Tier.T3)]
