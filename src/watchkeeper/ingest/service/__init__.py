"""The ingestion service: the only part of ingest that touches the store."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import delete, select

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import SYSTEM_CLOCK, Clock
from watchkeeper.core.errors import InputError
from watchkeeper.ingest.eventlog import DAY_US, KINDS, EventLog
from watchkeeper.ingest.folding import fold_events, fold_labels
from watchkeeper.ingest.service.batches import BatchResult, accept
from watchkeeper.ingest.service.reads import (
    DEFAULT_LATENESS,
    WindowInfo,
    list_windows,
    read_events,
    read_window_profile,
)
from watchkeeper.ingest.sources.files import DEFAULT_CHUNK_ROWS, Chunk, read_chunks
from watchkeeper.ingest.sources.frames import to_arrow
from watchkeeper.ingest.spec import ModelSpec
from watchkeeper.ingest.validate import validate_events, validate_labels
from watchkeeper.profiles import WindowProfile, build_profile, content_fingerprint, merge_all
from watchkeeper.store import Store
from watchkeeper.store.tables.ingest import (
    EventFile,
    EventKey,
    IngestBatch,
    LabelKey,
    ProfilePart,
    QuarantinedRow,
    ReferenceProfile,
)

__all__ = [
    "BatchResult",
    "IngestService",
    "PurgeResult",
    "WindowInfo",
    "list_windows",
    "read_window_profile",
]

ORPHAN_GRACE_S = 3600.0  # an unlisted file younger than this may belong to a batch in flight


@dataclass(frozen=True, slots=True)
class PurgeResult:
    model: str
    cutoff: datetime  # raw events and labels before this are gone
    files: int  # event-log files deleted (events, labels and quarantine)
    events: int
    quarantined_rows: int = 0
    profile_parts: int = 0


class IngestService:
    """Validate, dedupe, persist durably and profile prediction events and labels."""

    def __init__(
        self,
        store: Store,
        policy: Any,
        data_dir: str | Path,
        *,
        clock: Clock = SYSTEM_CLOCK,
        actor: str = "ingest",
    ) -> None:
        self.store = store
        self.policy = policy
        self.log = EventLog(data_dir)
        self.clock = clock
        self.actor = actor
        self._specs: dict[str, ModelSpec] = {}

    def spec(self, model: str) -> ModelSpec:
        if model not in self._specs:
            self._specs[model] = ModelSpec.from_policy(self.policy, model)
        return self._specs[model]

    # -- writing -------------------------------------------------------------------------------
    def ingest_events(
        self,
        model: str,
        data: Any,
        *,
        source: str = "sdk",
        first_row: int = 1,
        actor: str | None = None,
    ) -> BatchResult:
        """Accept one batch of prediction events; returns once it is durable."""
        spec = self.spec(model)
        table = to_arrow(data, source=source)
        checked = validate_events(
            table, spec, now=self.clock.now(), first_row=first_row, source=source
        )
        return self._accept(spec, "events", checked, source, actor)

    def ingest_labels(
        self,
        model: str,
        data: Any,
        *,
        source: str = "sdk",
        first_row: int = 1,
        actor: str | None = None,
    ) -> BatchResult:
        """Accept delayed labels, joined to their events by event_id."""
        spec = self.spec(model)
        table = to_arrow(data, source=source)
        checked = validate_labels(
            table, spec, now=self.clock.now(), first_row=first_row, source=source
        )
        return self._accept(spec, "labels", checked, source, actor)

    def _accept(
        self, spec: ModelSpec, kind: str, checked: Any, source: str, actor: str | None
    ) -> BatchResult:
        written: list[str] = []
        try:
            with self.store.session() as session:
                result = accept(
                    session,
                    self.log,
                    spec,
                    kind,
                    checked,
                    source=source,
                    actor=actor or self.actor,
                    now=self.clock.now(),
                )
                written = result.files
        except BaseException:
            self.log.delete(written)  # the commit failed: the files must not linger
            raise
        return result

    def ingest_file(
        self,
        model: str,
        path: str | Path,
        *,
        labels: bool = False,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        on_chunk: Callable[[BatchResult, int], None] | None = None,
    ) -> BatchResult:
        """Ingest a Parquet/CSV/JSON-lines file chunk by chunk; each chunk is its own durable
        batch, so a failure part-way keeps (and reports) the chunks already acknowledged."""
        ingest = self.ingest_labels if labels else self.ingest_events
        total: BatchResult | None = None
        for chunk in read_ahead(read_chunks(path, chunk_rows=chunk_rows)):
            result = ingest(model, chunk.table, source=str(path), first_row=chunk.first_row)
            total = result if total is None else total + result
            if on_chunk is not None:
                on_chunk(result, chunk.bytes_done)
        if total is None:  # a file with a header and no rows
            return BatchResult("", model, "labels" if labels else "events", 0, 0, 0, 0)
        return total

    # -- reading -------------------------------------------------------------------------------
    def read_events(
        self,
        model: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        with_labels: bool = True,
    ) -> pa.Table:
        self.spec(model)
        with self.store.session(read_only=True) as session:
            return read_events(session, self.log, model, start, end, with_labels=with_labels)

    def read_window_profile(
        self,
        model: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        index: int | None = None,
    ) -> WindowProfile:
        with self.store.session(read_only=True) as session:
            return read_window_profile(session, model, start, end, index=index)

    def list_windows(
        self, model: str, *, lateness: timedelta = DEFAULT_LATENESS
    ) -> list[WindowInfo]:
        with self.store.session(read_only=True) as session:
            return list_windows(session, self.spec(model), now=self.clock.now(), lateness=lateness)

    def reference_profile(self, model: str) -> WindowProfile:
        """The model's reference profile: built once per reference file content and stored;
        later calls (any process) read it back."""
        spec = self.spec(model)
        if spec.reference is None:
            raise InputError("the model has no reference data", field="reference")
        fingerprint = content_fingerprint(spec.reference)
        with self.store.session(read_only=True) as session:
            blob = session.execute(
                select(ReferenceProfile.blob).where(
                    ReferenceProfile.model == model, ReferenceProfile.fingerprint == fingerprint
                )
            ).scalar_one_or_none()
        if blob is not None:
            return WindowProfile.from_bytes(blob)
        profile = build_reference_profile(spec, spec.reference)
        with self.store.session() as session:
            exists = session.get(ReferenceProfile, (model, fingerprint))
            if exists is None:  # another process may have won the race; both built the same
                session.add(
                    ReferenceProfile(
                        model=model,
                        fingerprint=fingerprint,
                        source=str(spec.reference)[:1000],
                        n=profile.n,
                        created_at=self.clock.now(),
                        blob=profile.to_bytes(),
                    )
                )
        return profile

    # -- housekeeping --------------------------------------------------------------------------
    def purge_expired(self, model: str, *, actor: str | None = None) -> PurgeResult:
        """Apply the policy's retention to `model`: raw events and labels of whole UTC days
        older than `retention.events`, rejected rows (and their files) received before
        `retention.quarantine`, window profiles that ended before `retention.profiles`. Scores,
        signals, incidents and the audit trail are kept. Audited when anything goes."""
        spec = self.spec(model)
        now = self.clock.now()
        cutoff_us = _day_floor_us(now - (spec.retention or timedelta(days=90)))
        quarantine_us = _day_floor_us(now - (spec.quarantine_retention or timedelta(days=30)))
        profiles_before = now - (spec.profile_retention or timedelta(days=400))
        with self.store.session() as session:
            raw = (EventFile.kind != "quarantine") & (EventFile.max_ts_us < cutoff_us)
            rejected = (EventFile.kind == "quarantine") & (EventFile.max_ts_us < quarantine_us)
            files = session.execute(
                select(EventFile.id, EventFile.path, EventFile.n_rows, EventFile.kind)
                .where(EventFile.model == model, raw | rejected)
            ).all()
            events = sum(r.n_rows for r in files if r.kind == "events")
            session.execute(delete(EventFile).where(EventFile.id.in_([r.id for r in files])))
            for key_table in (EventKey, LabelKey):
                session.execute(
                    delete(key_table).where(key_table.model == model, key_table.ts_us < cutoff_us)
                )
            old_batches = select(IngestBatch.id).where(
                IngestBatch.model == model, IngestBatch.received_at < _at_us(quarantine_us))
            rows = session.execute(delete(QuarantinedRow).where(
                QuarantinedRow.model == model, QuarantinedRow.batch_id.in_(old_batches))).rowcount
            parts = session.execute(delete(ProfilePart).where(
                ProfilePart.model == model, ProfilePart.window_end < profiles_before)).rowcount
            result = PurgeResult(model, _at_us(cutoff_us), len(files), events, rows or 0,
                                 parts or 0)
            if files or result.quarantined_rows or result.profile_parts:
                audit.append(
                    session,
                    actor=actor or self.actor,
                    action=AuditAction.EVENTS_PURGED,
                    subject=f"model:{model}",
                    details={
                        "cutoff": result.cutoff.isoformat(),
                        "files": len(files),
                        "events": events,
                        "quarantined_rows": result.quarantined_rows,
                        "profile_parts": result.profile_parts,
                        "retention_days": (spec.retention or timedelta(days=90)).days,
                    },
                    at=now,
                )
        # Unlink only after the commit: a crash in between leaves orphans, never dangling rows.
        self.log.delete(r.path for r in files)
        self.clean_orphans(model)
        return result

    def clean_orphans(self, model: str, *, older_than_s: float = ORPHAN_GRACE_S) -> list[str]:
        """Delete event-log files of `model` that no committed batch lists (crash leftovers)."""
        with self.store.session(read_only=True) as session:
            committed = set(
                session.execute(select(EventFile.path).where(EventFile.model == model)).scalars()
            )
        gone = []
        for kind in KINDS:
            orphans = self.log.orphans(kind, model, committed, older_than_s)
            self.log.delete(orphans)
            gone += orphans
        return gone

    def compact_profiles(self, model: str, *, lateness: timedelta = DEFAULT_LATENESS) -> int:
        """Merge the parts of each closed window into one part (many small SDK batches leave
        many parts; reads merge them anyway, this only makes reads cheaper). Returns the
        number of parts removed. Open windows are left alone: they still receive parts. One
        short transaction per window, so ingestion never waits long for the write lock."""
        spec = self.spec(model)
        with self.store.session(read_only=True) as session:
            windows = [w for w in list_windows(session, spec, now=self.clock.now(),
                                               lateness=lateness)
                       if w.closed and w.parts >= 2]
        removed = 0
        for window in windows:
            q = select(ProfilePart).where(ProfilePart.model == model)
            if window.index is not None:
                q = q.where(ProfilePart.window_index == window.index)
            else:
                q = q.where(ProfilePart.window_start == window.start,
                            ProfilePart.window_end == window.end)
            with self.store.session() as session:
                parts = list(session.execute(q.order_by(ProfilePart.id)).scalars())
                if len(parts) < 2:  # compacted meanwhile by another process
                    continue
                merged = merge_all([WindowProfile.from_bytes(p.blob) for p in parts])
                keep = parts[-1]
                keep.blob = merged.to_bytes()
                keep.n, keep.n_labels = sum(p.n for p in parts), sum(p.n_labels for p in parts)
                keep.window_start = min(p.window_start for p in parts)
                keep.window_end = max(p.window_end for p in parts)
                for part in parts[:-1]:
                    session.delete(part)
                removed += len(parts) - 1
        return removed

    def batches(self, model: str, limit: int = 100) -> list[IngestBatch]:
        with self.store.session(read_only=True) as session:
            return list(
                session.execute(
                    select(IngestBatch)
                    .where(IngestBatch.model == model)
                    .order_by(IngestBatch.received_at.desc())
                    .limit(limit)
                ).scalars()
            )


def _day_floor_us(at: datetime) -> int:
    """Microseconds since the epoch of the UTC midnight at or before `at`."""
    return (int(at.timestamp() * 1_000_000) // DAY_US) * DAY_US


def _at_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def read_ahead(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Read the next chunk in a thread while the current one is ingested (Arrow's readers
    release the GIL), so file decoding overlaps validation, keys and profiling."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(next, chunks, None)
        while True:
            chunk = ahead.result()
            if chunk is None:
                return
            ahead = pool.submit(next, chunks, None)
            yield chunk


def build_reference_profile(spec: ModelSpec, path: Path) -> WindowProfile:
    """Profile a reference file the way events are profiled (validated the same way; rows that
    do not fit the schema are left out)."""
    parts = []
    now = datetime.now(UTC)
    spec = dataclasses.replace(spec, retention=None)  # reference data may be of any age
    for chunk in read_chunks(path):
        table = chunk.table
        if "event_id" not in table.column_names:
            table = table.append_column(
                "event_id",
                pa.array(
                    [str(i) for i in range(chunk.first_row, chunk.first_row + table.num_rows)]
                ),
            )
        checked = validate_events(table, spec, now=now, first_row=chunk.first_row, source=str(path))
        zeros = np.zeros(checked.table.num_rows, dtype=np.int64)
        folded = [p.profile for p in fold_events(spec, checked.table, zeros, zeros)]
        if "label" in table.column_names and folded:  # reference labels: the label baseline
            kept = pa.array(
                np.isin(np.arange(chunk.first_row, chunk.first_row + table.num_rows), checked.rows)
            )
            labels = validate_labels(table.filter(kept), spec, now=now, source=str(path))
            if labels.table.num_rows:
                zeros = np.zeros(labels.table.num_rows, dtype=np.int64)
                label_part = fold_labels(spec, labels.table.column("label"), zeros, zeros)
                folded[0].label = label_part[0].profile.label
        parts += folded
    if not parts:
        return build_profile({}, spec.feature_types, n=0)
    out = parts[0]
    for p in parts[1:]:
        out.merge_in(p)
    return out
