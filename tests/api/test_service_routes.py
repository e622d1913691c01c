"""Policy read/validate/apply, external messages and their approval, escalate now, and a
model's health, scores and signals over HTTP, with 401/403 and audited refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import SignalKind, Tier
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.engine.tick import Engine
from watchkeeper.escalation import EscalationService
from watchkeeper.incidents import service as incidents
from watchkeeper.ingest import IngestService
from watchkeeper.policy import parse_policy
from watchkeeper.scoring.service import ScoringService
from watchkeeper.signals.service import SignalService

from .conftest import STARTER

PROBLEM = "application/problem+json"


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def audit_text(client: TestClient, tokens: dict[str, str]) -> str:
    return client.get("/v1/audit", headers=auth(tokens["admin"])).text


# --- policy ----------------------------------------------------------------------------------


def test_policy_read_validate_apply(client: TestClient, tokens: dict[str, str],
                                    app_state: AppState) -> None:
    current = client.get("/v1/policy", headers=auth(tokens["victor"])).json()
    assert current["version"] is None and "credit-risk" in current["text"]
    bad = current["text"].replace("tiers: {T1: 30, T2: 60, T3: 85}",
                                  "tiers: {T1: 30, T2: 20, T3: 85}")
    bad = bad.replace("owner: alice  ", "owner: nobody  ")
    r = client.post("/v1/policy/validate", json={"text": bad}, headers=auth(tokens["victor"]))
    body = r.json()
    assert r.status_code == 200 and body["valid"] is False
    paths = {p["path"] for p in body["problems"]}
    assert "models[0].owner" in paths and any(p.startswith("scoring.tiers") for p in paths)
    assert all(isinstance(p["line"], int) for p in body["problems"])
    # apply refuses a policy with problems (422, every one listed) and changes nothing
    r = client.post("/v1/policy/apply", json={"text": bad}, headers=auth(tokens["admin"]))
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert len(r.json()["problems"]) >= 2
    # a model owner may not apply; the refusal is audited
    good = current["text"].replace("T1: {ack_within: 4h", "T1: {ack_within: 3h")
    r = client.post("/v1/policy/apply", json={"text": good}, headers=auth(tokens["carol"]))
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert "policy.apply" in audit_text(client, tokens)
    old = app_state.policy
    r = client.post("/v1/policy/apply", json={"text": good, "comment": "slower T1"},
                    headers=auth(tokens["admin"]))
    assert r.status_code == 200, r.text
    assert app_state.policy is not old  # swapped in place
    now = client.get("/v1/policy", headers=auth(tokens["victor"])).json()
    assert now["version"] == r.json()["version"] and "ack_within: 3h" in now["text"]
    assert now["actor"] == "admin"
    assert "policy.applied" in audit_text(client, tokens)


def test_policy_validate_hostile_input(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["victor"])
    for text in ("[1, 2", "a: &x [*x]", "\x00\x01", "models: " + "[" * 500):
        body = client.post("/v1/policy/validate", json={"text": text}, headers=h).json()
        assert body["valid"] is False and body["problems"], text
    r = client.post("/v1/policy/validate", json={"txt": "x"}, headers=h)
    assert r.status_code == 422 and "text" in r.json()["detail"]
    assert client.post("/v1/policy/validate", json={"text": "x"}).status_code == 401


# --- messages and escalation -------------------------------------------------------------------


REGULATOR = "  regulators: {type: console, audience: regulator}\n\nroutes:"


def _with_regulator_channel(state: AppState) -> None:
    text = STARTER.read_text().replace("\nroutes:", "\n" + REGULATOR, 1)
    text = text.replace("T3: [console, pager, ops]", "T3: [console, pager, ops, regulators]")
    state.policy = parse_policy(text, str(STARTER))


def _t3_incident(state: AppState, clock: ManualClock) -> str:
    with state.store.session() as s:
        row = incidents.open_incident(s, model="credit-risk", tier=Tier.T3, title="approvals",
                                      actor="test", now=clock.now())
        EscalationService(state.policy, clock).tick(s, [Engine.view(s, row)], clock.now())
        return row.id


def test_external_message_needs_approval(client: TestClient, tokens: dict[str, str],
                                         app_state: AppState, clock: ManualClock) -> None:
    _with_regulator_channel(app_state)
    iid = _t3_incident(app_state, clock)
    r = client.get(f"/v1/incidents/{iid}/messages", headers=auth(tokens["victor"]))
    drafts = r.json()["messages"]
    assert r.status_code == 200 and [m["status"] for m in drafts] == ["draft"]
    assert drafts[0]["audience"] == "regulator"
    mid = drafts[0]["id"]
    r = client.post(f"/v1/messages/{mid}/approve", headers=auth(tokens["carol"]))
    assert r.status_code == 403 and "approve" in r.json()["detail"]
    assert "message.approve" in audit_text(client, tokens)
    r = client.post(f"/v1/messages/{mid}/approve", headers=auth(tokens["admin"]))
    assert r.status_code == 200 and r.json()["queued"] == 1, r.text
    r = client.post(f"/v1/messages/{mid}/approve", headers=auth(tokens["admin"]))
    assert r.status_code == 409 and "already queued" in r.json()["detail"]
    assert client.post("/v1/messages/nope/approve",
                       headers=auth(tokens["admin"])).status_code == 404
    listed = client.get(f"/v1/incidents/{iid}/messages?status=queued",
                        headers=auth(tokens["victor"])).json()["messages"]
    assert listed[0]["approved_by"] == "admin"


def test_escalate_now_moves_up_one_tier_and_the_tick_pages_it(
        client: TestClient, tokens: dict[str, str], app_state: AppState,
        clock: ManualClock) -> None:
    r = client.post("/v1/incidents", json={"model": "credit-risk", "title": "t", "tier": "T1"},
                    headers=auth(tokens["carol"]))
    iid = r.json()["id"]
    r = client.post(f"/v1/incidents/{iid}/escalate", json={"rationale": "customers call"},
                    headers=auth(tokens["victor"]))
    assert r.status_code == 403
    r = client.post(f"/v1/incidents/{iid}/escalate", json={"rationale": "customers call"},
                    headers=auth(tokens["carol"]))
    assert r.status_code == 200 and r.json()["tier"] == "T2", r.text
    with app_state.store.session() as s:
        row = incidents.get(s, iid)
        result = EscalationService(app_state.policy, clock).tick(s, [Engine.view(s, row)],
                                                                 clock.now())
    assert result.queued > 0
    timings = client.get(f"/v1/incidents/{iid}/messages",
                         headers=auth(tokens["carol"])).json()["timings"]
    assert timings["tier"] in ("T2", 2)
    client.post(f"/v1/incidents/{iid}/escalate", headers=auth(tokens["carol"]))
    r = client.post(f"/v1/incidents/{iid}/escalate", headers=auth(tokens["carol"]))
    assert r.status_code == 409 and "top tier" in r.json()["detail"]
    body = client.get(f"/v1/incidents/{iid}", headers=auth(tokens["carol"])).json()
    assert "customers call" in str(body["timeline"])
    client.post(f"/v1/incidents/{iid}/resolve", headers=auth(tokens["carol"]))
    r = client.post(f"/v1/incidents/{iid}/escalate", headers=auth(tokens["carol"]))
    assert r.status_code == 409 and "resolved" in r.json()["detail"]


# --- model health ------------------------------------------------------------------------------


def test_health_scores_and_signals(client: TestClient, tokens: dict[str, str],
                                   app_state: AppState) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    sig = Signal(SignalKind.DATA_DRIFT, "psi", 0.9, statistic=0.4, effect_size=0.4,
                 feature="income",
                 evidence="income drifted.", p_value=float("nan"))
    scoring = ScoringService(app_state.store)
    policy = app_state.policy
    signals = SignalService(app_state.store, policy,
                            IngestService(app_state.store, policy, app_state.data_dir))
    for k in range(3):
        w = WindowKey("credit-risk", t0 + timedelta(hours=k), t0 + timedelta(hours=k + 1))
        signals._save(w, [sig], (100, 100))  # as the signals stage stores a judged window
        scoring.score(w, [sig])
    h = auth(tokens["alice"])
    health = client.get("/v1/models/credit-risk/health", headers=h).json()
    assert health["windows_scored"] == 3 and health["score"] > 0
    assert health["latest"]["contributors"][0]["feature"] == "income"
    assert health["open_incidents"] == []
    since = (t0 + timedelta(hours=1)).isoformat()
    scores = client.get("/v1/models/credit-risk/scores", params={"since": since},
                        headers=h).json()["scores"]
    assert len(scores) == 2 and scores[0]["window_start"] == since
    got = client.get("/v1/models/credit-risk/signals",
                     params={"window_start": (t0 + timedelta(hours=2)).isoformat()},
                     headers=h).json()["signals"]
    assert len(got) == 1 and got[0]["method"] == "psi" and got[0]["p_value"] is None
    assert client.get("/v1/models/nope/health", headers=auth(tokens["admin"])).status_code == 404
    r = client.get("/v1/models/credit-risk/health", headers=auth(tokens["rita"]))
    assert r.status_code == 403 and "scoped" in r.json()["detail"]
    assert client.get("/v1/models/credit-risk/scores").status_code == 401
    r = client.get("/v1/models/credit-risk/scores?since=yesterday", headers=h)
    assert r.status_code == 422 and "since" in r.json()["detail"]
