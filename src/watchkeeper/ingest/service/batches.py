"""Accepting one batch: dedupe, write the event log, fold profiles, record, audit, commit.

Order of durability: the Parquet files are fsynced and renamed first, then the database commits
the batch row (with its keys, file list, profile parts, quarantine and audit entry) in one
transaction. Only then does the caller get its result, the acknowledgement. A crash before the
commit leaves at most orphan files, which no reader lists."""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.ids import new_id
from watchkeeper.ingest import spec as s
from watchkeeper.ingest.eventlog import EventLog, WrittenFile
from watchkeeper.ingest.folding import Part, fold_events, fold_labels, ts_micros, window_keys
from watchkeeper.ingest.service import keys
from watchkeeper.ingest.spec import ModelSpec
from watchkeeper.ingest.validate import Problem, Validated
from watchkeeper.store.tables.ingest import (
    EventFile,
    IngestBatch,
    IngestState,
    ProfilePart,
    QuarantinedRow,
)

# Shared by every batch in the process: each batch runs its event-log write and its fold here,
# beside the key insert (a pool per batch cost a thread start and join per request).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingest")


@dataclass(slots=True)
class BatchResult:
    """What happened to one batch; returned only once the batch is durable."""

    batch_id: str
    model: str
    kind: str  # events | labels
    n_rows: int
    n_new: int
    n_duplicates: int
    n_quarantined: int
    problems: list[Problem] = field(default_factory=list)  # the first MAX_PROBLEMS
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    windows: list[int] = field(default_factory=list)  # window keys touched

    def summary(self) -> str:
        text = f"{self.n_new} new, {self.n_duplicates} duplicates"
        if self.n_quarantined:
            text += f", {self.n_quarantined} quarantined"
        return text

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            other.batch_id,
            self.model,
            self.kind,
            self.n_rows + other.n_rows,
            self.n_new + other.n_new,
            self.n_duplicates + other.n_duplicates,
            self.n_quarantined + other.n_quarantined,
            self.problems + other.problems,
            self.warnings + [w for w in other.warnings if w not in self.warnings],
            self.files + other.files,
            sorted(set(self.windows) | set(other.windows)),
        )


def first_occurrences(ids: pa.Array) -> np.ndarray:
    """Mask keeping the first row of each event id within the batch."""
    n = len(ids)
    if n == 0 or pc.count_distinct(ids).as_py() == n:
        return np.ones(n, dtype=bool)
    grouped = (
        pa.table({"id": ids, "i": pa.array(np.arange(n))}).group_by("id").aggregate([("i", "min")])
    )
    keep = np.zeros(n, dtype=bool)
    keep[grouped.column("i_min").to_numpy()] = True
    return keep


def accept(
    session: Session,
    log: EventLog,
    spec: ModelSpec,
    kind: str,
    checked: Validated,
    *,
    source: str,
    actor: str,
    now: datetime,
) -> BatchResult:
    """Record one validated batch in the caller's transaction. Files written here are deleted
    again if anything fails here; if the caller's commit fails, it must delete `result.files`."""
    batch_id = new_id("b")
    table = checked.table
    n_in = table.num_rows + checked.bad_rows.size
    within = first_occurrences(table.column(s.EVENT_ID))
    table = table.filter(pa.array(within)) if not within.all() else table
    ids = table.column(s.EVENT_ID).to_pylist()
    batch = IngestBatch(
        id=batch_id,
        model=spec.name,
        kind=kind,
        source=source[:1000],
        received_at=now,
        n_rows=n_in,
        n_new=0,
        n_duplicates=0,
        n_quarantined=int(checked.bad_rows.size),
    )
    session.add(batch)
    session.flush()
    written: list[WrittenFile] = []
    try:
        if kind == "events":
            new, written, parts = _events(session, log, spec, table, ids, batch_id)
        else:
            new, written, parts, unknown = _labels(session, log, spec, table, ids, batch_id)
            checked = _with_unknown(checked, table, unknown)
        if checked.rejected.num_rows:
            written += log.write(
                "quarantine",
                spec.name,
                batch_id,
                checked.rejected,
                np.full(checked.rejected.num_rows, int(now.timestamp() * 1e6)),
            )
        n_new = int(new.sum())
        result = BatchResult(
            batch_id,
            spec.name,
            kind,
            n_in,
            n_new,
            n_in - n_new - checked.bad_rows.size,
            int(checked.bad_rows.size),
            checked.problems,
            checked.warnings,
            [w.path for w in written],
            [p.window_key for p in parts],
        )
        _record(session, spec, batch, result, written, parts, checked, now)
        action = (
            AuditAction.INGEST_QUARANTINE
            if result.n_quarantined
            else AuditAction.INGEST_BATCH
            if kind == "events"
            else AuditAction.INGEST_LABELS
        )
        audit.append(
            session,
            actor=actor,
            action=action,
            subject=f"model:{spec.name}",
            details={
                "batch": batch_id,
                "kind": kind,
                "source": source[:200],
                "rows": n_in,
                "new": n_new,
                "duplicates": result.n_duplicates,
                "quarantined": result.n_quarantined,
            },
            at=now,
        )
        session.flush()
    except BaseException:
        log.delete(w.path for w in written)
        raise
    return result


def _events(
    session: Session,
    log: EventLog,
    spec: ModelSpec,
    table: pa.Table,
    ids: list[str],
    batch_id: str,
) -> tuple[np.ndarray, list[WrittenFile], list[Part]]:
    state = _state(session, spec.name)
    ts = ts_micros(table)
    wins = window_keys(spec, ts, state.events_seen)
    # Optimistically, while the keys go in (SQLite and PostgreSQL release the GIL while they
    # work), two threads write the batch to the event log (Parquet encoding and fsync release
    # the GIL too) and fold it into profiles. In the rare batch that turns out to hold known
    # events, both results are dropped and redone for the new rows only.
    pending: Future[list[WrittenFile]] | None = _POOL.submit(
        log.write, "events", spec.name, batch_id, table, ts
    )
    folding: Future[list[Part]] | None = _POOL.submit(fold_events, spec, table, wins, ts)
    try:
        new = keys.insert_keys(session, "event_keys", spec.name, batch_id, ids, ts, wins)
        if not new.all():
            assert pending is not None and folding is not None
            log.delete(w.path for w in pending.result())
            folding.cancel()
            pending = folding = None
            table, ts = table.filter(pa.array(new)), ts[new]
            ids = [i for i, keep in zip(ids, new.tolist(), strict=True) if keep]
            if spec.window.events is not None:  # count windows number only new events
                wins = window_keys(spec, ts, state.events_seen)
                keys.update_windows(session, "event_keys", spec.name, ids, wins)
            else:
                wins = wins[new]
        if folding is not None:
            parts = folding.result()
        else:
            parts = fold_events(spec, table, wins, ts) if table.num_rows else []
        if pending is not None:
            written = pending.result()
        elif table.num_rows:
            written = log.write("events", spec.name, batch_id, table, ts)
        else:
            written = []
    except BaseException:
        if pending is not None:
            with contextlib.suppress(Exception):
                log.delete(w.path for w in pending.result())
        raise
    if table.num_rows:
        state.events_seen += table.num_rows
        top = int(ts.max())
        state.watermark_us = top if state.watermark_us is None else max(state.watermark_us, top)
    return new, written, parts


def _labels(
    session: Session, log: EventLog, spec: ModelSpec, table: pa.Table, ids: list[str], batch_id: str
) -> tuple[np.ndarray, list[WrittenFile], list[Part], np.ndarray]:
    known = keys.lookup_events(session, spec.name, ids)
    found = np.fromiter((i in known for i in ids), dtype=bool, count=len(ids))
    new = np.zeros(len(ids), dtype=bool)
    if not found.any():
        return new, [], [], ~found
    sub = table.filter(pa.array(found)) if not found.all() else table
    sub_ids = [i for i, f in zip(ids, found.tolist(), strict=True) if f]
    ev_ts = np.fromiter((known[i][0] for i in sub_ids), dtype=np.int64, count=len(sub_ids))
    wins = np.fromiter((known[i][1] for i in sub_ids), dtype=np.int64, count=len(sub_ids))
    fresh = keys.insert_keys(session, "label_keys", spec.name, batch_id, sub_ids, ev_ts, wins)
    new[np.flatnonzero(found)[fresh]] = True
    if not fresh.any():
        return new, [], [], ~found
    sub, ev_ts, wins = sub.filter(pa.array(fresh)), ev_ts[fresh], wins[fresh]
    # Labels are filed under their event's day, so the join reader reads matching partitions.
    sub = sub.append_column(
        "event_timestamp", pa.array(ev_ts, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    )
    written = log.write("labels", spec.name, batch_id, sub, ev_ts)
    parts = fold_labels(spec, sub.column(s.LABEL), wins, ev_ts)
    return new, written, parts, ~found


def _with_unknown(checked: Validated, table: pa.Table, unknown: np.ndarray) -> Validated:
    """Labels whose event was never accepted are quarantined like any other bad row."""
    if not unknown.any():
        return checked
    ids = table.column(s.EVENT_ID).filter(pa.array(unknown)).to_pylist()
    rows = checked.rows  # may be longer than table if within-batch duplicates were dropped
    problems = list(checked.problems)
    id_to_row = dict(zip(checked.table.column(s.EVENT_ID).to_pylist(), rows.tolist(), strict=True))
    for eid in ids:
        problems.append(
            Problem(
                id_to_row.get(eid, 0),
                s.EVENT_ID,
                "the event_id of an accepted prediction event",
                repr(eid)[:120],
                eid,
            )
        )
    unknown_rows = np.array([id_to_row.get(e, 0) for e in ids], dtype=np.int64)
    extra = table.filter(pa.array(unknown))
    rejected = extra if checked.rejected.num_rows == 0 else _concat_loose(checked.rejected, extra)
    return Validated(
        checked.table,
        checked.rows,
        np.concatenate([checked.bad_rows, unknown_rows]),
        rejected,
        problems,
        checked.n_problems + len(ids),
        checked.warnings,
    )


def _concat_loose(a: pa.Table, b: pa.Table) -> pa.Table:
    """Rejected raw rows and rejected normalised rows have different schemas: keep both as text."""

    def as_text(t: pa.Table) -> pa.Table:
        return pa.table({n: pc.cast(t.column(n), pa.string()) for n in t.column_names})

    try:
        return pa.concat_tables([as_text(a), as_text(b)], promote_options="default")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return a


def _state(session: Session, model: str) -> IngestState:
    state = session.execute(
        select(IngestState).where(IngestState.model == model).with_for_update()
    ).scalar_one_or_none()
    if state is None:
        state = IngestState(model=model, events_seen=0, watermark_us=None)
        session.add(state)
        session.flush()
    return state


def _record(
    session: Session,
    spec: ModelSpec,
    batch: IngestBatch,
    result: BatchResult,
    written: list[WrittenFile],
    parts: list[Part],
    checked: Validated,
    now: datetime,
) -> None:
    batch_id = batch.id
    batch.n_new, batch.n_duplicates = result.n_new, result.n_duplicates
    batch.n_quarantined = result.n_quarantined
    if written:
        session.execute(
            insert(EventFile),
            [
                {
                    "batch_id": batch_id,
                    "model": spec.name,
                    "kind": w.path.split("/", 1)[0],
                    "day": w.day,
                    "path": w.path,
                    "n_rows": w.n_rows,
                    "min_ts_us": w.min_ts_us,
                    "max_ts_us": w.max_ts_us,
                }
                for w in written
            ],
        )
    if parts:
        count = spec.window.events is not None
        session.execute(
            insert(ProfilePart),
            [
                {
                    "model": spec.name,
                    "window_start": _dt(p.start_us),
                    "window_end": _dt(p.end_us),
                    "window_index": p.window_key if count else None,
                    "n": p.profile.n,
                    "n_labels": p.profile.label.n if p.profile.label is not None else 0,
                    "batch_id": batch_id,
                    "created_at": now,
                    "blob": p.profile.to_bytes(),
                }
                for p in parts
            ],
        )
    if checked.problems:
        session.execute(
            insert(QuarantinedRow),
            [
                {
                    "batch_id": batch_id,
                    "model": spec.name,
                    "row_no": p.row,
                    "field": p.field[:200],
                    "expected": p.expected[:500],
                    "got": p.got,
                    "event_id": _short_id(p.event_id),
                }
                for p in checked.problems
            ],
        )


def _short_id(eid: Any) -> str | None:
    return None if eid is None else str(eid).replace("\x00", "\\x00")[:200]


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)
