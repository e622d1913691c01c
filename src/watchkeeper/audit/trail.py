"""Appending to and reading the audit trail. There is deliberately no update or delete."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.orm import Session

from watchkeeper.audit.chain import AuditEntry, entry_hash, normalise_details
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import InputError
from watchkeeper.store.tables.foundation import AuditHead, AuditLog

_LOG = AuditLog.__table__
_HEAD = AuditHead.__table__
_MAX_LEN = {"actor": 200, "subject": 500}

# Built once: constructing statements per call cost more than executing them.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_ENTRY = insert(_LOG)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _check_text(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"audit {field} must be a non-empty string, got {value!r}",
            field=field,
            expected="a non-empty string",
        )
    if len(value) > _MAX_LEN[field]:
        raise InputError(
            f"audit {field} is {len(value)} characters long",
            field=field,
            expected=f"at most {_MAX_LEN[field]} characters",
        )
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it on SQLite too
        raise InputError(
            f"audit {field} contains a NUL character",
            field=field,
            expected="text without NUL characters",
        )
    return value


def _check_action(action: AuditAction | str) -> AuditAction:
    try:
        return AuditAction(action)
    except ValueError:
        known = ", ".join(a.value for a in AuditAction)
        raise InputError(
            f"unknown audit action {action!r}", field="action", expected=f"one of {known}"
        ) from None


def append(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    subject: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction; it commits or rolls back with it.

    The head row is locked (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the store's sessions
    already hold the write lock), so concurrent appenders, in any process, queue and the chain
    stays unbroken. The lock is held until the caller's transaction ends: append late in it.
    Cost: one row read, one insert, one update, however long the chain is.
    """
    actor = _check_text("actor", actor)
    subject = _check_text("subject", subject)
    action = _check_action(action)
    clean = normalise_details(details)
    when = ensure_utc(at) if at is not None else datetime.now(UTC)

    # Core on the session's connection: the same transaction, without the ORM's per-statement
    # bookkeeping (append is on the hot path of ingest and scoring).
    conn = session.connection()
    head = conn.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise RuntimeError(
            "audit_head row is missing: the database was not migrated or "
            "was tampered with (see `watchkeeper audit verify`)"
        )
    row = {
        "seq": head.seq + 1,
        "at": when,
        "actor": actor,
        "action": action.value,
        "subject": subject,
        "details": clean,
        "prev_hash": head.hash,
    }
    row["hash"] = entry_hash(**row)
    conn.execute(_INSERT_ENTRY, row)
    conn.execute(_MOVE_HEAD, {"new_seq": row["seq"], "new_hash": row["hash"]})
    return AuditEntry(**row)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _all_columns() -> Select[Any]:
    return select(
        _LOG.c.seq,
        _LOG.c.at,
        _LOG.c.actor,
        _LOG.c.action,
        _LOG.c.subject,
        _LOG.c.details,
        _LOG.c.prev_hash,
        _LOG.c.hash,
    )


def list_entries(
    session: Session,
    *,
    subject: str | None = None,
    action: AuditAction | str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest entries first, filtered by exact subject, action and actor, and `at >= since`."""
    if limit < 1:
        raise InputError(
            f"limit must be at least 1, got {limit}", field="limit", expected="a positive integer"
        )
    stmt = _all_columns().order_by(_LOG.c.seq.desc()).limit(limit)
    if subject is not None:
        stmt = stmt.where(_LOG.c.subject == subject)
    if action is not None:
        stmt = stmt.where(_LOG.c.action == _check_action(action).value)
    if actor is not None:
        stmt = stmt.where(_LOG.c.actor == actor)
    if since is not None:
        stmt = stmt.where(_LOG.c.at >= ensure_utc(since))
    return [_entry(row) for row in session.execute(stmt)]


def iter_entries(
    session: Session,
    *,
    after_seq: int = 0,
    since: datetime | None = None,
    batch: int = 1000,
) -> Iterator[AuditEntry]:
    """Entries with seq > after_seq (and at >= since) in chain order, streamed in batches."""
    stmt = _all_columns().where(_LOG.c.seq > after_seq).order_by(_LOG.c.seq)
    if since is not None:
        stmt = stmt.where(_LOG.c.at >= ensure_utc(since))
    for row in session.execute(stmt.execution_options(yield_per=batch)):
        yield _entry(row)


def export(session: Session, fh: TextIO, since: int | datetime | None = None) -> int:
    """Write entries as JSON lines (one `AuditEntry.to_dict()` per line); returns the count.

    `since` is a seq (entries after it, for incremental exports) or a time (entries at or
    after it). Each line carries prev_hash and hash, so the export can be checked on its own.
    """
    count = 0
    if isinstance(since, datetime):
        entries = iter_entries(session, since=since)
    else:
        entries = iter_entries(session, after_seq=since or 0)
    for entry in entries:
        fh.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True))
        fh.write("\n")
        count += 1
    return count
