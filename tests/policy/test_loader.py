from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from watchkeeper.core.enums import FeatureType, Tier
from watchkeeper.core.errors import NotFoundError, PolicyError
from watchkeeper.policy import (
    Policy,
    format_duration,
    load_policy,
    parse_duration,
    parse_policy,
)
from watchkeeper.policy.common import custom_error
from watchkeeper.policy.loader import MAX_EXPANDED_NODES

from .helpers import MINIMAL, model_entry


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value.problems


def test_minimal_policy_loads() -> None:
    policy = parse_policy(MINIMAL)
    assert policy.model_names() == ["scoring-model"]
    assert policy.escalation[Tier.T1].ack_within == timedelta(hours=4)


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        MINIMAL.replace("task: binary_classification", "task: binary")  # line 4
        .replace("{metric: f1, min: 0.5}", "{metric: f1, min: 0.5, max: 0.1}")  # line 14
        .replace("bob: {email: bob@example.com}", "bob: {email: nope}")  # line 17
        .replace("ack_within: 4h", "ack_within: soon")  # line 22
        .replace("routes: {T1: [ops]}", "routes: {T1: [ops, pager]}")  # line 24
        .replace("playbooks: {T1: [notify]}", "playbooks: {T1: [nap]}")  # line 25
    )
    assert problems_of(text) == [
        "models[0].task: unknown task 'binary'; expected one of binary_classification, "
        "multiclass_classification, regression (line 4)",
        "models[0].kpis[0]: min 0.5 is above max 0.1 (line 14)",
        "people.bob.email: invalid email address 'nope'; expected name@domain (line 17)",
        "escalation.T1.ack_within: invalid duration 'soon'; expected a number and a unit: ms, "
        "s, m, h, d or w (e.g. 90s, 30m, 4h, 1d) (line 22)",
        "routes.T1[1].channel: unknown channel 'pager'; expected one of ops (line 24)",
        "playbooks.T1[0]: unknown action 'nap'; expected one of notify, page, human_review, "
        "retrain, rollback, kill_switch, quarantine, freeze, recalibrate_threshold (line 25)",
    ]


def test_references_are_checked_even_when_another_section_is_broken() -> None:
    text = MINIMAL.replace("ack_within: 4h", "ack_within: 4").replace(
        "routes: {T1: [ops]}", "routes: {T1: [opz]}")
    problems = problems_of(text)
    assert len(problems) == 2
    assert problems[0].startswith("escalation.T1.ack_within: invalid duration 4;")
    assert problems[1] == "routes.T1[0].channel: unknown channel 'opz'; expected one of ops " \
        "(line 24)"


def test_line_numbers_follow_block_style_keys() -> None:
    text = MINIMAL.replace(
        "channels: {ops: {type: console}}",
        "channels:\n  ops:\n    type: console\n  hook:\n    type: webhook\n"
        "    url_env: HOOK_URL\n    timeout: fast\n",
    )
    # channels starts on line 23; `timeout:` is the 7th line of the block.
    assert problems_of(text) == [
        "channels.hook.timeout: invalid duration 'fast'; expected a number and a unit: ms, s, "
        "m, h, d or w (e.g. 90s, 30m, 4h, 1d) (line 29)",
    ]


def test_several_models_point_at_their_own_lines() -> None:
    text = MINIMAL.replace("people:", model_entry("second", owner="zoe") + "people:")
    assert problems_of(text) == [
        "models[1].owner: unknown person 'zoe'; expected one of alice, bob (line 17)"
    ]


def test_yaml_syntax_error_becomes_a_policy_error_with_the_line() -> None:
    problems = problems_of("version: 1\nmodels: [\n  {name: a\n")
    assert len(problems) == 1
    assert problems[0].startswith("yaml: ")
    assert problems[0].endswith("(line 4)")


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n", "---\n"])
def test_empty_policy_says_what_is_expected(text: str) -> None:
    assert problems_of(text) == [
        "(root): the policy is empty; expected a mapping with at least `version: 1` and "
        "`models:` (see `watchkeeper init`)"
    ]


def test_several_documents_are_refused() -> None:
    problems = problems_of(MINIMAL + "---\nversion: 1\n")
    assert problems == ["yaml: but found another document (expected a single document in the "
                        "stream on line 1) (line 26)"]


def test_empty_section_counts_as_absent() -> None:
    policy = parse_policy(MINIMAL + "retention:\n")
    assert policy.retention.events == timedelta(days=90)


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = MINIMAL.replace(
        "owner: alice", f"owner: !!python/object/apply:os.system ['touch {marker}']", 1
    )
    problems = problems_of(text)
    assert problems == [
        "yaml: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' (line 5)"
    ]
    assert not marker.exists()


def test_alias_bomb_is_refused_before_validation() -> None:
    lines = ["version: 1", "l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10**9 values once expanded
        refs = ", ".join([f"*l{i - 1}"] * 10)
        lines.append(f"l{i}: &l{i} [{refs}]")
    lines.append("models: *l8")
    started = time.perf_counter()
    problems = problems_of("\n".join(lines) + "\n")
    assert problems[0].startswith(f"yaml: aliases expand to more than {MAX_EXPANDED_NODES:,}")
    assert time.perf_counter() - started < 60  # a guard against hanging, not a speed claim


def test_modest_aliases_and_merge_keys_still_work() -> None:
    text = MINIMAL.replace(
        "people:\n  alice: {email: alice@example.com}",
        "people:\n  alice: &base {email: alice@example.com, timezone: Europe/Berlin}\n"
        "  carol: {<<: *base, email: carol@example.com}",
    )
    policy = parse_policy(text)
    assert policy.people["carol"].timezone == "Europe/Berlin"
    assert policy.people["carol"].email == "carol@example.com"


def test_deep_nesting_is_refused_cleanly() -> None:
    depth = 20_000
    problems = problems_of("version: 1\nmodels: " + "[" * depth + "]" * depth + "\n")
    assert len(problems) == 1


def test_unicode_names_of_people_features_and_roles_are_accepted() -> None:
    text = (
        MINIMAL.replace("x: {type: numeric, min: 0}", "größe: {type: numeric, min: 0}")
        .replace("alice", "josé")
        .replace("bob", "李雷")
        .replace("owner:", "owner:")
    )
    policy = parse_policy(text)
    model = policy.model("scoring-model")
    assert model.feature_types()["größe"] is FeatureType.NUMERIC
    assert policy.role_members("owner") == ["josé"]
    assert policy.oncall["ops"].members == ["josé", "李雷"]


def test_unicode_model_name_is_refused_with_the_rule() -> None:
    problems = problems_of(MINIMAL.replace("name: scoring-model", "name: crédit"))
    assert problems == [
        "models[0].name: invalid name 'crédit'; expected a lowercase slug of a-z, 0-9, '-' "
        "and '_' starting and ending with a letter or digit (e.g. credit-risk) (line 3)"
    ]


def test_unicode_problem_after_unicode_text_keeps_its_line() -> None:
    text = MINIMAL.replace("bob: {email: bob@example.com}",
                           "bob: {name: Zoë 🚀 Ünïcode, email: bob@example.com, timezone: Mars}")
    assert problems_of(text) == [
        "people.bob.timezone: unknown timezone 'Mars'; expected an IANA name such as "
        "Europe/Berlin or UTC (line 17)"
    ]


def test_ten_thousand_models_parse() -> None:
    """A large fleet parses (timing lives in benchmarks/policy.py, not here)."""
    entries = "".join(model_entry(f"m{i:05d}") for i in range(10_000))
    policy = parse_policy(MINIMAL.replace("people:", entries + "people:"))
    assert len(policy.models) == 10_001
    assert policy.model("m09999").window.events == 5000


def test_problem_deep_in_a_large_fleet_points_at_its_line() -> None:
    entries = [model_entry(f"m{i:04d}") for i in range(2000)]
    entries[1500] = entries[1500].replace("task: regression", "task: regresion")
    text = MINIMAL.replace("people:", "".join(entries) + "people:")
    line = 15 + 1500 * 6 + 1  # entries start on line 15, 6 lines each; task is the 2nd
    assert problems_of(text) == [
        f"models[1501].task: unknown task 'regresion'; expected one of binary_classification, "
        f"multiclass_classification, regression (line {line})"
    ]


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["4 hours", "30", "h", "-1h", "1y", "", "0s"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(type(custom_error("x"))):
        parse_duration(text)


@pytest.mark.parametrize("td", [timedelta(seconds=90), timedelta(days=7), timedelta(hours=36),
                                timedelta(milliseconds=1500)])
def test_durations_format_back_exactly(td: timedelta) -> None:
    assert parse_duration(format_duration(td)) == td


# --- helpers other stages call ------------------------------------------------------------------


def test_model_lookup_names_the_known_models() -> None:
    policy = parse_policy(MINIMAL.replace("people:", model_entry("zeta") + "people:"))
    with pytest.raises(NotFoundError, match=r"unknown model 'nope'; expected one of "
                       r"scoring-model, zeta"):
        policy.model("nope")


def test_model_signals_override_only_what_it_writes() -> None:
    text = MINIMAL.replace(
        "    window: {every: 1h}\n",
        "    window: {every: 1h}\n"
        "    signals: {drift: {min_effect: 0.2}, quality: {stuck_windows: 9}}\n",
    ).replace("people:", "signals: {drift: {alpha: 0.01, numeric: psi}}\npeople:")
    policy = parse_policy(text)
    effective = policy.signals_for("scoring-model")
    assert effective.drift.min_effect == 0.2  # the model's own
    assert effective.drift.alpha == 0.01  # the top-level default, not the field default
    assert effective.drift.numeric == "psi"
    assert effective.quality.stuck_windows == 9
    assert effective.quality.max_null_rate_increase == policy.signals.quality.max_null_rate_increase


def test_feature_types_and_roles_and_chain() -> None:
    text = MINIMAL.replace(
        "escalation: {T1: {ack_within: 4h}}",
        "escalation: {T1: {ack_within: 4h, then: T2}, T2: {ack_within: 1h, then: T3}, "
        "T3: {ack_within: 10m}}",
    ).replace("routes: {T1: [ops]}", "routes: {T1: [ops], T2: [ops], T3: [ops]}")
    policy = parse_policy(text)
    assert policy.model("scoring-model").feature_types() == {
        "x": FeatureType.NUMERIC, "c": FeatureType.CATEGORICAL}
    assert policy.role_members("oncall_role") == ["oncall:ops"]
    assert policy.escalation_chain(Tier.T1) == [Tier.T1, Tier.T2, Tier.T3]
    assert policy.scoring.tiers.tier_for(61) is Tier.T2
    assert policy.scoring.tiers.tier_for(10) is Tier.T0
    with pytest.raises(NotFoundError, match="unknown role 'cfo'"):
        policy.role_members("cfo")


def test_model_roles_override_top_level_roles() -> None:
    text = MINIMAL.replace("    window: {every: 1h}\n",
                           "    window: {every: 1h}\n    roles: {owner: bob}\n")
    policy = parse_policy(text)
    assert policy.role_members("owner", model="scoring-model") == ["bob"]
    assert policy.role_members("owner") == ["alice"]


def test_reference_path_is_relative_to_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "watchkeeper.yaml"
    path.write_text(MINIMAL)
    policy = load_policy(path)
    assert policy.reference_path("scoring-model") == (tmp_path / "conf" / "ref.parquet").resolve()
    assert policy.where("models[0].reference") == "models[0].reference (line 6)"


def test_dump_and_reload_gives_the_same_policy() -> None:
    policy = parse_policy((Path(__file__).parents[2] / "src/watchkeeper/policy/starter.yaml")
                          .read_text())
    dumped = json.loads(policy.model_dump_json())
    again = parse_policy(yaml.safe_dump(dumped, allow_unicode=True))
    assert again.model_dump() == policy.model_dump()


def test_python_construction_checks_references_too() -> None:
    data = yaml.safe_load(MINIMAL)
    data["routes"] = {"T1": ["nowhere"]}
    with pytest.raises(ValidationError) as caught:
        Policy.model_validate(data)
    [error] = caught.value.errors()
    assert error["loc"] == ("routes", "T1", 0, "channel")
    assert "unknown channel 'nowhere'" in error["msg"]


def test_oversized_policy_is_refused_before_parsing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("watchkeeper.policy.loader.MAX_POLICY_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text(MINIMAL + "#" * 1000 + "\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.problems == [f"(file): {path.stat().st_size:,} bytes; a policy may have "
                                     "at most 1,000"]
    with pytest.raises(PolicyError, match="characters; a policy may have at most 1,000"):
        parse_policy(MINIMAL * 2)


def test_missing_file_and_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "absent.yaml")
    assert caught.value.problems == ["(file): no such file; create one with `watchkeeper init`"]
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"version: 1\nmodels: []\nname: caf\xe9\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(bad)
    assert caught.value.problems == ["(file): not UTF-8 text (line 3)"]


def test_routes_audiences_absences_and_overrides_parse() -> None:
    text = MINIMAL.replace(
        "routes: {T1: [ops]}",
        "routes: {T1: [ops, {channel: regulator_mail, audience: regulator}]}",
    ).replace(
        "channels: {ops: {type: console}}",
        "channels: {ops: {type: console}, regulator_mail: {type: email, host: smtp.example.com, "
        "sender: wk@example.com, audience: regulator, to: [desk@regulator.example]}}",
    ).replace(
        "bob: {email: bob@example.com}",
        "bob: {email: bob@example.com, away: [{from: 2026-03-01T00:00:00+01:00, "
        "until: 2026-03-08T00:00:00+01:00}]}",
    ).replace(
        "oncall: {ops: {members: [alice, bob]}}",
        "oncall: {ops: {members: [alice, bob], handoff: \"08:30\", timezone: Europe/Berlin, "
        "overrides: [{person: bob, from: 2026-04-01T08:30:00+02:00, "
        "until: 2026-04-02T08:30:00+02:00}]}}",
    )
    policy = parse_policy(text)
    [ops, reg] = policy.routes[Tier.T1]
    assert (ops.channel, ops.audience) == ("ops", None)
    assert (reg.channel, reg.audience) == ("regulator_mail", "regulator")
    assert policy.channels["regulator_mail"].audience == "regulator"
    away = policy.people["bob"].away[0]
    assert away.start.utcoffset() == timedelta(hours=1)
    assert away.until - away.start == timedelta(days=7)
    rotation = policy.oncall["ops"]
    assert rotation.handoff.isoformat() == "08:30:00"
    assert rotation.overrides[0].person == "bob"
    dumped = policy.model_dump(mode="json")
    assert dumped["oncall"]["ops"]["handoff"] == "08:30"
    assert dumped["people"]["bob"]["away"][0]["from"] == "2026-03-01T00:00:00+01:00"
    assert dumped["escalation"] == {"T1": {"ack_within": "4h", "then": None,
                                           "remind_every": None, "deputy_after": None}}
