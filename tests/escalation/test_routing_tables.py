"""Routing and escalation timing as tables in YAML (routing_cases.yaml, deadline_cases.yaml)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from watchkeeper.core.enums import Tier
from watchkeeper.escalation.config import EscalationConfig
from watchkeeper.escalation.deadlines import timeline
from watchkeeper.escalation.routing import route

HERE = Path(__file__).parent


def _cases(name: str) -> list[Any]:
    doc = yaml.safe_load((HERE / name).read_text())
    return [pytest.param(doc["base"], case, id=case["name"]) for case in doc["cases"]]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(("base", "case"), _cases("routing_cases.yaml"))
def test_routing_table(base: dict[str, Any], case: dict[str, Any]) -> None:
    config = EscalationConfig.from_mapping({**base, **case.get("policy", {})})
    result = route(config, Tier.parse(case["incident"]["tier"]), _instant(case["at"]),
                   model=case["incident"].get("model"))
    expect = case["expect"]
    people = result.by_raci()
    for raci, names in expect.get("people", {}).items():
        assert people[raci] == names, f"{raci}: {people}"
    if "channels" in expect:
        assert [f"{c.channel}/{c.audience}" for c in result.channels] == expect["channels"]
    for person, reason in expect.get("reasons", {}).items():
        assert reason in {a.reason for a in result.assignments if a.person == person}


@pytest.mark.parametrize(("base", "case"), _cases("deadline_cases.yaml"))
def test_deadline_table(base: dict[str, Any], case: dict[str, Any]) -> None:
    config = EscalationConfig.from_mapping({**base, **case.get("policy", {})})
    inc = case["incident"]
    opened = _instant(inc["opened_at"])
    tl = timeline(
        config.escalation,
        Tier.parse(inc["tier"]),
        _instant(inc.get("tier_since", inc["opened_at"])) if inc.get("tier_since") else opened,
        _instant(case["now"]),
        acknowledged_at=_instant(inc["acknowledged_at"]) if inc.get("acknowledged_at") else None,
    )
    shown = tl.to_dict()
    expect = case["expect"]
    for key in ("tier", "ack_deadline", "next_escalation", "next_reminder", "stopped_by"):
        if key in expect:
            assert shown[key] == expect[key], f"{key}: {shown}"
    if "events" in expect:
        assert [e.key for e in tl.due_events()] == expect["events"]


@pytest.mark.parametrize(("snippet", "where"), [
    ({"raci": {"T1": {"responsible": ["ghost"]}}}, "raci.T1.responsible"),
    ({"raci": {"T9": {"responsible": []}}}, "raci.T9"),
    ({"oncall": {"r": {"members": ["x"], "rotation": "hourly"}}}, "oncall.r.rotation"),
    ({"oncall": {"r": {"members": ["x"], "timezone": "Mars/Olympus"}}}, "oncall.r.timezone"),
    ({"oncall": {"r": {"members": ["x"], "handoff": "25:99"}}}, "oncall.r.handoff"),
    ({"escalation": {"T2": {"ack_within": "soon"}}}, "escalation.T2.ack_within"),
    ({"escalation": {"T2": {"ack_within": "1h", "then": "T1"}}}, "escalation.T2.then"),
    ({"routes": {"T1": ["nowhere"]}}, "routes.T1[0]"),
    ({"channels": {"c": {"type": "slack", "audience": "martians"}}}, "channels.c.audience"),
    ({"people": {"a": {"away": [{"from": "2026-01-02", "until": "2026-01-01"}]}}},
     "people.a.away[0]"),
    ({"roles": {"r": ["oncall:none"]}, "people": {"a": {}}}, "roles.r"),
])
def test_bad_policy_names_the_path(snippet: dict[str, Any], where: str) -> None:
    from watchkeeper.core.errors import PolicyError

    with pytest.raises(PolicyError) as info:
        EscalationConfig.from_mapping(snippet)
    assert any(p.startswith(where + ":") for p in info.value.problems), info.value.problems


def test_starter_policy_routes_through_the_real_loader() -> None:
    from watchkeeper.policy import load_policy

    policy = load_policy(Path(__file__).parents[2] / "src/watchkeeper/policy/starter.yaml")
    config = EscalationConfig.from_policy(policy)
    result = route(config, Tier.T3, datetime.fromisoformat("2026-03-04T12:00:00+00:00"))
    assert result.people("responsible"), result
    assert result.people("accountable") == tuple(policy.roles["exec_sponsor"])
    assert {c.channel for c in result.channels} >= {r.channel for r in policy.routes[Tier.T3]}
    # `pii: true` on a feature redacts it like messages.pii_fields does.
    marked = [f for m in policy.models for f, spec in m.data_schema.features.items() if spec.pii]
    assert marked and set(marked) <= set(config.messages.pii_fields)


def test_empty_policy_routes_nowhere() -> None:
    config = EscalationConfig.from_mapping({})
    result = route(config, Tier.T3, datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
    assert result.assignments == () and result.channels == ()


@pytest.mark.parametrize("section", ["people", "roles", "raci", "oncall", "escalation",
                                     "channels", "routes"])
def test_a_section_of_the_wrong_shape_is_named(section: str) -> None:
    from watchkeeper.core.errors import PolicyError

    with pytest.raises(PolicyError) as info:
        EscalationConfig.from_mapping({section: 42})
    assert any(p.startswith(section) for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once() -> None:
    from watchkeeper.core.errors import PolicyError

    with pytest.raises(PolicyError) as info:
        EscalationConfig.from_mapping({"escalation": {"T1": {"ack_within": "x"},
                                                      "T2": {"remind_every": "-1h"}},
                                       "routes": {"T1": ["a", "b"]}})
    assert len(info.value.problems) == 4
