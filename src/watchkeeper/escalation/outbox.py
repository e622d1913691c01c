"""The durable notification outbox.

`enqueue` writes a notification in the caller's transaction, so it is queued if and only if
the incident change that caused it commits; its idempotency key makes re-enqueueing a no-op.
`deliver_due` is the worker: it claims due rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so
several workers share the queue; SQLite: the store's write lock makes it single-writer),
sends them concurrently outside any transaction, then records every attempt in the delivery
log. Failures worth retrying come back later with exponential backoff and jitter; after the
last attempt, or at once for a permanent failure, the row is dead-lettered with an audit entry.

A claimed row carries a lease (its next_attempt_at moves to now + lease): a worker that dies
mid-send leaves rows that become due again when the lease runs out. That is at-least-once
delivery; receivers get the idempotency key to drop the rare duplicate.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from watchkeeper.audit import append as audit_append
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.ids import new_id
from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers import NOTIFIERS, DeliveryError, Notifier
from watchkeeper.escalation.notifiers.base import mask
from watchkeeper.incidents.lifecycle import ACTIVE
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import DeliveryAttempt, OutboxRow
from watchkeeper.store.tables.incidents import Incident

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"
ACTOR = "escalation"
DEFAULT_MAX_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": wait d/2 + uniform(0, d/2), d = base * 2^(n-1)
    capped. With the defaults, 20 attempts span at least ~1.6 h, so an hour-long outage of a
    receiver loses nothing; a channel's own `max_attempts` overrides the count."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=15)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    lease: timedelta = timedelta(minutes=2)

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None
              ) -> timedelta:
        full = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempt - 1))
        wait = full / 2 + rng.uniform(0, full / 2)
        if retry_after is not None:  # the receiver's Retry-After is a floor, within the cap
            wait = max(wait, min(retry_after, self.cap.total_seconds()))
        return timedelta(seconds=wait)


@dataclass
class DeliveryStats:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)


def enqueue(
    session: Session,
    incident_id: str,
    channel: ChannelConfig,
    audience: str,
    payload: Notification | Mapping[str, Any],
    idempotency_key: str,
    *,
    now: datetime,
    max_attempts: int | None = None,
) -> bool:
    """Queue one notification in the caller's transaction. Returns False (and changes nothing)
    when a notification with this idempotency key was queued before."""
    row = outbox_values(incident_id, channel, audience, payload, idempotency_key, now=now,
                        max_attempts=max_attempts)
    return enqueue_many(session, [row]) == 1


def outbox_values(
    incident_id: str,
    channel: ChannelConfig,
    audience: str,
    payload: Notification | Mapping[str, Any],
    idempotency_key: str,
    *,
    now: datetime,
    max_attempts: int | None = None,
) -> dict[str, Any]:
    """One outbox row's values, for `enqueue_many`."""
    body = payload.to_dict() if isinstance(payload, Notification) else dict(payload)
    attempts = max_attempts or int(channel.settings.get("max_attempts") or 0) or None
    return {
        "id": new_id("ntf"), "idempotency_key": idempotency_key, "incident_id": incident_id,
        "channel": channel.name, "channel_type": channel.type,
        "channel_config": channel.to_dict(), "audience": audience, "payload": body,
        "status": PENDING, "attempts": 0, "max_attempts": attempts or DEFAULT_MAX_ATTEMPTS,
        "next_attempt_at": ensure_utc(now), "created_at": ensure_utc(now),
    }


def enqueue_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue many rows (from `outbox_values`) in one statement; returns how many were new.

    INSERT ... ON CONFLICT (idempotency_key) DO NOTHING, with the values bound as parameters
    so the statement compiles once; RETURNING counts the inserted rows on both databases
    (rowcount is not reliable for this statement).
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = OutboxRow.__table__
    stmt = (pg_insert(table) if dialect == "postgresql" else sqlite_insert(table))
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id)
    return len(session.execute(stmt, list(rows)).all())


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: str
    key: str
    incident_id: str
    channel: Mapping[str, Any]
    payload: Mapping[str, Any]
    attempt: int
    max_attempts: int


@dataclass(frozen=True, slots=True)
class _Result:
    job: _Claimed
    ok: bool
    retryable: bool
    status_code: int | None
    error: str | None
    retry_after: float | None
    duration_ms: float


def _group_by_keys(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    return groups


def _claim(store: Store, now: datetime, limit: int, retry: RetryPolicy) -> list[_Claimed]:
    with store.session() as s:
        rows = s.execute(
            select(OutboxRow.id, OutboxRow.idempotency_key, OutboxRow.incident_id,
                   OutboxRow.channel_config, OutboxRow.payload, OutboxRow.attempts,
                   OutboxRow.max_attempts)
            .where(OutboxRow.status.in_((PENDING, SENDING)), OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        lease_end = now + retry.lease
        table = OutboxRow.__table__
        s.execute(update(table).where(table.c.id == bindparam("_id"))
                  .values(status=SENDING, attempts=bindparam("n"), next_attempt_at=lease_end),
                  [{"_id": r.id, "n": r.attempts + 1} for r in rows])
        return [_Claimed(r.id, r.idempotency_key, r.incident_id, r.channel_config, r.payload,
                         r.attempts + 1, r.max_attempts) for r in rows]


class _Notifiers:
    """One notifier per distinct channel configuration, shared by the sending threads."""

    def __init__(self, env: Mapping[str, str], http: httpx.Client) -> None:
        self.env, self.http = env, http
        self._cache: dict[str, Notifier] = {}
        self._lock = threading.Lock()

    def get(self, config: Mapping[str, Any]) -> Notifier:
        key = json.dumps(config, sort_keys=True, default=str)
        with self._lock:
            if key not in self._cache:
                channel = ChannelConfig.from_dict(config)
                cls = NOTIFIERS.get(channel.type)
                if cls is None:
                    raise DeliveryError(f"unknown channel type {channel.type!r}; known: "
                                        + ", ".join(sorted(NOTIFIERS)), retryable=False)
                timeout = float(channel.settings.get("timeout") or 10.0)
                self._cache[key] = cls(channel, self.env, self.http, timeout=timeout)
            return self._cache[key]


_shared: httpx.Client | None = None
_shared_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """One pooled HTTP client per process: keep-alive connections across delivery rounds, and
    its TLS context (slow to build) is made once."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.is_closed:
            _shared = httpx.Client(limits=httpx.Limits(max_connections=64,
                                                       max_keepalive_connections=32))
        return _shared


def _send(job: _Claimed, notifiers: _Notifiers) -> _Result:
    start = time.perf_counter()
    try:
        notifier = notifiers.get(job.channel)
        delivered = notifier.send(Notification.from_dict(job.payload))
        return _Result(job, True, False, delivered.status_code, None, None,
                       (time.perf_counter() - start) * 1000)
    except DeliveryError as exc:
        return _Result(job, False, exc.retryable, exc.status_code, mask(str(exc)),
                       exc.retry_after, (time.perf_counter() - start) * 1000)
    except Exception as exc:  # a bug in a notifier must not stop the worker: retry later
        return _Result(job, False, True, None, mask(f"{type(exc).__name__}: {exc}"), None,
                       (time.perf_counter() - start) * 1000)


def deliver_due(
    store: Store,
    now: datetime,
    *,
    limit: int = 500,
    workers: int = 8,
    http: httpx.Client | None = None,
    env: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> DeliveryStats:
    """Deliver up to `limit` due notifications; returns what happened."""
    started = time.perf_counter()
    now = ensure_utc(now)
    retry = retry or RetryPolicy()
    rng = rng or random.Random()
    stats = DeliveryStats()
    jobs = _claim(store, now, limit, retry)
    stats.claimed = len(jobs)
    if not jobs:
        return stats
    notifiers = _Notifiers(os.environ if env is None else env, http or shared_client())
    if workers <= 1 or len(jobs) == 1:
        results = [_send(j, notifiers) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            results = list(pool.map(lambda j: _send(j, notifiers), jobs))
    _record(store, now, results, retry, rng, stats)
    stats.seconds = time.perf_counter() - started
    return stats


def _record(store: Store, now: datetime, results: Sequence[_Result], retry: RetryPolicy,
            rng: random.Random, stats: DeliveryStats) -> None:
    updates: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    dead: list[_Result] = []
    for r in results:
        job = r.job
        if r.ok:
            outcome = DELIVERED
            updates.append({"id": job.id, "status": DELIVERED, "delivered_at": now,
                            "last_error": None})
            stats.delivered += 1
        elif r.retryable and job.attempt < job.max_attempts:
            outcome = "retry"
            updates.append({"id": job.id, "status": PENDING, "last_error": r.error,
                            "next_attempt_at": now + retry.delay(job.attempt, rng,
                                                                 r.retry_after)})
            stats.retried += 1
        else:
            outcome = DEAD
            updates.append({"id": job.id, "status": DEAD, "last_error": r.error})
            dead.append(r)
            stats.dead += 1
        if r.error:
            kind = f"HTTP {r.status_code}" if r.status_code else "no response"
            stats.errors[kind] = stats.errors.get(kind, 0) + 1
        attempts.append({"outbox_id": job.id, "incident_id": job.incident_id,
                         "attempt": job.attempt, "at": now, "outcome": outcome,
                         "status_code": r.status_code, "error": r.error,
                         "duration_ms": round(r.duration_ms, 3)})
    with store.session() as s:
        # Core executemany statements: the ORM's per-object bookkeeping cost more than the
        # database work at hundreds of rows per round.
        for keys, group in _group_by_keys(updates).items():
            table = OutboxRow.__table__
            stmt = update(table).where(table.c.id == bindparam("_id")).values(
                {k: bindparam(k) for k in keys if k != "id"})
            s.execute(stmt, [{**{k: u[k] for k in keys if k != "id"}, "_id": u["id"]}
                             for u in group])
        s.execute(insert(DeliveryAttempt.__table__), attempts)
        for r in dead:  # the audit head lock is taken last, as audit.append asks
            audit_append(s, actor=ACTOR, action=AuditAction.NOTIFICATION_FAILED,
                         subject=r.job.incident_id, at=now, details={
                             "channel": r.job.channel.get("name"),
                             "channel_type": r.job.channel.get("type"),
                             "idempotency_key": r.job.key, "attempts": r.job.attempt,
                             "retryable": r.retryable, "error": r.error})


# --- reading -------------------------------------------------------------------------------


def purge_sent(session: Session, *, before: datetime, now: datetime,
               actor: str = ACTOR) -> int:
    """Delete delivered and dead-lettered notifications queued before `before`, with their
    delivery logs (the policy's `retention.notifications`). Those of incidents still active are
    kept: their idempotency keys stop the same page going out twice. Audited when anything
    goes; returns the number of notifications deleted."""
    active = select(Incident.id).where(Incident.state.in_([s.value for s in ACTIVE]))
    old = (OutboxRow.status.in_([DELIVERED, DEAD]), OutboxRow.created_at < ensure_utc(before),
           OutboxRow.incident_id.not_in(active))
    # Both deletes select in the database: no id list crosses into Python, whatever its size.
    session.execute(delete(DeliveryAttempt).where(
        DeliveryAttempt.outbox_id.in_(select(OutboxRow.id).where(*old))))
    gone = session.execute(delete(OutboxRow).where(*old)).rowcount or 0
    if gone:
        audit_append(session, actor=actor, action=AuditAction.NOTIFICATIONS_PURGED,
                     subject="notifications", at=now,
                     details={"before": ensure_utc(before).isoformat(), "notifications": gone})
    return gone


def delivery_log(session: Session, incident_id: str) -> list[dict[str, Any]]:
    """Every delivery attempt for an incident, oldest first, with its notification's key."""
    rows = session.execute(
        select(DeliveryAttempt, OutboxRow.idempotency_key, OutboxRow.channel,
               OutboxRow.channel_type, OutboxRow.audience)
        .join(OutboxRow, OutboxRow.id == DeliveryAttempt.outbox_id)
        .where(DeliveryAttempt.incident_id == incident_id)
        .order_by(DeliveryAttempt.id)
    ).all()
    return [{"at": a.at.isoformat(), "idempotency_key": key, "channel": channel,
             "channel_type": ctype, "audience": audience, "attempt": a.attempt,
             "outcome": a.outcome, "status_code": a.status_code, "error": a.error,
             "duration_ms": a.duration_ms} for a, key, channel, ctype, audience in rows]


def outbox_counts(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
    return {status: int(n) for status, n in rows}


def requeue(session: Session, outbox_id: str, *, now: datetime, actor: str) -> None:
    """Give a dead-lettered notification a fresh set of attempts (an operator's decision)."""
    row = session.get(OutboxRow, outbox_id)
    if row is None:
        from watchkeeper.core.errors import NotFoundError

        raise NotFoundError(f"no notification {outbox_id!r} in the outbox")
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, ensure_utc(now)
    audit_append(session, actor=actor, action=AuditAction.NOTIFICATION_QUEUED,
                 subject=row.incident_id, at=now,
                 details={"requeued": row.idempotency_key, "channel": row.channel})
