"""The mitigation endpoints: canary verdict for Argo Rollouts / Flagger, sign-off with refusals."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from watchkeeper.api.app import create_app
from watchkeeper.api.deps import AppState
from watchkeeper.engine import access
from watchkeeper.mitigation import service
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.sim.credit import generate_credit
from watchkeeper.store import Store

from .simulation import fit_champion, matrix
from .test_flow import World


def test_canary_verdict_and_sign_off_over_http(store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path, criticality="high")
    w.hour(0, concept=0.0)
    pop = generate_credit(2000, seed=5)
    bad = fit_champion(seed=9).fit(matrix(pop), pop["label"][::-1])
    with store.session() as s:
        service.registry(s, w.data).register("credit", bad, lineage=Lineage(
            params={"threshold": 0.3}), actor="carol", now=w.clock.now())
        ro = service.start_rollout(s, w.policy, "credit", 2, actor="carol", now=w.clock.now(),
                                   data_dir=w.data)
        tokens = {name: access.create_token(s, name=name, role=role, created_by="t",
                                            now=w.clock.now())[0]
                  for name, role in (("dave", "approver"), ("mallory", "approver"),
                                     ("victor", "viewer"))}
    state = AppState(store=store, data_dir=w.data, policy=w.policy, clock=w.clock)
    w.models[2] = (bad, 0.3)
    with TestClient(create_app(state)) as client:
        def h(name: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[name]}"}

        r = client.get("/v1/models/credit/canary-verdict", headers=h("victor"))
        assert r.status_code == 200 and r.json()["decision"] == "inconclusive"
        assert r.json()["healthy_int"] == 1
        # another tool's canary: judge v2 against v1 on live events of the last hour
        with store.session() as s:
            service.set_canary(s, "credit", 2, 0.5, actor="t", now=w.clock.now(),
                               data_dir=w.data)
        w.hour(1, concept=0.0)
        r = client.get("/v1/models/credit/canary-verdict?canary=2&baseline=1",
                       headers=h("victor"))
        body = r.json()
        assert body["decision"] == "regression" and body["healthy_int"] == 0, body
        assert body["basis"] == "realised" and body["canary_value"] < body["champion_value"]
        r = client.post("/v1/models/credit/canary-verdict?canary=2&baseline=1",
                        headers=h("victor"))
        assert r.status_code == 412 and r.json()["healthy"] is False
        r = client.post(f"/v1/rollouts/{ro.id}/sign-off", headers=h("mallory"))
        assert r.status_code == 403 and "risk_officer" in r.text
        r = client.post(f"/v1/rollouts/{ro.id}/sign-off", headers=h("victor"))
        assert r.status_code == 403
        r = client.post(f"/v1/rollouts/{ro.id}/sign-off", headers=h("dave"))
        assert r.status_code == 200 and r.json()["signed_off_by"] == "dave"
        assert client.get("/v1/models/credit/rollouts",
                          headers=h("victor")).json()[0]["id"] == ro.id
        # hostile and mistaken input: named, not a crash
        r = client.get("/v1/models/nosuch/canary-verdict", headers=h("victor"))
        assert r.status_code == 404 and "unknown model" in r.text
        r = client.get("/v1/models/credit/canary-verdict?canary=99", headers=h("victor"))
        assert r.status_code == 404 and "no version 99" in r.text
        r = client.get("/v1/models/credit/canary-verdict?canary=abc", headers=h("victor"))
        assert r.status_code == 422
        r = client.post("/v1/rollouts/rol_nope/sign-off", headers=h("dave"))
        assert r.status_code == 404
        assert client.get("/v1/models/credit/canary-verdict").status_code == 401
