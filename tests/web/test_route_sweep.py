"""Every dashboard route, signed in as an admin, with hostile path segments, query values and
form fields: never a server error, and a refused form says why on the page it returns to.

Routes are read from the app, so a page or form added later is swept without editing this."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from watchkeeper.api.deps import AppState
from watchkeeper.audit import verify

from .conftest import csrf_of, sign_in

SEGMENTS = ["..%2F..%2Fetc%2Fpasswd", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%00", "x" * 4000,
            "%F0%9F%99%82", "'%20OR%201=1--"]
VALUES = ["", "\x00", "<script>alert(1)</script>", "x" * 200_000, "../../etc/passwd",
          "ü🙂\u202e", "-1", "99999999999999999999d", "2026-02-30T25:00:00"]
QUERY_VALUES = ["", "\x00", "<script>alert(1)</script>", "x" * 4000, "-1", "1e309"]
FIELDS = ["action", "back", "due", "duration", "expires_in", "next", "owner", "rationale",
          "reason", "text", "verb", "summary", "root_cause", "impact"]


def web_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route outside /v1 (the API has its own sweep)."""
    out: list[tuple[str, str]] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)  # FastAPI's included router
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, APIRoute) and not route.path.startswith("/v1"):
                out.extend((m, route.path) for m in sorted(route.methods - {"HEAD"}))

    walk(app.routes)
    return out


def fill(path: str, **values: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), values["default"]), path)


def test_every_page_and_form_survives_hostile_input(client: TestClient, tokens: dict[str, str],
                                                    app_state: AppState) -> None:
    routes = web_routes(client.app)
    assert len(routes) >= 20 and ("POST", "/incidents/{incident_id}/comment") in routes
    sign_in(client, tokens["admin"])
    r = client.post("/v1/incidents", json={"model": "credit-risk", "title": "t", "tier": "T2"},
                    headers={"Authorization": f"Bearer {tokens['admin']}"})
    iid = r.json()["id"]
    csrf = csrf_of(client.get(f"/incidents/{iid}").text)
    for method, path in routes:
        if path in ("/logout", "/login"):
            continue  # signing out or in again would change who the rest of the sweep is
        targets = [fill(path, incident_id=iid, model="credit-risk", default="1")]
        targets += [fill(path, default=s) for s in SEGMENTS]
        for url in targets:
            if method == "GET":
                for value in QUERY_VALUES:
                    r = client.get(url, params={"since": value, "days": value, "q": value})
                    assert r.status_code < 500, f"GET {url[:100]}: {r.status_code}"
                continue
            for value in VALUES:
                form = {name: value for name in FIELDS} | {"csrf": csrf}
                r = client.post(url, data=form, follow_redirects=False)
                assert r.status_code < 500, f"POST {url[:100]} with {value[:20]!r}: {r.text[:300]}"
    # The incident is still readable, the session still valid, and the trail intact.
    page = client.get(f"/incidents/{iid}")
    assert page.status_code == 200 and "<script>alert(1)</script>" not in page.text
    with app_state.store.session(read_only=True) as s:
        result = verify(s)
    assert result.ok, result


def test_a_refused_form_value_is_said_on_the_page(client: TestClient, tokens: dict[str, str]
                                                  ) -> None:
    sign_in(client, tokens["admin"])
    r = client.post("/v1/incidents", json={"model": "credit-risk", "title": "t", "tier": "T2"},
                    headers={"Authorization": f"Bearer {tokens['admin']}"})
    iid = r.json()["id"]
    csrf = csrf_of(client.get(f"/incidents/{iid}").text)
    r = client.post(f"/incidents/{iid}/comment", data={"csrf": csrf, "text": "a\x00b"})
    assert r.status_code == 200 and "NUL" in r.text
    assert [e["type"] for e in client.get(
        f"/v1/incidents/{iid}", headers={"Authorization": f"Bearer {tokens['admin']}"}
    ).json()["timeline"]] == ["opened"]
