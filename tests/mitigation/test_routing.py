from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.mitigation.routing import KillSwitch, RoutingState, bucket, route

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)


def test_champion_serves_everything_without_a_canary() -> None:
    state = RoutingState("m", champion=3)
    assert {route(state, f"k{i}", NOW).version for i in range(100)} == {3}


def test_canary_takes_its_share_by_stable_key() -> None:
    state = RoutingState("m", champion=3, canary=4, canary_share=0.25, revision=7)
    decisions = [route(state, f"customer-{i}", NOW) for i in range(20_000)]
    share = sum(d.role == "canary" for d in decisions) / len(decisions)
    assert share == pytest.approx(0.25, abs=0.015)
    assert route(state, "customer-42", NOW) == route(state, "customer-42", NOW)
    assert all(d.revision == 7 for d in decisions[:10])


def test_bucket_is_uniform_enough() -> None:
    values = [bucket(str(i)) for i in range(10_000)]
    assert min(values) >= 0 and max(values) < 1
    assert sum(v < 0.5 for v in values) == pytest.approx(5000, abs=200)


def test_kill_switch_routes_to_previous_version_until_it_expires() -> None:
    ks = KillSwitch(active=True, reason="bias found", expires_at=NOW + timedelta(hours=1))
    state = RoutingState("m", champion=3, fallback_version=2, canary=4, canary_share=1.0,
                         kill_switch=ks)
    d = route(state, "x", NOW)
    assert (d.version, d.role) == (2, "fallback") and "bias found" in d.reason
    assert route(state, "x", NOW + timedelta(hours=2)).role == "canary"


@pytest.mark.parametrize(
    ("fallback", "role", "rule"),
    [("reject", "reject", None), ("rule:credit.rules:approve", "rule", "credit.rules:approve")],
)
def test_kill_switch_reject_and_rule_fallbacks(fallback: str, role: str, rule: str | None) -> None:
    state = RoutingState("m", champion=3, kill_switch=KillSwitch(active=True, fallback=fallback))
    d = route(state, "x", NOW)
    assert (d.version, d.role, d.rule) == (None, role, rule)


def test_no_previous_version_means_reject_with_reason() -> None:
    state = RoutingState("m", champion=1, kill_switch=KillSwitch(active=True))
    d = route(state, "x", NOW)
    assert d.role == "reject" and "no previous version" in d.reason


def test_shadow_is_reported_but_never_serves() -> None:
    d = route(RoutingState("m", champion=1, shadow=2), "x", NOW)
    assert (d.version, d.shadow) == (1, 2)
