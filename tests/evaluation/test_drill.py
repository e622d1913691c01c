"""`watchkeeper drill`: who is paged when on a simulated clock, and each kind of gap found in a
policy built to have it (and not found in one that does not)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import watchkeeper.policy as policy_pkg
from watchkeeper.cli.app import app
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError
from watchkeeper.evaluation.drill import run_drill
from watchkeeper.policy import parse_policy

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")
START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday: carol's week on call
ENV = {"OPS_SLACK_URL": "x", "PD_ROUTING_KEY": "x", "SMTP_USER": "x", "SMTP_PASSWORD": "x"}


def policy(*edits: tuple[str, str]):  # type: ignore[no-untyped-def]
    text = STARTER.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return parse_policy(text, str(STARTER))


def kinds(report) -> set[str]:  # type: ignore[no-untyped-def]
    return {g.kind for g in report.gaps}


def test_timeline_pages_the_rotation_then_the_deputy_then_escalates() -> None:
    r = run_drill(policy(), "covariate_shift", start=START, env=ENV)
    assert r.tier == Tier.T2
    events = [(s.event, s.tier.name, int(s.offset.total_seconds() // 60)) for s in r.steps]
    assert events[:3] == [("trigger", "T2", 0), ("deputy", "T2", 15), ("escalate", "T3", 30)]
    assert {s.event for s in r.steps[3:]} == {"remind"}  # T3 reminds every 5 min
    first = r.steps[0]
    oncall = next(p for p in first.people["responsible"] if p != "alice")
    assert oncall in ("carol", "dave") and first.ack_deadline == START + timedelta(minutes=30)
    assert r.steps[1].people["responsible"] == ["erin"]
    assert all(s.queued > 0 for s in r.steps)  # the real escalation tick queued each step
    assert r.gaps == []


def test_acknowledgement_stops_the_clock() -> None:
    r = run_drill(policy(), "covariate_shift", start=START, ack_after=timedelta(minutes=10),
                  env=ENV)
    assert [s.event for s in r.steps] == ["trigger", "acknowledge"]


def test_absence_hands_over_to_the_deputy() -> None:
    base = run_drill(policy(), "latency_spike", start=START, env=ENV)
    on_shift = next(p for p in base.steps[0].people["responsible"] if p != "alice")
    r = run_drill(policy(), "latency_spike", start=START, absent=[on_shift], env=ENV)
    assert "erin" in r.steps[0].people["responsible"]
    assert any(f"deputy for {on_shift} (away)" in x for x in r.steps[0].reasons)


@pytest.mark.parametrize(("name", "edits", "options", "kind", "says"), [
    ("nobody on call", (), {"absent": ["carol", "dave", "erin"]}, "nobody_on_call",
     "nobody"),
    ("unreachable channel: secret unset", (), {"env": {}}, "unreachable_channel",
     "$PD_ROUTING_KEY is not set"),
    ("ack deadline over target", (), {"max_ack": timedelta(minutes=20)}, "ack_deadline",
     "escalation.T2.ack_within"),
    ("no kill-switch pair", (("kill_switch_roles: [mlops_oncall, model_owner]",
                              "kill_switch_roles: [model_owner]"),), {}, "no_approver",
     "two people"),
    ("sign-off holder away", (), {"absent": ["alice"]}, "no_approver", "sign-off"),
    ("no deputy", (("    deputies: [erin]", "    deputies: []"),), {}, "no_deputy",
     "no deputy"),
    ("deputy away", (), {"absent": ["erin"]}, "no_deputy", "every deputy is away"),
])
def test_each_gap_is_found(name: str, edits: tuple[tuple[str, str], ...],
                           options: dict[str, object], kind: str, says: str) -> None:
    opts = {"env": ENV, **options}
    r = run_drill(policy(*edits), "concept_drift", start=START, **opts)  # type: ignore[arg-type]
    found = [g for g in r.gaps if g.kind == kind]
    assert found, f"{name}: {r.gaps}"
    assert any(says in g.detail or says in g.where for g in found), found
    clean = run_drill(policy(), "concept_drift", start=START, env=ENV)
    assert kind not in kinds(clean)


def test_unknown_scenario_person_or_model_are_named() -> None:
    with pytest.raises(InputError, match="covariate_shift"):
        run_drill(policy(), "meteor", start=START)
    with pytest.raises(InputError, match="carol"):
        run_drill(policy(), "null_flood", start=START, absent=["zed"])
    with pytest.raises(LookupError, match="credit-risk"):
        run_drill(policy(), "null_flood", start=START, model="nope")


def test_cli_prints_a_table_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "."]).exit_code == 0
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    r = runner.invoke(app, ["drill", "null_flood", "--start", START.isoformat(),
                            "--ack-after", "20m", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["tier"] == "T3" and body["steps"][-1]["event"] == "acknowledge"
    r = runner.invoke(app, ["drill", "covariate_shift", "--start", START.isoformat(),
                            "--max-ack", "10m", "--absent", "erin"])
    assert r.exit_code == 2 and "ack_deadline" in r.output and "no_deputy" in r.output
    r = runner.invoke(app, ["drill", "covariate_shift", "--ack-after", "soon"])
    assert r.exit_code == 1 and "--ack-after" in r.output
