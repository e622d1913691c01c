"""The dashboard's read model: aggregate, read-only queries over the stages' tables.

Why here and not in each stage's service: pages need fleet-wide, downsampled views (100 models x
30 days of hourly windows) that no stage needs for itself, and loading them through the stage
services would build every `Score` (with its contributors) in Python only to average them away.
These queries group in the database and return small tables. They never write; every change
still goes through a stage service.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import IncidentState
from watchkeeper.store.tables.escalation import DeliveryAttempt, OutboxRow
from watchkeeper.store.tables.foundation import AuditLog
from watchkeeper.store.tables.incidents import Incident, IncidentEvent
from watchkeeper.store.tables.ingest import IngestBatch
from watchkeeper.store.tables.scoring import ScoreRow
from watchkeeper.store.tables.signals import SignalRow

ACTIVE_STATES = [IncidentState.OPEN.value, IncidentState.ACKNOWLEDGED.value,
                 IncidentState.MITIGATING.value]
MAX_COLUMNS = 150  # heatmap columns: more than a screen shows is wasted bytes


def bucket_seconds(span: timedelta, minimum: int = 3600) -> int:
    """Bucket width (whole hours) so that `span` fits in at most MAX_COLUMNS columns."""
    hours = math.ceil(span.total_seconds() / MAX_COLUMNS / 3600)
    return max(minimum, hours * 3600)


def _epoch(session: Session, column: Any) -> ColumnElement[Any]:
    """Seconds since the epoch of a timestamp column, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), Integer)


def _bucket(session: Session, column: Any, seconds: int) -> ColumnElement[Any]:
    return (_epoch(session, column) // seconds) * seconds  # integer division in both dialects


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


# --- scores ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grid:
    """A rows x columns matrix (None where there is no data) with its axes."""

    rows: list[str]
    columns: list[datetime]
    values: list[list[float | None]]
    extra: list[list[int | None]] | None = None  # e.g. the worst tier per cell


def fleet_grid(session: Session, since: datetime, until: datetime,
               models: list[str] | None = None) -> Grid:
    """Worst score and tier per model and time bucket (from the first scored window on, so a
    young fleet gets fine buckets rather than a month of empty columns)."""
    first = _FLEET_CACHE.first_window(session)
    since = max(ensure_utc(since), first) if first is not None else since
    seconds = bucket_seconds(until - since)
    cells = _FLEET_CACHE.cells(session, seconds, int(ensure_utc(since).timestamp()))
    rows = [(m, b, v, t) for (m, b), (v, t) in cells.items()
            if models is None or m in models]
    return _grid(rows, since, until, seconds, sorted({r[0] for r in rows} | set(models or [])))


class _BucketCache:
    """Fleet cells (model, bucket) -> (worst score, worst tier), kept per bucket width and
    brought up to date with only the score rows added since the last look (by primary key).

    Scanning every score of the fleet costs ~0.5 s at 72,000 rows on SQLite; a page that polls
    every few seconds must not pay that each time. Rows are re-read from a margin below the
    newest id seen, since on PostgreSQL ids commit out of order (merging is a max, so reading
    a row twice is harmless), and everything is re-read every REFRESH_S in case rows were
    deleted (retention)."""

    MARGIN = 2000  # PostgreSQL only: SQLite has one writer, so ids commit in order
    REFRESH_S = 600.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: dict[str, tuple[float, datetime | None]] = {}
        self._state: dict[tuple[str, int], tuple[int, float, dict[tuple[str, int],
                                                                   tuple[float, int]]]] = {}

    def cells(self, session: Session, seconds: int,
              since_epoch: int) -> dict[tuple[str, int], tuple[float, int]]:
        key = (str(session.get_bind().url), seconds)
        margin = 0 if session.get_bind().dialect.name == "sqlite" else self.MARGIN
        floor = since_epoch // seconds * seconds
        with self._lock:
            seen, loaded_at, cells = self._state.get(key, (0, 0.0, {}))
            if time.monotonic() - loaded_at > self.REFRESH_S:
                seen, loaded_at, cells = 0, time.monotonic(), {}
            b = _bucket(session, ScoreRow.window_start, seconds).label("b")
            q = (select(ScoreRow.model, b, func.max(ScoreRow.value), func.max(ScoreRow.tier),
                        func.max(ScoreRow.id))
                 .where(ScoreRow.id > seen - margin if seen else ScoreRow.id > 0)
                 .group_by(ScoreRow.model, b))
            if not seen:  # the first read only needs the period shown
                q = q.where(ScoreRow.window_start >= _at(floor))
            for model, bucket, value, tier, top in session.execute(q):
                cell = (model, int(bucket))
                old = cells.get(cell)
                new = (round(float(value), 1), int(tier))
                cells[cell] = new if old is None else (max(old[0], new[0]), max(old[1], new[1]))
                seen = max(seen, int(top))
            cells = {c: v for c, v in cells.items() if c[1] >= floor}
            self._state[key] = (seen, loaded_at, cells)
            return dict(cells)


    def first_window(self, session: Session) -> datetime | None:
        """The oldest scored window (per model through the (model, window_start) index, as
        no index leads with window_start); it only moves when retention deletes scores."""
        key = str(session.get_bind().url)
        with self._lock:
            at, first = self._first.get(key, (0.0, None))
            if first is None or time.monotonic() - at > self.REFRESH_S:
                per_model = select(func.min(ScoreRow.window_start).label("ws")).group_by(
                    ScoreRow.model).subquery()
                found = session.scalar(select(func.min(per_model.c.ws)))
                first = ensure_utc(found) if found is not None else None
                if first is not None:
                    self._first[key] = (time.monotonic(), first)
            return first


_FLEET_CACHE = _BucketCache()


def _grid(rows: list[Any], since: datetime, until: datetime, seconds: int,
          names: list[str]) -> Grid:
    first = int(ensure_utc(since).timestamp()) // seconds * seconds
    count = max(1, math.ceil((int(ensure_utc(until).timestamp()) - first) / seconds))
    index = {name: i for i, name in enumerate(names)}
    values: list[list[float | None]] = [[None] * count for _ in names]
    extra: list[list[int | None]] = [[None] * count for _ in names]
    for name, bucket, value, tier in rows:
        col = (int(bucket) - first) // seconds
        if 0 <= col < count and name in index:
            values[index[name]][col] = round(float(value), 1)
            extra[index[name]][col] = None if tier is None else int(tier)
    columns = [_at(first + i * seconds) for i in range(count)]
    return Grid(names, columns, values, extra)


@dataclass(frozen=True, slots=True)
class Latest:
    model: str
    value: float
    tier: int
    window_start: datetime
    window_end: datetime
    summary: str
    contributors: list[dict[str, Any]]


def latest_scores(session: Session, model: str | None = None) -> dict[str, Latest]:
    """Each model's newest score (one indexed lookup per model via a grouped subquery)."""
    newest = select(ScoreRow.model, func.max(ScoreRow.window_start).label("ws")).group_by(
        ScoreRow.model)
    if model is not None:
        newest = newest.where(ScoreRow.model == model)
    sub = newest.subquery()
    q = select(ScoreRow.model, ScoreRow.value, ScoreRow.tier, ScoreRow.window_start,
               ScoreRow.window_end, ScoreRow.summary, ScoreRow.contributors).join(
        sub, and_(ScoreRow.model == sub.c.model, ScoreRow.window_start == sub.c.ws))
    return {r[0]: Latest(r[0], float(r[1]), int(r[2]), ensure_utc(r[3]), ensure_utc(r[4]), r[5],
                         list(r[6] or [])) for r in session.execute(q)}


def score_series(session: Session, model: str, since: datetime, until: datetime,
                 max_points: int = 800) -> list[tuple[datetime, float, int]]:
    """(time, score, tier) of one model; buckets (worst score) when there are more windows
    than `max_points`."""
    span = until - since
    n = session.scalar(select(func.count()).where(ScoreRow.model == model,
                                                  ScoreRow.window_start >= ensure_utc(since)))
    if (n or 0) <= max_points:
        q = (select(ScoreRow.window_start, ScoreRow.value, ScoreRow.tier)
             .where(ScoreRow.model == model, ScoreRow.window_start >= ensure_utc(since))
             .order_by(ScoreRow.window_start))
        return [(ensure_utc(t), float(v), int(k)) for t, v, k in session.execute(q)]
    seconds = max(60, math.ceil(span.total_seconds() / max_points))
    b = _bucket(session, ScoreRow.window_start, seconds).label("b")
    q = (select(b, func.max(ScoreRow.value), func.max(ScoreRow.tier))
         .where(ScoreRow.model == model, ScoreRow.window_start >= ensure_utc(since))
         .group_by(b).order_by(b))
    return [(_at(t), float(v), int(k)) for t, v, k in session.execute(q)]


def score_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ScoreRow)) or 0)


# --- signals ---------------------------------------------------------------------------------


def drift_grid(session: Session, model: str, since: datetime, until: datetime) -> Grid:
    """Largest |effect size| per feature and time bucket, from the stored drift signals."""
    first = session.scalar(select(func.min(SignalRow.window_start)).where(
        SignalRow.model == model, SignalRow.window_start >= ensure_utc(since)))
    since = max(ensure_utc(since), ensure_utc(first)) if first is not None else since
    seconds = bucket_seconds(until - since)
    b = _bucket(session, SignalRow.window_start, seconds).label("b")
    size = func.coalesce(func.abs(SignalRow.effect_size), SignalRow.severity)
    q = (select(SignalRow.feature, b, func.max(size), func.max(SignalRow.severity))
         .where(SignalRow.model == model, SignalRow.kind == "data_drift",
                SignalRow.feature.is_not(None), SignalRow.segment.is_(None),
                SignalRow.window_start >= ensure_utc(since))
         .group_by(SignalRow.feature, b))
    rows = [(f, bk, v, None if s is None else round(float(s) * 100))
            for f, bk, v, s in session.execute(q)]
    return _grid(rows, since, until, seconds, sorted({r[0] for r in rows}))


def metric_series(session: Session, model: str, since: datetime,
                  kinds: tuple[str, ...]) -> dict[str, list[tuple[datetime, float]]]:
    """Metric values over time (`statistic` of performance / latency signals, whole population),
    one line per kind and method."""
    q = (select(SignalRow.kind, SignalRow.method, SignalRow.window_start,
                func.max(SignalRow.statistic))
         .where(SignalRow.model == model, SignalRow.kind.in_(kinds),
                SignalRow.segment.is_(None), SignalRow.statistic.is_not(None),
                SignalRow.window_start >= ensure_utc(since))
         .group_by(SignalRow.kind, SignalRow.method, SignalRow.window_start)
         .order_by(SignalRow.window_start))
    out: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for kind, method, t, value in session.execute(q):
        out[f"{kind}: {method}"].append((ensure_utc(t), float(value)))
    return dict(out)


def latest_signals(session: Session) -> list[tuple[str, str, str, str, float]]:
    """(model, kind, method, feature, severity) of each model's newest scored window: one
    indexed lookup per model instead of grouping every signal row of the fleet."""
    sub = select(ScoreRow.model, func.max(ScoreRow.window_start).label("ws")).group_by(
        ScoreRow.model).subquery()
    q = (select(SignalRow.model, SignalRow.kind, SignalRow.method, SignalRow.feature,
                func.max(SignalRow.severity))
         .join(sub, and_(SignalRow.model == sub.c.model, SignalRow.window_start == sub.c.ws))
         .where(SignalRow.segment.is_(None))
         .group_by(SignalRow.model, SignalRow.kind, SignalRow.method, SignalRow.feature))
    return [(m, k, meth, f or "", float(s)) for m, k, meth, f, s in session.execute(q)]


# --- incidents -------------------------------------------------------------------------------


def open_by_tier(session: Session) -> dict[tuple[str, int], int]:
    """Active incidents per (model, tier)."""
    q = (select(Incident.model, Incident.tier, func.count())
         .where(Incident.state.in_(ACTIVE_STATES)).group_by(Incident.model, Incident.tier))
    return {(m, int(t)): int(n) for m, t, n in session.execute(q)}


def incident_markers(session: Session, model: str,
                     since: datetime) -> list[tuple[str, str, int, datetime]]:
    q = (select(Incident.id, Incident.title, Incident.max_tier, Incident.opened_at)
         .where(Incident.model == model, Incident.opened_at >= ensure_utc(since))
         .order_by(Incident.opened_at).limit(500))
    return [(i, t, int(k), ensure_utc(at)) for i, t, k, at in session.execute(q)]


@dataclass(frozen=True, slots=True)
class WeekTimes:
    week: datetime
    incidents: int
    mttd_s: float | None
    mttr_s: float | None


def timing_trend(session: Session, now: datetime, weeks: int = 12) -> list[WeekTimes]:
    """Mean time to detect and to resolve per week of detection (dismissed ones left out:
    they were not incidents). Incidents are few, so they are read and averaged here."""
    start = ensure_utc(now) - timedelta(weeks=weeks)
    q = select(Incident.opened_at, Incident.change_point_at, Incident.resolved_at).where(
        Incident.opened_at >= start, Incident.state != IncidentState.DISMISSED.value)
    ttd: dict[int, list[float]] = defaultdict(list)
    ttr: dict[int, list[float]] = defaultdict(list)
    count: dict[int, int] = defaultdict(int)
    for opened, change, resolved in session.execute(q):
        opened = ensure_utc(opened)
        week = int((opened - start).total_seconds() // (7 * 86400))
        count[week] += 1
        if change is not None:
            ttd[week].append(max(0.0, (opened - ensure_utc(change)).total_seconds()))
        if resolved is not None:
            ttr[week].append(max(0.0, (ensure_utc(resolved) - opened).total_seconds()))
    return [WeekTimes(start + timedelta(weeks=w), count[w], _mean(ttd[w]), _mean(ttr[w]))
            for w in range(weeks)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# --- ingest, notifications, audit --------------------------------------------------------------


def ingest_totals(session: Session) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(model, kind) -> (accepted new rows, duplicates, quarantined) over all batches."""
    q = select(IngestBatch.model, IngestBatch.kind, func.sum(IngestBatch.n_new),
               func.sum(IngestBatch.n_duplicates), func.sum(IngestBatch.n_quarantined)
               ).group_by(IngestBatch.model, IngestBatch.kind)
    return {(m, k): (int(a or 0), int(d or 0), int(x or 0)) for m, k, a, d, x in
            session.execute(q)}


def outbox_by_channel(session: Session) -> dict[tuple[str, str], int]:
    q = select(OutboxRow.channel, OutboxRow.status, func.count()).group_by(
        OutboxRow.channel, OutboxRow.status)
    return {(c, s): int(n) for c, s, n in session.execute(q)}


def failed_attempts(session: Session) -> dict[tuple[str, str], int]:
    """Delivery attempts that did not deliver, per channel and outcome (retry, failed, dead)."""
    q = (select(OutboxRow.channel, DeliveryAttempt.outcome, func.count())
         .join(OutboxRow, OutboxRow.id == DeliveryAttempt.outbox_id)
         .where(DeliveryAttempt.outcome != "delivered")
         .group_by(OutboxRow.channel, DeliveryAttempt.outcome))
    return {(c, o): int(n) for c, o, n in session.execute(q)}


def changes(session: Session) -> dict[str, int]:
    """Cheap change markers: pages re-render when any of them moves."""
    return {
        "audit_seq": int(session.scalar(select(func.max(AuditLog.seq))) or 0),
        "scores": int(session.scalar(select(func.max(ScoreRow.id))) or 0),
        "events": int(session.scalar(select(func.max(IncidentEvent.id))) or 0),
        "attempts": int(session.scalar(select(func.max(DeliveryAttempt.id))) or 0),
    }
