"""Reading what ingestion stored: window profiles (merged from their parts), the list of
windows, and the event log (with labels joined) for retraining and evidence.

Which windows are closed: a time window [start, end) is closed once the clock has passed
`end + lateness` (default one minute, for events still in flight). A count window is closed once
it holds its N events. Events that arrive for a closed window are still folded in (as a new
part), so a closed window's `n` can grow; signals re-read a window when its `n` changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.core.clock import ensure_utc
from watchkeeper.ingest import spec as s
from watchkeeper.ingest.eventlog import DAY_US, EventLog
from watchkeeper.ingest.spec import ModelSpec
from watchkeeper.profiles import WindowProfile, merge_all
from watchkeeper.store.tables.ingest import EventFile, ProfilePart

DEFAULT_LATENESS = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class WindowInfo:
    model: str
    start: datetime
    end: datetime
    n: int  # prediction events
    n_labels: int
    closed: bool
    index: int | None = None  # count windows only
    parts: int = 1


def read_window_profile(
    session: Session,
    model: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    index: int | None = None,
) -> WindowProfile:
    """The merged profile of every part inside [start, end) (time windows: several windows merge
    into one profile), or of count window `index`. Empty profile when there is nothing."""
    q = select(ProfilePart.blob).where(ProfilePart.model == model)
    if index is not None:
        q = q.where(ProfilePart.window_index == index)
    if start is not None:
        q = q.where(ProfilePart.window_start >= ensure_utc(start))
    if end is not None:
        q = q.where(ProfilePart.window_end <= ensure_utc(end))
    blobs = session.execute(q.order_by(ProfilePart.id)).scalars().all()
    return merge_all([WindowProfile.from_bytes(b) for b in blobs])


def list_windows(
    session: Session, spec: ModelSpec, *, now: datetime, lateness: timedelta = DEFAULT_LATENESS
) -> list[WindowInfo]:
    now = ensure_utc(now)
    P = ProfilePart
    if spec.window.every is not None:
        rows = session.execute(
            select(P.window_start, P.window_end, func.sum(P.n), func.sum(P.n_labels), func.count())
            .where(P.model == spec.name)
            .group_by(P.window_start, P.window_end)
            .order_by(P.window_start)
        ).all()
        return [
            WindowInfo(
                spec.name,
                ensure_utc(a),
                ensure_utc(b),
                int(n),
                int(nl),
                ensure_utc(b) + lateness <= now,
                None,
                int(k),
            )
            for a, b, n, nl, k in rows
        ]
    size = spec.window.events
    rows = session.execute(
        select(
            P.window_index,
            func.min(P.window_start),
            func.max(P.window_end),
            func.sum(P.n),
            func.sum(P.n_labels),
            func.count(),
        )
        .where(P.model == spec.name)
        .group_by(P.window_index)
        .order_by(P.window_index)
    ).all()
    return [
        WindowInfo(
            spec.name,
            ensure_utc(a),
            ensure_utc(b),
            int(n),
            int(nl),
            int(n) >= (size or 0),
            int(i),
            int(k),
        )
        for i, a, b, n, nl, k in rows
    ]


def read_events(
    session: Session,
    log: EventLog,
    model: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    with_labels: bool = True,
) -> pa.Table:
    """Accepted events with start <= timestamp < end, oldest first; with_labels adds `label`
    and `label_timestamp` (null where no label came yet). Only committed batches are read."""
    lo = None if start is None else int(ensure_utc(start).timestamp() * 1_000_000)
    hi = None if end is None else int(ensure_utc(end).timestamp() * 1_000_000)
    events = _read(session, log, model, "events", lo, hi)
    if events is None:
        return pa.table({s.EVENT_ID: pa.array([], pa.string())})
    ts = events.column(s.TIMESTAMP)
    mask = None
    if lo is not None:
        mask = pc.greater_equal(pc.cast(ts, pa.int64()), lo)
    if hi is not None:
        upper = pc.less(pc.cast(ts, pa.int64()), hi)
        mask = upper if mask is None else pc.and_(mask, upper)
    if mask is not None:
        events = events.filter(mask)
    events = events.sort_by([(s.TIMESTAMP, "ascending")])
    if not with_labels:
        return events
    labels = _read(session, log, model, "labels", lo, hi)
    if labels is None:
        return events.append_column(s.LABEL, pa.nulls(events.num_rows)).append_column(
            "label_timestamp", pa.nulls(events.num_rows, pa.timestamp("us", tz="UTC"))
        )
    labels = labels.select([s.EVENT_ID, s.LABEL, s.TIMESTAMP]).rename_columns(
        [s.EVENT_ID, s.LABEL, "label_timestamp"]
    )
    joined = events.join(labels, keys=s.EVENT_ID, join_type="left outer")
    return joined.sort_by([(s.TIMESTAMP, "ascending")])


def _read(
    session: Session, log: EventLog, model: str, kind: str, lo: int | None, hi: int | None
) -> pa.Table | None:
    F = EventFile
    q = select(F.path).where(F.model == model, F.kind == kind)
    if lo is not None:
        q = q.where(F.max_ts_us >= lo - (DAY_US if kind == "labels" else 0))
    if hi is not None:
        q = q.where(F.min_ts_us < hi + (DAY_US if kind == "labels" else 0))
    paths = session.execute(q.order_by(F.id)).scalars().all()
    if not paths:
        return None
    tables = log.read(paths)
    return pa.concat_tables(tables, promote_options="permissive")
