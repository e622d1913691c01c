"""Checking the chain: names the first broken entry and why.

Reasons start with one word: `altered` (content no longer matches its hash), `inserted` (an
entry that the chain did not produce), `deleted` (a seq is missing), `head mismatch` (the chain
does not end where audit_head says). A chain rewritten from some entry to the end *together
with* audit_head is not detectable from inside the database; keep an exported copy or the
head hash elsewhere to anchor it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from watchkeeper.audit.chain import GENESIS_HASH, AuditEntry, entry_hash
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import InputError
from watchkeeper.store.tables.foundation import AuditHead, AuditLog

_LOG = AuditLog.__table__
_HEAD = AuditHead.__table__


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int  # entries found intact before the first broken one (all of them when ok)
    first_bad_seq: int | None
    reason: str
    head_hash: str | None = None  # record it elsewhere to anchor the chain

    def __str__(self) -> str:
        if self.ok:
            return f"{self.checked} entries, chain intact"
        return f"entry {self.first_bad_seq}: {self.reason} ({self.checked} entries intact before)"


@dataclass(frozen=True, slots=True)
class _Unreadable:
    seq: int
    error: str


def _read_chain(session: Session, upto: int) -> Iterator[AuditEntry | _Unreadable]:
    """Entries with seq <= upto in order, streamed. On SQLite, where a column holds whatever
    was written to it, `at` and `details` are read raw and parsed here, so a garbled row is
    reported by its seq instead of failing the whole read."""
    raw = session.get_bind().dialect.name == "sqlite"
    at = type_coerce(_LOG.c.at, String) if raw else _LOG.c.at
    details = type_coerce(_LOG.c.details, String) if raw else _LOG.c.details
    stmt = (
        select(
            _LOG.c.seq,
            at.label("at"),
            _LOG.c.actor,
            _LOG.c.action,
            _LOG.c.subject,
            details.label("details"),
            _LOG.c.prev_hash,
            _LOG.c.hash,
        )
        .where(_LOG.c.seq <= upto)
        .order_by(_LOG.c.seq)
        .execution_options(yield_per=1000)
    )
    for row in session.execute(stmt):
        try:
            when = ensure_utc(datetime.fromisoformat(row.at)) if raw else row.at
            content = json.loads(row.details) if raw else row.details
        except (TypeError, ValueError) as exc:
            yield _Unreadable(row.seq, f"{type(exc).__name__}: {exc}")
            continue
        yield AuditEntry(
            seq=row.seq,
            at=when,
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            details=content,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


def _rehash(entry: AuditEntry, seq: int) -> str:
    return entry_hash(
        seq=seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def _broken_link(entry: AuditEntry, content_ok: bool) -> tuple[int, str]:
    """Entry `seq` does not link to entry seq-1: work out which of the two is the forgery."""
    seq = entry.seq
    if _rehash(entry, seq + 1) == entry.hash:
        return seq, (
            f"deleted: entry {seq} is missing; the entries after it were renumbered to hide the gap"
        )
    if _rehash(entry, seq - 1) == entry.hash:
        return seq - 1, (
            f"inserted: entry {seq - 1} was inserted and the entries after it "
            "renumbered to make room"
        )
    if not content_ok:
        return seq, f"altered: entry {seq} matches neither its own hash nor its predecessor"
    if seq == 1:
        return 1, "inserted: entry 1 does not start from the genesis hash"
    # A self-consistent entry whose predecessor's hash changed: the predecessor was rewritten
    # (content and hash) or replaced; a forger who recomputes a hash also links it backwards.
    return seq - 1, (
        f"altered: entry {seq - 1} was rewritten or replaced; entry {seq} no longer links to it"
    )


def verify(session: Session) -> VerifyResult:
    """Walk the chain in seq order, streaming, and stop at the first broken entry.

    Safe while others append: the entries up to the head read first are final (appends commit
    the entry and the head together), and the check for entries beyond the head reads the head
    again in the same statement.
    """
    head = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).one_or_none()
    if head is None:
        return VerifyResult(False, 0, 1, "head mismatch: the audit_head row is missing")

    checked = 0
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for entry in _read_chain(session, head.seq):
        if entry.seq < expected_seq:
            return VerifyResult(
                False,
                checked,
                entry.seq,
                f"inserted: entry {entry.seq} lies before the start of the chain",
            )
        if entry.seq > expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                f"deleted: entry {expected_seq} is missing (the next entry is {entry.seq})",
            )
        if isinstance(entry, _Unreadable):
            return VerifyResult(
                False,
                checked,
                entry.seq,
                f"altered: entry {entry.seq} cannot be read ({entry.error})",
            )
        content_ok = _rehash(entry, entry.seq) == entry.hash
        if entry.prev_hash != prev_hash:
            bad, reason = _broken_link(entry, content_ok)
            return VerifyResult(False, min(checked, bad - 1), bad, reason)
        if not content_ok:
            return VerifyResult(
                False, checked, entry.seq, f"altered: entry {entry.seq} no longer matches its hash"
            )
        checked += 1
        expected_seq += 1
        prev_hash = entry.hash

    last_seq = expected_seq - 1
    if last_seq < head.seq:
        return VerifyResult(
            False,
            checked,
            last_seq + 1,
            f"deleted: the head records {head.seq} entries but the chain ends at "
            f"{last_seq}; entries {last_seq + 1}..{head.seq} are missing",
        )
    if prev_hash != head.hash:
        return VerifyResult(
            False,
            max(checked - 1, 0),
            last_seq,
            f"head mismatch: entry {last_seq} was rewritten or replaced; its hash "
            "differs from the one audit_head recorded",
        )
    head_seq_now = select(_HEAD.c.seq).where(_HEAD.c.id == 1).scalar_subquery()
    beyond = session.scalar(select(func.min(_LOG.c.seq)).where(_LOG.c.seq > head_seq_now))
    if beyond is not None:
        return VerifyResult(
            False,
            checked,
            beyond,
            f"inserted: entry {beyond} lies beyond the head (seq {head.seq}); "
            "appends always move the head",
        )
    return VerifyResult(True, checked, None, "chain intact", head_hash=head.hash)


def _exported(lines: Iterable[str], source: str) -> Iterator[tuple[int, int, str]]:
    """(line number, seq, hash) of each exported entry, each checked against its own hash."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            seq, stored = rec["seq"], rec["hash"]
            recomputed = entry_hash(
                seq=seq,
                at=datetime.fromisoformat(rec["at"]),
                actor=rec["actor"],
                action=rec["action"],
                subject=rec["subject"],
                details=rec["details"],
                prev_hash=rec["prev_hash"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"not an audit export line ({type(exc).__name__}: {exc})",
                file=source,
                row=number,
                expected="one JSON object per line as `audit export` writes",
            ) from None
        if recomputed != stored:
            raise InputError(
                f"exported entry {seq} does not match its own hash; the export itself was changed",
                file=source,
                row=number,
                expected="an unmodified `audit export` file",
            )
        yield number, seq, stored


def verify_against_export(
    session: Session, lines: Iterable[str], *, source: str = "export"
) -> VerifyResult:
    """`verify`, then check every entry of an earlier export is still in the database unchanged.

    An export kept outside the database anchors the chain: rewriting entries from some point to
    the end together with audit_head passes `verify` but not this. Raises InputError when the
    export file itself is malformed or was changed.
    """
    result = verify(session)
    if not result.ok:
        return result
    matched = 0
    stored_hashes: dict[int, str] = {}
    previous_seq = None
    for number, seq, exported_hash in _exported(lines, source):
        if previous_seq is not None and seq != previous_seq + 1:
            raise InputError(
                f"entry {seq} follows entry {previous_seq}",
                file=source,
                row=number,
                expected="consecutive seqs, as `audit export` writes",
            )
        previous_seq = seq
        if not stored_hashes:  # read the database side in batches alongside the file
            rows = session.execute(
                select(_LOG.c.seq, _LOG.c.hash).where(_LOG.c.seq >= seq, _LOG.c.seq < seq + 1000)
            )
            stored_hashes = {seq_: hash_ for seq_, hash_ in rows}
            if not stored_hashes:
                return VerifyResult(
                    False,
                    matched,
                    seq,
                    f"deleted: entry {seq} of the export is not in the database "
                    "(the chain was cut back and its head rewritten)",
                )
        stored = stored_hashes.pop(seq, None)
        if stored is None:
            return VerifyResult(
                False,
                matched,
                seq,
                f"deleted: entry {seq} of the export is not in the database "
                "(the chain was cut back and its head rewritten)",
            )
        if stored != exported_hash:
            return VerifyResult(
                False,
                matched,
                seq,
                f"altered: entry {seq} differs from the exported copy (the chain "
                "was rewritten from here on, head included)",
            )
        matched += 1
    return VerifyResult(
        True,
        result.checked,
        None,
        f"chain intact; {matched} exported entries match",
        head_hash=result.head_hash,
    )
