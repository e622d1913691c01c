from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

from watchkeeper import audit
from watchkeeper.core.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from watchkeeper.mitigation import service
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.store import Store

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)
ROLES = ["mlops_oncall", "model_owner"]


def fitted(c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])


def test_registry_numbers_versions_and_verifies_artifacts(store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        reg = service.registry(s, tmp_path)
        v1 = reg.register("credit", fitted(), lineage=Lineage(template="sklearn.logistic"),
                          actor="alice", now=NOW)
        v2 = reg.register("credit", fitted(0.5), lineage=Lineage(parent_version=1,
                          data_fingerprint="abc", metrics={"f1": 0.9}), actor="bot", now=NOW)
        assert (v1.version, v2.version) == (1, 2)
        assert reg.load("credit", 2).C == 0.5
        assert reg.get("credit", 2).lineage.metrics == {"f1": 0.9}
        with pytest.raises(NotFoundError, match="known: 1, 2"):
            reg.get("credit", 9)
    Path(v1.artifact_uri).write_bytes(b"tampered")
    with store.session() as s, pytest.raises(InputError, match="does not match its checksum"):
        service.registry(s, tmp_path).load("credit", 1)


def test_promotion_keeps_previous_champion_as_fallback(store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        reg = service.registry(s, tmp_path)
        for c in (1.0, 0.5):
            reg.register("credit", fitted(c), lineage=Lineage(), actor="a", now=NOW)
        service.set_champion(s, "credit", 1, actor="a", now=NOW, data_dir=tmp_path)
        state = service.set_champion(s, "credit", 2, actor="a", now=NOW, data_dir=tmp_path)
        assert (state.champion, state.fallback_version, state.revision) == (2, 1, 2)
        assert reg.alias("credit", "champion") == 2 and reg.alias("credit", "fallback") == 1
        assert [v.status for v in reg.versions("credit")] == ["retired", "serving"]


def test_canary_then_rollback(store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        reg = service.registry(s, tmp_path)
        for c in (1.0, 0.5):
            reg.register("credit", fitted(c), lineage=Lineage(), actor="a", now=NOW)
        service.set_champion(s, "credit", 1, actor="a", now=NOW, data_dir=tmp_path)
        state = service.set_canary(s, "credit", 2, 0.05, actor="a", now=NOW, data_dir=tmp_path)
        assert (state.canary, state.canary_share) == (2, 0.05)
        with pytest.raises(InputError, match="outside"):
            service.set_canary(s, "credit", 2, 1.5, actor="a", now=NOW, data_dir=tmp_path)
        state = service.rollback(s, "credit", actor="bot", now=NOW, reason="F1 -4 points")
        assert (state.champion, state.canary) == (1, None)
        assert service.decide(s, "credit", "any", NOW).version == 1


def test_kill_switch_needs_a_role_and_a_reason_and_expires(store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        service.registry(s, tmp_path).register("credit", fitted(), lineage=Lineage(),
                                               actor="a", now=NOW)
        service.set_champion(s, "credit", 1, actor="a", now=NOW, data_dir=tmp_path)
        with pytest.raises(PermissionDenied, match="needs one of the roles: mlops_oncall"):
            service.throw_kill_switch(s, "credit", actor="mallory", actor_roles=["viewer"],
                                      allowed_roles=ROLES, reason="because", fallback="reject",
                                      now=NOW)
        with pytest.raises(InputError, match="needs a reason"):
            service.throw_kill_switch(s, "credit", actor="carol", actor_roles=["mlops_oncall"],
                                      allowed_roles=ROLES, reason="", fallback="reject", now=NOW)
        state = service.throw_kill_switch(
            s, "credit", actor="carol", actor_roles=["mlops_oncall"], allowed_roles=ROLES,
            reason="score 97, F1 collapsed", fallback="reject", now=NOW,
            expires_in=timedelta(hours=2))
        assert state.kill_switch.active and service.decide(s, "credit", "k", NOW).role == "reject"
        with pytest.raises(ConflictError, match="already thrown"):
            service.throw_kill_switch(s, "credit", actor="carol", actor_roles=["mlops_oncall"],
                                      allowed_roles=ROLES, reason="again", fallback="reject",
                                      now=NOW)
        assert service.decide(s, "credit", "k", NOW + timedelta(hours=3)).version == 1
        service.restore(s, "credit", actor="alice", actor_roles=["model_owner"],
                        allowed_roles=ROLES, reason="fixed upstream", now=NOW + timedelta(hours=1))
        with pytest.raises(ConflictError, match="not thrown"):
            service.restore(s, "credit", actor="alice", actor_roles=["model_owner"],
                            allowed_roles=ROLES, reason="again", now=NOW)
        actions = [e.action for e in audit.list_entries(s, subject="model:credit")]
        assert "mitigation.kill_switch" in actions and "mitigation.kill_switch_restored" in actions
