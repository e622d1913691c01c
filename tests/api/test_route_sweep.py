"""Every /v1 route, as an admin, with hostile path segments, query values and bodies: the answer
is never a server error, and every refusal is problem+json whose detail says something.

The route list comes from the app's OpenAPI document, so a route added later is swept without
editing this file. Runs on SQLite and PostgreSQL (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from watchkeeper.api.deps import AppState
from watchkeeper.audit import verify

PROBLEM = "application/problem+json"
SEGMENTS = [
    "..%2F..%2Fetc%2Fpasswd",
    "'; DROP TABLE incidents; --",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%00",
    "x" * 4000,
    "%F0%9F%99%82%C3%BC",
    "-1",
]
QUERY_VALUES = ["", "-1", "1e309", "99999999999999999999999", "not-a-date", "%00", "x" * 4000,
                "2026-02-30T25:61:00Z"]
BODIES: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("truncated", b'{"note": "unfinished'),
    ("a list", b"[]"),
    ("a string", b'"text"'),
    ("null", b"null"),
    ("deep", b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("huge", json.dumps({"note": "x" * 3_000_000, "reason": "y" * 3_000_000}).encode()),
    ("not utf-8", b'{"note": "\xff\xfe"}'),
    ("nul", b'{"note": "a\\u0000b", "reason": "\\u0000", "tier": "\\u0000"}'),
    ("wrong types", b'{"note": 3, "reason": [], "tier": {}, "until": 5, "labels": "x"}'),
]


def routes(client: TestClient) -> list[tuple[str, str, list[str]]]:
    out = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in operations.items():
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            out.append((method.upper(), path, query))
    return out


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def check(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM), what
        detail = response.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), f"{what}: no detail"


@pytest.fixture
def admin(client: TestClient, tokens: dict[str, str]) -> Iterator[TestClient]:
    client.headers["Authorization"] = f"Bearer {tokens['admin']}"
    yield client


def test_there_are_routes_to_sweep(admin: TestClient) -> None:
    assert len(routes(admin)) >= 40


def test_hostile_path_segments(admin: TestClient) -> None:
    for method, path, _ in routes(admin):
        for segment in SEGMENTS:
            url = fill(path, segment)
            body = b"{}" if method in {"POST", "PUT", "PATCH"} else None
            check(admin.request(method, url, content=body,
                                headers={"Content-Type": "application/json"}),
                  f"{method} {url[:120]}")


def test_hostile_query_values(admin: TestClient) -> None:
    for method, path, query in routes(admin):
        if method != "GET" or not query:
            continue
        url = fill(path, "credit-risk")
        for name in query:
            for value in QUERY_VALUES:
                check(admin.get(url, params={name: value}), f"GET {url}?{name}={value[:40]}")


def test_hostile_bodies(admin: TestClient, app_state: AppState) -> None:
    for method, path, _ in routes(admin):
        if method not in {"POST", "PUT", "PATCH"}:
            continue
        url = fill(path, "credit-risk")
        for name, body in BODIES:
            check(admin.request(method, url, content=body,
                                headers={"Content-Type": "application/json"}),
                  f"{method} {url} with a {name} body")
    # Refusals wrote nothing half-way: the audit chain still verifies.
    with app_state.store.session(read_only=True) as s:
        result = verify(s)
    assert result.ok, result


def test_well_formed_bodies_with_hostile_text_on_a_real_incident(admin: TestClient) -> None:
    # Shapes that pass validation reach the handlers and the store: NUL in a text column is
    # refused with the field named (PostgreSQL cannot store it; inside JSON documents it is
    # escaped and kept), and nothing of the refused change is kept.
    r = admin.post("/v1/incidents", json={"model": "credit-risk", "title": "t", "tier": "T2"})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    cases = [("POST", f"/v1/incidents/{iid}/comments", {"text": "a\u0000b"}),
             ("POST", "/v1/incidents", {"model": "credit-risk", "title": "\u0000", "tier": "T1"}),
             ("POST", f"/v1/incidents/{iid}/acknowledge", {"rationale": "x\u0000"}),
             ("POST", "/v1/silences", {"matchers": ["model=credit-risk"], "reason": "\u0000"})]
    for method, url, body in cases:
        r = admin.request(method, url, json=body)
        check(r, f"{method} {url}")
        assert r.status_code == 422 and "NUL" in r.json()["detail"], (url, r.text)
    incident = admin.get(f"/v1/incidents/{iid}").json()
    assert incident["state"] == "open"
    assert [e["type"] for e in incident["timeline"]] == ["opened"]
    assert len(admin.get("/v1/incidents").json()) == 1
    # Markup and long Unicode text are data, kept exactly.
    text = "<script>alert(1)</script> ü🙂 " * 300
    assert admin.post(f"/v1/incidents/{iid}/comments", json={"text": text}).status_code == 201
    assert admin.get(f"/v1/incidents/{iid}").json()["timeline"][-1]["text"] == text
