"""Ingest over HTTP: JSON, Arrow IPC and Parquet bodies; quarantined rows named; bad bodies
answered with problem details that say what was wrong; 401/403; nothing accepted is lost."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from watchkeeper.api.deps import AppState
from watchkeeper.api.routers import ingest as ingest_router
from watchkeeper.ingest import IngestService

PROBLEM = "application/problem+json"
ARROW = "application/vnd.apache.arrow.stream"


def auth(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


def events(n: int, start: int = 0) -> pa.Table:
    rng = np.random.default_rng(start)
    return pa.table({
        "event_id": [f"e{i}" for i in range(start, start + n)],
        "timestamp": pa.array(np.datetime64("2026-03-01T00:00:00", "us")
                              + np.arange(n).astype("timedelta64[s]"),
                              pa.timestamp("us", tz="UTC")),
        "income": rng.gamma(2.0, 20_000.0, n),
        "age": rng.integers(18, 90, n).astype(float),
        "debt_ratio": rng.random(n),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "probability": rng.random(n),
    })


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def stored_ids(state: AppState) -> set[str]:
    service = IngestService(state.store, state.policy, state.data_dir)
    return set(service.read_events("credit-risk", with_labels=False)["event_id"].to_pylist())


def test_json_batch_is_accepted_and_duplicates_counted(client: TestClient,
                                                       tokens: dict[str, str],
                                                       app_state: AppState) -> None:
    rows = events(5).to_pylist()
    for r in rows:
        r["timestamp"] = r["timestamp"].isoformat()
    r = client.post("/v1/models/credit-risk/events", json=rows, headers=auth(tokens["alice"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["quarantined"]) == (5, 0, 0)
    again = client.post("/v1/models/credit-risk/events", json={"events": rows[:3]},
                        headers=auth(tokens["alice"])).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert stored_ids(app_state) == {f"e{i}" for i in range(5)}


def test_arrow_and_parquet_bodies(client: TestClient, tokens: dict[str, str],
                                  app_state: AppState) -> None:
    h = auth(tokens["alice"], **{"content-type": ARROW})
    r = client.post("/v1/models/credit-risk/events", content=arrow_bytes(events(1000)),
                    headers=h)
    assert r.status_code == 200 and r.json()["accepted"] == 1000, r.text
    pq_body = parquet_bytes(events(500, start=1000))
    r = client.post("/v1/models/credit-risk/events?format=parquet", content=pq_body,
                    headers=auth(tokens["alice"], **{"content-type": "application/octet-stream"}))
    assert r.status_code == 200 and r.json()["accepted"] == 500, r.text
    r = client.post("/v1/models/credit-risk/events", content=parquet_bytes(events(10, 2000)),
                    headers=auth(tokens["alice"],
                                 **{"content-type": "application/vnd.apache.parquet"}))
    assert r.json()["accepted"] == 10
    assert len(stored_ids(app_state)) == 1510


def test_bad_rows_are_quarantined_with_row_field_and_expectation(
        client: TestClient, tokens: dict[str, str], app_state: AppState) -> None:
    t = events(4).to_pylist()
    for r in t:
        r["timestamp"] = r["timestamp"].isoformat()
    t[1]["age"] = "very old"
    t[2]["region"] = "<script>alert(1)</script>" * 50  # hostile, long
    r = client.post("/v1/models/credit-risk/events", json=t, headers=auth(tokens["alice"]))
    body = r.json()
    assert r.status_code == 200 and body["accepted"] == 2 and body["quarantined"] == 2
    by_row = {p["row"]: p for p in body["problems"]}
    assert by_row[2]["field"] == "age" and "number" in by_row[2]["expected"]
    assert by_row[3]["field"] == "region" and "north" in by_row[3]["expected"]
    assert len(by_row[3]["got"]) < 200  # hostile values come back truncated
    assert stored_ids(app_state) == {"e0", "e3"}


@pytest.mark.parametrize(("content_type", "body", "status", "says"), [
    ("application/json", b"", 422, "empty"),
    ("application/json", b'[{"event_id": "a",', 422, "malformed JSON at line 1"),
    ("application/json", b'{"rows": 3}', 422, "a list of records"),
    ("application/json", b'[{"event_id": "a"}, 7]', 422, "row 2"),
    ("application/json", b"\xff\xfe[]", 422, "UTF-8"),
    ("application/json", b"[" * 200_000 + b"]" * 200_000, 422, "nests too deeply"),
    ("application/json", b'[{"event_id": 1e999999}]', 200, None),
    ("text/csv", b"event_id\na\n", 415, "application/vnd.apache.arrow.stream"),
    (ARROW, b"\x00\x01garbage", 422, "Arrow IPC stream"),
    ("application/vnd.apache.parquet", b"PAR1 not really", 422, "Parquet"),
])
def test_bad_bodies_get_problem_details(client: TestClient, tokens: dict[str, str],
                                        content_type: str, body: bytes, status: int,
                                        says: str | None) -> None:
    r = client.post("/v1/models/credit-risk/events", content=body,
                    headers=auth(tokens["alice"], **{"content-type": content_type}))
    assert r.status_code == status, r.text
    if says is None:  # an overflowing number is a value for the schema to judge, not a 500
        assert r.json()["accepted"] + r.json()["quarantined"] == 1
        return
    assert r.headers["content-type"] == PROBLEM
    assert says in r.json()["detail"]


def test_truncated_arrow_stream_is_refused_and_nothing_is_half_stored(
        client: TestClient, tokens: dict[str, str], app_state: AppState) -> None:
    whole = arrow_bytes(events(200))
    r = client.post("/v1/models/credit-risk/events", content=whole[: len(whole) // 2],
                    headers=auth(tokens["alice"], **{"content-type": ARROW}))
    assert r.status_code == 422 and "Arrow IPC" in r.json()["detail"]
    assert stored_ids(app_state) == set()


def test_oversized_bodies_and_batches_get_413(client: TestClient, tokens: dict[str, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_router, "MAX_BODY_BYTES", 10_000)
    body = arrow_bytes(events(2000))
    r = client.post("/v1/models/credit-risk/events", content=body,
                    headers=auth(tokens["alice"], **{"content-type": ARROW}))
    assert r.status_code == 413 and "split the batch" in r.json()["detail"]
    monkeypatch.setattr(ingest_router, "MAX_BODY_BYTES", 10_000_000)
    monkeypatch.setattr(ingest_router, "MAX_JSON_BYTES", 1000)
    r = client.post("/v1/models/credit-risk/events", json=[{"event_id": "x" * 2000}],
                    headers=auth(tokens["alice"]))
    assert r.status_code == 413 and "arrow.stream" in r.json()["detail"]
    monkeypatch.setattr(ingest_router, "MAX_ROWS", 100)
    r = client.post("/v1/models/credit-risk/events", content=body,
                    headers=auth(tokens["alice"], **{"content-type": ARROW}))
    assert r.status_code == 413 and "2,000 rows" in r.json()["detail"]


def test_labels_join_their_events(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["alice"], **{"content-type": ARROW})
    client.post("/v1/models/credit-risk/events", content=arrow_bytes(events(10)), headers=h)
    r = client.post("/v1/models/credit-risk/labels",
                    content=json.dumps({"labels": [{"event_id": "e1", "label": 1},
                                                   {"event_id": "e2", "label": 0}]}),
                    headers=auth(tokens["alice"], **{"content-type": "application/json"}))
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text


def test_ingest_needs_a_token_operate_rights_and_scope(client: TestClient,
                                                       tokens: dict[str, str]) -> None:
    url = "/v1/models/credit-risk/events"
    assert client.post(url, json=[]).status_code == 401
    r = client.post(url, json=[{"event_id": "x"}], headers=auth(tokens["victor"]))
    assert r.status_code == 403 and "operate" in r.json()["detail"]
    r = client.post(url, json=[{"event_id": "x"}], headers=auth(tokens["rita"]))
    assert r.status_code == 403
    r = client.post("/v1/models/nope/events", json=[{"event_id": "x"}],
                    headers=auth(tokens["admin"]))
    assert r.status_code == 404 and "credit-risk" in r.json()["detail"]
    audit = client.get("/v1/audit", headers=auth(tokens["admin"])).json()
    entries = audit if isinstance(audit, list) else audit.get("entries", audit)
    assert any("ingest.events" in json.dumps(e) for e in entries)
