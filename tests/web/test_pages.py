"""The dashboard in-process: sign-in, CSRF, authorisation and audit of form actions, escaping,
error pages, the fleet heatmap's aggregation, live-update markers and /metrics."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from watchkeeper import audit
from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import Tier
from watchkeeper.incidents import service as incidents
from watchkeeper.mitigation import service as mitigation
from watchkeeper.scoring.service import ScoringService
from web.conftest import csrf_of, seed_scores, sign_in


def _open(
    st: AppState, title: str = "approvals fell", tier: Tier = Tier.T2, model: str = "credit-risk"
) -> str:
    with st.store.session() as s:
        return incidents.open_incident(
            s, model=model, tier=tier, title=title, actor="test", now=st.clock.now()
        ).id


def _figure(html: str, name: str) -> dict:
    found = re.search(
        rf'<script type="application/json" id="fig-{name}">(.*?)</script>', html, re.S
    )
    assert found, f"no figure {name}"
    return json.loads(found.group(1))


def _denials(st: AppState) -> list:
    with st.store.session(read_only=True) as s:
        return audit.list_entries(s, action="auth.denied")


def test_pages_need_sign_in_but_health_and_metrics_do_not(client: TestClient) -> None:
    for path in ("/", "/models/credit-risk", "/audit", "/incidents/x"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/"), path
    assert client.get("/ui/changes").status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_bad_token_is_refused_and_audited(client: TestClient, app_state: AppState) -> None:
    page = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(page.text), "token": "wk_forged"})
    assert r.status_code == 401 and "not accepted" in r.text
    assert "wk_session" not in r.cookies
    assert _denials(app_state)[0].details["attempt"] == "dashboard.sign_in"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_sets_a_strict_cookie_and_refuses_open_redirects(
    client: TestClient, tokens: dict[str, str]
) -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "token": tokens["carol"], "next": "//evil.example/steal"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200 and "carol" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    out = client.post("/logout", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_form_without_csrf_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/login", data={"token": tokens["carol"]})
    assert r.status_code == 403 and "CSRF" in r.text


def test_action_without_or_with_a_foreign_csrf_token_changes_nothing(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    iid = _open(app_state)
    sign_in(client, tokens["carol"])
    r = client.post(f"/incidents/{iid}/state", data={"verb": "acknowledge"})
    assert r.status_code == 403
    other = TestClient(client.app)
    sign_in(other, tokens["admin"])
    foreign = csrf_of(other.get("/").text)
    r = client.post(f"/incidents/{iid}/state", data={"verb": "acknowledge", "csrf": foreign})
    assert r.status_code == 403
    with app_state.store.session(read_only=True) as s:
        assert incidents.get(s, iid).state == "open"


def test_acknowledge_through_the_form_is_audited_and_shown(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    iid = _open(app_state)
    sign_in(client, tokens["carol"])
    page = client.get(f"/incidents/{iid}")
    before = client.get("/ui/changes").json()
    r = client.post(
        f"/incidents/{iid}/state", data={"verb": "acknowledge", "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 200 and "Acknowledged." in r.text  # followed the 303
    assert "acknowledged by <b>carol</b>" in r.text
    after = client.get("/ui/changes").json()
    assert after["audit_seq"] > before["audit_seq"] and after["events"] > before["events"]
    with app_state.store.session(read_only=True) as s:
        entry = audit.list_entries(s, action="incident.transition")[0]
    assert entry.actor == "carol" and entry.details["to"] == "acknowledged"
    again = client.post(
        f"/incidents/{iid}/state", data={"verb": "acknowledge", "csrf": csrf_of(page.text)}
    )
    assert "from acknowledged to acknowledged" in again.text  # the 409 shown, not a crash


def test_a_viewer_is_refused_and_the_refusal_audited(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    iid = _open(app_state)
    sign_in(client, tokens["victor"])
    page = client.get(f"/incidents/{iid}")
    r = client.post(f"/incidents/{iid}/state", data={"verb": "resolve", "csrf": csrf_of(page.text)})
    assert "may not respond" in r.text
    denial = _denials(app_state)[0]
    assert denial.actor == "victor" and denial.details["attempt"] == "incident.resolve"


def test_hostile_text_is_escaped_everywhere(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    iid = _open(app_state, title=hostile)
    sign_in(client, tokens["carol"])
    page = client.get(f"/incidents/{iid}")
    client.post(f"/incidents/{iid}/comment", data={"text": hostile, "csrf": csrf_of(page.text)})
    for path in ("/", f"/incidents/{iid}", "/audit"):
        html = client.get(path).text
        assert hostile not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html or "\\u003cscript\\u003e" in html, path


def test_not_found_is_a_page_for_people_and_a_problem_for_programs(
    client: TestClient, tokens: dict[str, str]
) -> None:
    sign_in(client, tokens["carol"])
    html = {"accept": "text/html"}
    for path in ("/incidents/inc_nope", "/models/no-such-model", "/no/such/page"):
        r = client.get(path, headers=html)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "404" in r.text
    r = client.get("/v1/incidents/inc_nope", headers=html)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/static/../../etc/passwd").status_code == 404


def test_fleet_heatmap_holds_the_worst_score_per_bucket(
    client: TestClient, app_state: AppState, clock: ManualClock, tokens: dict[str, str]
) -> None:
    seed_scores(app_state.store, clock, "credit-risk", 48, lambda h: 0.9 if h == 30 else 0.0)
    seed_scores(app_state.store, clock, "churn", 48, lambda h: 0.0)
    sign_in(client, tokens["carol"])
    fig = _figure(client.get("/?days=2").text, "heatmap")["data"][0]
    rows = dict(zip(fig["y"], fig["z"], strict=True))
    assert set(rows) >= {"credit-risk", "churn"}
    stored = ScoringService(app_state.store).scores("credit-risk")
    worst = max(s.value for s in stored)
    assert worst > 0 and max(v for v in rows["credit-risk"] if v is not None) == round(worst, 1)
    assert max(v for v in rows["churn"] if v is not None) == 0
    # Every stored hour lands in some bucket: the buckets cover the whole span.
    assert sum(v is not None for v in rows["credit-risk"]) >= 2


def test_model_page_shows_score_contributors_and_incident_markers(
    client: TestClient, app_state: AppState, clock: ManualClock, tokens: dict[str, str]
) -> None:
    seed_scores(app_state.store, clock, "credit-risk", 12, lambda h: 0.2 + 0.06 * h)
    iid = _open(app_state, title="income drift")
    sign_in(client, tokens["alice"])
    html = client.get("/models/credit-risk?days=1").text
    score = _figure(html, "score")
    assert len(score["data"][0]["y"]) == 12
    assert score["data"][1]["text"] == ["income drift"]
    assert "income" in json.dumps(_figure(html, "contributors"))
    assert iid in html
    assert client.get("/models/credit-risk?days=0").status_code == 422


def test_kill_switch_needs_a_policy_role_and_refusals_are_audited(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    sign_in(client, tokens["mallory"])  # model_owner token, but holds no kill-switch role
    page = client.get("/models/credit-risk")
    r = client.post(
        "/models/credit-risk/kill-switch",
        data={"action": "throw", "reason": "bad", "csrf": csrf_of(page.text)},
    )
    assert "may not" in r.text
    assert _denials(app_state)[0].details["attempt"] == "kill_switch"
    alice = TestClient(client.app)
    sign_in(alice, tokens["alice"])  # the policy's model_owner
    page = alice.get("/models/credit-risk")
    r = alice.post(
        "/models/credit-risk/kill-switch",
        data={"action": "throw", "reason": "approvals collapsed", "csrf": csrf_of(page.text)},
    )
    assert "Kill switch thrown" in r.text and "approvals collapsed" in r.text
    with app_state.store.session(read_only=True) as s:
        assert mitigation.routing_state(s, "credit-risk").kill_switch.active
    r = alice.post(
        "/models/credit-risk/kill-switch",
        data={"action": "restore", "reason": "fixed", "csrf": csrf_of(r.text)},
    )
    assert "Kill switch restored" in r.text


def test_postmortem_editor_and_action_items(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    iid = _open(app_state)
    sign_in(client, tokens["carol"])
    csrf = csrf_of(client.get(f"/incidents/{iid}").text)
    client.post(f"/incidents/{iid}/state", data={"verb": "resolve", "csrf": csrf})
    r = client.post(
        f"/incidents/{iid}/postmortem",
        data={"summary": "Income feed doubled", "root_cause": "unit change", "csrf": csrf},
    )
    assert "Post-mortem saved." in r.text and "Income feed doubled" in r.text
    r = client.post(
        f"/incidents/{iid}/postmortem/items",
        data={"text": "add a unit test", "owner": "dana", "due": "2026-12-01", "csrf": csrf},
    )
    assert "add a unit test" in r.text
    r = client.post(
        f"/incidents/{iid}/postmortem/items",
        data={"text": "x", "owner": "dana", "due": "next tuesday", "csrf": csrf},
    )
    assert "not a date" in r.text
    with app_state.store.session(read_only=True) as s:
        item = incidents.action_items(s, iid)[0]
    r = client.post(f"/incidents/{iid}/postmortem/items/{item.id}/done", data={"csrf": csrf})
    assert "done by carol" in r.text
    r = client.post(f"/incidents/{iid}/state", data={"verb": "close", "csrf": csrf})
    assert "Post-mortem done" in r.text


def test_audit_page_shows_chain_status(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    _open(app_state)
    sign_in(client, tokens["victor"])
    r = client.get("/audit")
    assert "Chain intact" in r.text and "incident.opened" in r.text
    assert "unknown" in client.get("/audit?action=nonsense").text.lower()


def test_metrics_show_the_fleet(
    client: TestClient, app_state: AppState, clock: ManualClock
) -> None:
    seed_scores(app_state.store, clock, "credit-risk", 3, lambda h: 0.95)
    _open(app_state, tier=Tier.T3)
    text = client.get("/metrics").text
    score = re.search(r'watchkeeper_model_score\{model="credit-risk"\} ([0-9.]+)', text)
    latest = ScoringService(app_state.store).scores("credit-risk")[-1]
    assert score and float(score.group(1)) == latest.value
    assert f'watchkeeper_model_tier{{model="credit-risk"}} {float(int(latest.tier))}' in text
    assert 'watchkeeper_incidents_open{model="credit-risk",tier="T3"} 1.0' in text
    assert "# TYPE watchkeeper_notification_failures_total counter" in text


def test_changes_move_when_a_window_is_scored(
    client: TestClient, app_state: AppState, clock: ManualClock, tokens: dict[str, str]
) -> None:
    sign_in(client, tokens["victor"])
    before = client.get("/ui/changes").json()
    clock.advance(timedelta(hours=2))
    seed_scores(app_state.store, clock, "credit-risk", 1, lambda h: 0.0)
    assert client.get("/ui/changes").json()["scores"] > before["scores"]


def test_fleet_heatmap_picks_up_windows_scored_after_the_first_render(
    client: TestClient, app_state: AppState, clock: ManualClock, tokens: dict[str, str]
) -> None:
    seed_scores(app_state.store, clock, "credit-risk", 6, lambda h: 0.0)
    sign_in(client, tokens["carol"])
    first = _figure(client.get("/?days=1").text, "heatmap")["data"][0]
    assert max(v for v in first["z"][first["y"].index("credit-risk")] if v is not None) == 0
    clock.advance(timedelta(hours=1))
    seed_scores(app_state.store, clock, "credit-risk", 1, lambda h: 0.95)
    seed_scores(app_state.store, clock, "fraud", 1, lambda h: 0.5)
    again = _figure(client.get("/?days=1").text, "heatmap")["data"][0]
    rows = dict(zip(again["y"], again["z"], strict=True))
    newest = ScoringService(app_state.store).scores("credit-risk")[-1].value
    assert newest > 0 and max(v for v in rows["credit-risk"] if v is not None) == round(newest, 1)
    assert "fraud" in rows


def _escalation_with_a_customer_channel() -> dict:
    return {
        "people": {"alice": {"email": "alice@example.com"}},
        "roles": {"model_owner": ["alice"]},
        "raci": {t: {"responsible": ["model_owner"], "accountable": ["model_owner"]}
                 for t in ("T1", "T2", "T3")},
        "channels": {"ops": {"type": "slack", "url_env": "OPS_URL"},
                     "customers": {"type": "webhook", "url_env": "CUST_URL",
                                   "audience": "customer"}},
        "routes": {"T1": ["ops"], "T2": ["ops"], "T3": ["ops", "customers"]},
    }


def test_external_message_drafts_are_approved_by_an_approver_only(
    client: TestClient, app_state: AppState, clock: ManualClock, tokens: dict[str, str]
) -> None:
    from watchkeeper.engine import access
    from watchkeeper.escalation import EscalationService, list_messages

    iid = _open(app_state, title="scores unusable", tier=Tier.T3)
    with app_state.store.session() as s:
        EscalationService(_escalation_with_a_customer_channel(), clock).tick(
            s, [incidents.get(s, iid)])
        [draft] = list_messages(s, iid, status="draft")
        ann, _ = access.create_token(s, name="ann", role="approver", models=["*"],
                                     created_by="test", now=clock.now())
    sign_in(client, tokens["alice"])  # model owner: may act, may not approve
    page = client.get(f"/incidents/{iid}")
    assert draft["subject"] in page.text and "Approve and send" in page.text
    r = client.post(f"/incidents/{iid}/messages/{draft['id']}/approve",
                    data={"csrf": csrf_of(page.text)})
    assert "may not approve" in r.text
    assert _denials(app_state)[0].details["attempt"] == "message.approve"
    approver = TestClient(client.app)
    sign_in(approver, ann)
    page = approver.get(f"/incidents/{iid}")
    r = approver.post(f"/incidents/{iid}/messages/{draft['id']}/approve",
                      data={"csrf": csrf_of(page.text)})
    assert "Message approved and queued." in r.text and "approved by ann" in r.text
    with app_state.store.session(read_only=True) as s:
        assert list_messages(s, iid)[0]["status"] == "queued"
        assert audit.list_entries(s, action="message.approved")[0].actor == "ann"


def test_sign_off_needs_the_approve_right_and_the_policy_role(
    client: TestClient, app_state: AppState, clock: ManualClock, tokens: dict[str, str]
) -> None:
    from sklearn.dummy import DummyClassifier

    from watchkeeper.engine import access
    from watchkeeper.mitigation.registry.base import Lineage

    iid = _open(app_state, title="retrain after drift")
    now = clock.now()
    with app_state.store.session() as s:
        reg = mitigation.registry(s, app_state.data_dir)
        for _ in range(2):
            reg.register("credit-risk", DummyClassifier().fit([[0], [1]], [0, 1]),
                         lineage=Lineage(), actor="t", now=now)
        mitigation.set_champion(s, "credit-risk", 1, actor="t", now=now,
                                data_dir=app_state.data_dir)
        rollout = mitigation.start_rollout(s, app_state.policy, "credit-risk", 2, actor="carol",
                                           now=now, data_dir=app_state.data_dir,
                                           incident_id=iid)
        assert rollout.needs_sign_off  # credit-risk is high criticality and regulatory
        owner, _ = access.create_token(s, name="alice", role="approver", models=["*"],
                                       created_by="test", now=now)
        outsider, _ = access.create_token(s, name="dave", role="approver", models=["*"],
                                          created_by="test", now=now)
    url = f"/incidents/{iid}/rollouts/{rollout.id}/sign-off"
    sign_in(client, tokens["mallory"])  # no approve right at all
    r = client.post(url, data={"csrf": csrf_of(client.get(f"/incidents/{iid}").text)})
    assert "may not approve" in r.text
    dave = TestClient(client.app)
    sign_in(dave, outsider)  # may approve, but holds no sign-off role for this model
    r = dave.post(url, data={"csrf": csrf_of(dave.get(f"/incidents/{iid}").text)})
    assert "may not sign off" in r.text
    assert [d.actor for d in _denials(app_state)[:2]] == ["dave", "mallory"]
    alice = TestClient(client.app)
    sign_in(alice, owner)
    page = alice.get(f"/incidents/{iid}")
    assert "Sign off promotion" in page.text
    r = alice.post(url, data={"csrf": csrf_of(page.text)})
    assert f"Rollout {rollout.id} signed off." in r.text and "signed off by alice" in r.text


def test_silence_similar_matches_the_incident_labels(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    iid = _open(app_state)
    sign_in(client, tokens["carol"])
    csrf = csrf_of(client.get(f"/incidents/{iid}").text)
    r = client.post(f"/incidents/{iid}/silence", data={"duration": "soon", "reason": "deploy",
                                                       "csrf": csrf})
    assert 'class="flash error"' in r.text and "soon" in r.text
    with app_state.store.session(read_only=True) as s:
        assert incidents.list_silences(s) == []
    r = client.post(f"/incidents/{iid}/silence", data={"duration": "2h", "reason": "",
                                                       "csrf": csrf})
    assert "needs a reason" in r.text
    r = client.post(f"/incidents/{iid}/silence", data={"duration": "2h",
                                                       "reason": "feed migration", "csrf": csrf})
    assert "Similar incidents are silenced." in r.text
    with app_state.store.session(read_only=True) as s:
        [silence] = incidents.list_silences(s)
    assert {str(m) for m in silence.matchers} == {"model=credit-risk", "kind=manual"}
    assert silence.ends_at == app_state.clock.now() + timedelta(hours=2)


def test_with_auth_off_pages_open_and_forms_still_need_the_csrf_token(
    client: TestClient, app_state: AppState
) -> None:
    app_state.auth_enabled = False
    iid = _open(app_state)
    page = client.get(f"/incidents/{iid}")
    assert page.status_code == 200 and "auth off" in page.text
    assert client.post(f"/incidents/{iid}/state", data={"verb": "acknowledge"}).status_code == 403
    r = client.post(f"/incidents/{iid}/state",
                    data={"verb": "acknowledge", "csrf": csrf_of(page.text)})
    assert "Acknowledged." in r.text and "local-user" in r.text


def test_a_form_posted_without_a_session_goes_to_sign_in(
    client: TestClient, app_state: AppState
) -> None:
    iid = _open(app_state)
    r = client.post(f"/incidents/{iid}/state", data={"verb": "resolve"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/"
    with app_state.store.session(read_only=True) as s:
        assert incidents.get(s, iid).state == "open"


def test_escalate_now_moves_up_one_tier_until_the_top(
    client: TestClient, app_state: AppState, tokens: dict[str, str]
) -> None:
    iid = _open(app_state, tier=Tier.T2)
    sign_in(client, tokens["carol"])
    page = client.get(f"/incidents/{iid}")
    assert "Escalate to T3 now" in page.text
    r = client.post(f"/incidents/{iid}/escalate",
                    data={"rationale": "customers complain", "csrf": csrf_of(page.text)})
    assert "Escalated one tier" in r.text and "Escalate to" not in r.text
    with app_state.store.session(read_only=True) as s:
        assert incidents.get(s, iid).tier == int(Tier.T3)
    r = client.post(f"/incidents/{iid}/escalate", data={"csrf": csrf_of(r.text)})
    assert "already at the top tier" in r.text
