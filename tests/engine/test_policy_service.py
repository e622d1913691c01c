"""Policy versions: apply stores and audits a valid policy, refuses one with problems and
writes nothing; the CLI `watchkeeper policy apply` shares it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import watchkeeper.policy as policy_pkg
from watchkeeper.audit import verify
from watchkeeper.cli.app import app
from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.core.errors import PolicyError
from watchkeeper.engine import policy_service
from watchkeeper.store import Store
from watchkeeper.store.tables.foundation import AuditLog, PolicyVersion

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")


def test_apply_stores_audits_and_refuses_bad_text(store: Store) -> None:
    text = STARTER.read_text()
    with store.session() as s:
        policy, version = policy_service.apply(s, text, actor="ann", now=SYSTEM_CLOCK.now(),
                                               comment="first")
    assert policy.model_names() == ["credit-risk"]
    with pytest.raises(PolicyError) as err, store.session() as s:
        policy_service.apply(s, text.replace("tiers: {T1: 30,", "tiers: {T1: 300,"),
                             actor="ann", now=SYSTEM_CLOCK.now())
    parts = [policy_service.split_problem(p) for p in err.value.problems]
    assert any(p["path"].startswith("scoring.tiers") and p["line"] for p in parts)
    with store.session(read_only=True) as s:
        rows = s.scalars(select(PolicyVersion)).all()
        assert [r.id for r in rows] == [version] and rows[0].comment == "first"
        current = policy_service.current(s, None)
        actions = [a.action for a in s.scalars(select(AuditLog))]
    assert current.version == version and current.sha256 == policy_service.sha256(text)
    assert actions.count("policy.applied") == 1
    with store.session(read_only=True) as s:
        assert verify(s).ok


def test_cli_policy_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["init", "."]).exit_code == 0
    db = f"sqlite:///{tmp_path}/wk.db"
    r = runner.invoke(app, ["policy", "apply", "watchkeeper.yaml", "--db", db])
    assert r.exit_code == 0 and "policy version 1" in r.output, r.output
    Path("bad.yaml").write_text("version: 1\nmodels: 3\n")
    r = runner.invoke(app, ["policy", "apply", "bad.yaml", "--db", db])
    assert r.exit_code == 1 and "models: expected a list" in r.output
    r = runner.invoke(app, ["policy", "apply", "missing.yaml", "--db", db])
    assert r.exit_code == 1 and "no such file" in r.output


def test_a_running_service_follows_a_policy_applied_elsewhere(tmp_path: Path) -> None:
    from watchkeeper.api.deps import AppState
    from watchkeeper.cli.serve import _follow_policy
    from watchkeeper.engine.tick import Engine
    from watchkeeper.policy import parse_policy

    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    text = STARTER.read_text()
    first = parse_policy(text, str(STARTER))
    state = AppState(store=store, data_dir=tmp_path, policy=first)
    engine = Engine(store, first, tmp_path)
    job = _follow_policy(store, state, engine)
    job.run(SYSTEM_CLOCK.now())
    assert engine.policy is first  # nothing applied since start
    with store.session() as s:
        policy_service.apply(s, text.replace("T3: {ack_within: 15m", "T3: {ack_within: 10m"),
                             actor="ann", now=SYSTEM_CLOCK.now(), base_dir=STARTER.parent)
    job.run(SYSTEM_CLOCK.now())
    assert engine.policy is state.policy and engine.policy is not first
    from watchkeeper.core.enums import Tier
    step = engine.escalation.config.escalation[Tier.T3]
    assert step.ack_within is not None and step.ack_within.total_seconds() == 600
    store.close()
