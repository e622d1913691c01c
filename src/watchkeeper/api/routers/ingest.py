"""/v1/models/{model}/events and /labels: ingest over HTTP.

Bodies: a JSON batch (a list of records, or {"events": [...]} / {"labels": [...]}), an Arrow
IPC stream (application/vnd.apache.arrow.stream; what the SDK sends) or a Parquet file
(application/vnd.apache.parquet, or application/octet-stream with ?format=parquet). The answer
is the ingestion service's BatchResult, given only once the batch is durable; quarantined rows
are listed with their row, field and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import AppState, PrincipalDep, StateDep, allow, policy_of
from watchkeeper.core.errors import InputError
from watchkeeper.engine.access import Permission
from watchkeeper.ingest import BatchResult, IngestService

router = APIRouter(prefix="/v1/models", tags=["ingest"])

MAX_BODY_BYTES = 256 * 1024 * 1024  # a million events x 50 features in Arrow is ~ 420 MB
MAX_ROWS = 1_000_000
# JSON costs ~20x its size in Python objects while it is converted; large batches go columnar.
MAX_JSON_BYTES = 32 * 1024 * 1024
ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
JSON = "application/json"
ACCEPTED = f"{JSON}, {ARROW}, {PARQUET} (or application/octet-stream with ?format=parquet)"


def ingest_service(request: Request, st: AppState) -> IngestService:
    """One ingestion service per loaded policy (a policy apply swaps `st.policy`)."""
    cached: IngestService | None = getattr(request.app.state, "ingest", None)
    if cached is None or cached.policy is not st.policy:
        cached = IngestService(st.store, policy_of(st), st.data_dir, clock=st.clock)
        request.app.state.ingest = cached
    return cached


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` (not after buffering it all)."""
    limit = MAX_BODY_BYTES if limit is None else limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is {int(declared):,} bytes; the limit is "
                                 f"{limit:,} bytes: split the batch")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body passed the limit of {limit:,} bytes: "
                                     "split the batch")
        parts.append(chunk)
    return b"".join(parts)


def parse_body(body: bytes, content_type: str, kind: str, fmt: str | None = None) -> Any:
    """Bytes -> a pyarrow Table or a list of records, with errors that say what was wrong."""
    media = content_type.split(";")[0].strip().lower()
    if not body:
        raise InputError("the request body is empty", field="body",
                         expected=f"a batch of {kind} as {ACCEPTED}")
    if media == JSON or media.endswith("+json"):
        return _json_records(body, kind)
    if media == ARROW:
        try:
            return pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            raise InputError(f"the body is not a complete Arrow IPC stream ({exc})",
                             field="body", expected="an Arrow IPC stream (schema message, "
                             "record batches, end-of-stream marker)") from None
    if media == PARQUET or (media == "application/octet-stream" and fmt == "parquet"):
        try:
            return pq.read_table(pa.BufferReader(body))
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            raise InputError(f"the body is not a complete Parquet file ({exc})",
                             field="body", expected="a Parquet file") from None
    raise HTTPException(415, f"cannot read a body of type {media or 'none'!r}; send {ACCEPTED}")


def _json_records(body: bytes, kind: str) -> list[Any]:
    if len(body) > MAX_JSON_BYTES:
        raise HTTPException(413, f"a JSON batch may have at most {MAX_JSON_BYTES:,} bytes; "
                                 f"send larger batches as {ARROW} or Parquet")
    try:
        data = json.loads(body.decode("utf-8"))  # bytes would be sniffed as UTF-16/32
    except UnicodeDecodeError as exc:
        raise InputError(f"the body is not UTF-8 text ({exc.reason} at byte {exc.start})",
                         field="body", expected="UTF-8 JSON") from None
    except RecursionError:
        raise InputError("the JSON nests too deeply", field="body",
                         expected="a flat list of records") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                         field="body", expected="a JSON list of records") from None
    if isinstance(data, dict) and set(data) == {kind}:
        data = data[kind]
    if not isinstance(data, list):
        raise InputError(f"got a JSON {type(data).__name__}", field="body",
                         expected=f'a list of records or {{"{kind}": [...]}}')
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise InputError(f"got a JSON {type(rec).__name__}", row=i + 1, field="body",
                             expected="one JSON object per record")
    return data


def result_dict(result: BatchResult) -> dict[str, Any]:
    body = asdict(result)
    body.pop("files", None)  # server paths are not the caller's business
    return {**body, "accepted": result.n_new, "duplicates": result.n_duplicates,
            "quarantined": result.n_quarantined}


async def _ingest(kind: str, model: str, request: Request, who: PrincipalDep,
                  st: StateDep) -> dict[str, Any]:
    await run_in_threadpool(allow, st, who, Permission.OPERATE, model, f"ingest.{kind}")
    service = ingest_service(request, st)
    service.spec(model)  # an unknown model is a 404 before the body is read
    body = await read_body(request)
    data = await run_in_threadpool(parse_body, body, request.headers.get("content-type", ""),
                                   kind, request.query_params.get("format"))
    n = data.num_rows if isinstance(data, pa.Table) else len(data)
    if n > MAX_ROWS:
        raise HTTPException(413, f"the batch has {n:,} rows; the limit is {MAX_ROWS:,} per "
                                 "request: split it")
    fn = service.ingest_events if kind == "events" else service.ingest_labels
    result = await run_in_threadpool(fn, model, data, source="http", actor=who.name)
    return result_dict(result)


@router.post("/{model}/events")
async def ingest_events(model: str, request: Request, who: PrincipalDep,
                        st: StateDep) -> dict[str, Any]:
    """Log a batch of prediction events (idempotent on event_id). Needs operate rights."""
    return await _ingest("events", model, request, who, st)


@router.post("/{model}/labels")
async def ingest_labels(model: str, request: Request, who: PrincipalDep,
                        st: StateDep) -> dict[str, Any]:
    """Log delayed labels (event_id, label, optional timestamp). Needs operate rights."""
    return await _ingest("labels", model, request, who, st)
