"""The REST API end to end in-process: auth and roles, problem+json errors, incidents,
silences, the Alertmanager receiver, routing and the kill switch, audit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from watchkeeper.api.deps import AppState
from watchkeeper.mitigation import service as mitigation
from watchkeeper.mitigation.registry.base import Lineage

PROBLEM = "application/problem+json"


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_health_needs_no_token_but_everything_else_does(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    r = client.get("/v1/incidents")
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/incidents", headers=auth("wk_forged")).status_code == 401
    assert client.get("/v1/incidents", headers={"Authorization": "Basic x"}).status_code == 401


def test_incident_lifecycle_over_http(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["carol"])
    r = client.post("/v1/incidents", json={"model": "credit-risk", "title": "approvals fell",
                                           "tier": "T2"}, headers=h)
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert client.post(f"/v1/incidents/{iid}/acknowledge", headers=h).json()["state"] == \
        "acknowledged"
    r = client.post(f"/v1/incidents/{iid}/acknowledge", headers=h)
    assert r.status_code == 409 and "from acknowledged to acknowledged" in r.json()["detail"]
    r = client.post(f"/v1/incidents/{iid}/comments", json={"text": "rolling back"}, headers=h)
    assert r.status_code == 201
    assert client.post(f"/v1/incidents/{iid}/resolve", json={"rationale": "rolled back"},
                       headers=h).json()["state"] == "resolved"
    body = client.get(f"/v1/incidents/{iid}", headers=h).json()
    assert [e["type"] for e in body["timeline"]] == ["opened", "state", "comment", "state",
                                                     "postmortem"]
    pm = client.patch(f"/v1/incidents/{iid}/postmortem",
                      json={"sections": {"summary": "s", "root_cause": "r"}}, headers=h)
    assert pm.status_code == 200 and pm.json()["body"]["summary"] == "s"
    assert client.post(f"/v1/incidents/{iid}/close", headers=h).json()["state"] == \
        "postmortem_done"
    page = client.get(f"/v1/incidents/{iid}/evidence?format=html", headers=h)
    assert page.status_code == 200 and "approvals fell" in page.text


def test_viewer_reads_but_cannot_change_and_refusal_is_audited(
    client: TestClient, tokens: dict[str, str]
) -> None:
    v = auth(tokens["victor"])
    assert client.get("/v1/incidents", headers=v).status_code == 200
    r = client.post("/v1/incidents", json={"model": "credit-risk", "title": "x"}, headers=v)
    assert r.status_code == 403 and "needs one of the roles: responder" in r.json()["detail"]
    entries = client.get("/v1/audit?action=auth.denied", headers=auth(tokens["admin"])).json()
    assert entries[0]["actor"] == "victor" and entries[0]["details"]["attempt"] == \
        "incident.open"


def test_token_scope_is_per_model(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/v1/incidents", json={"model": "credit-risk", "title": "x"},
                    headers=auth(tokens["rita"]))
    assert r.status_code == 403 and "scoped to other-model" in r.json()["detail"]


def test_validation_errors_are_problem_details_naming_fields(
    client: TestClient, tokens: dict[str, str]
) -> None:
    h = auth(tokens["carol"])
    r = client.post("/v1/incidents", json={"model": "", "tier": "T9"}, headers=h)
    body = r.json()
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in body["errors"]}
    assert {"model", "title", "tier"} <= fields
    r = client.post("/v1/incidents", content=b"{not json", headers={**h,
                    "content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/silences", json={"matchers": ["nonsense"], "reason": "r"}, headers=h)
    assert r.status_code == 422 and "expected name=value" in r.json()["detail"]
    assert client.get("/v1/incidents/inc_nope", headers=h).status_code == 404
    r = client.get("/v1/incidents?limit=100000", headers=h)
    assert r.status_code == 422 and "limit" in r.json()["detail"]


def test_alertmanager_receiver_opens_and_resolves(client: TestClient,
                                                  tokens: dict[str, str]) -> None:
    h = auth(tokens["carol"])
    alert = {"status": "firing", "labels": {"alertname": "Errors", "model": "credit-risk",
                                            "severity": "critical"}, "annotations": {}}
    r = client.post("/v1/alerts/alertmanager", json={"version": "4", "alerts": [alert]},
                    headers=h)
    assert r.json()["changes"][0]["what"] == "opened"
    alert["status"] = "resolved"
    r = client.post("/v1/alerts/alertmanager", json={"version": "4", "alerts": [alert]},
                    headers=h)
    assert r.json()["changes"][0]["what"] == "resolved"
    r = client.post("/v1/alerts/alertmanager", json={"alerts": [{"labels": {}}]}, headers=h)
    assert r.status_code == 422 and "alerts[0].labels.model" in r.json()["detail"]


def test_kill_switch_by_role_with_a_refused_attempt(
    client: TestClient, tokens: dict[str, str], app_state: AppState
) -> None:
    from sklearn.dummy import DummyClassifier

    now = app_state.clock.now()
    with app_state.store.session() as s:
        reg = mitigation.registry(s, app_state.data_dir)
        for _ in range(2):
            reg.register("credit-risk", DummyClassifier().fit([[0], [1]], [0, 1]),
                         lineage=Lineage(), actor="t", now=now)
        mitigation.set_champion(s, "credit-risk", 1, actor="t", now=now,
                                data_dir=app_state.data_dir)
        mitigation.set_champion(s, "credit-risk", 2, actor="t", now=now,
                                data_dir=app_state.data_dir)
    url = "/v1/models/credit-risk/kill-switch"
    r = client.post(url, json={"reason": "why not"}, headers=auth(tokens["mallory"]))
    assert r.status_code == 403 and "mlops_oncall" in r.json()["detail"]
    r = client.post(url, json={"reason": "F1 collapsed", "expires_in": "soon"},
                    headers=auth(tokens["carol"]))
    assert r.status_code == 422 and r.json()["field"] == "expires_in"
    r = client.post(url, json={"reason": "F1 collapsed", "expires_in": "2h"},
                    headers=auth(tokens["carol"]))
    assert r.status_code == 200 and r.json()["kill_switch"]["active"]
    route = client.get("/v1/models/credit-risk/route?key=abc", headers=auth(tokens["victor"]))
    assert route.json()["version"] == 1 and route.json()["role"] == "fallback"
    r = client.request("DELETE", url, json={"reason": "fixed"}, headers=auth(tokens["alice"]))
    assert r.status_code == 200 and not r.json()["kill_switch"]["active"]
    denied = client.get("/v1/audit?action=auth.denied", headers=auth(tokens["admin"])).json()
    assert any(e["actor"] == "mallory" and e["details"]["attempt"] == "kill_switch"
               for e in denied)
    assert client.get("/v1/audit/verify", headers=auth(tokens["admin"])).json()["ok"]


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/incidents/{incident_id}/{verb}" in paths and "/v1/models/{model}/route" in paths


def test_a_refused_change_on_an_existing_incident_answers_403_at_once(
    client: TestClient, tokens: dict[str, str]
) -> None:
    # On SQLite the refusal is audited in its own transaction: it must not wait for the
    # request's (this used to block for the busy timeout, then fail "database is locked").
    h = auth(tokens["carol"])
    iid = client.post("/v1/incidents", json={"model": "credit-risk", "title": "t"},
                      headers=h).json()["id"]
    r = client.post(f"/v1/incidents/{iid}/acknowledge", headers=auth(tokens["victor"]))
    assert r.status_code == 403
    r = client.post(f"/v1/incidents/{iid}/comments", json={"text": "x"},
                    headers=auth(tokens["rita"]))
    assert r.status_code == 403 and "scoped to other-model" in r.json()["detail"]
