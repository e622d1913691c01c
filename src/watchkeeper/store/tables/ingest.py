"""Ingestion tables: batches (the commit point of the event log), the idempotency indexes, the
event-log file list, quarantined rows, per-window partial profiles and reference profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime


class IngestBatch(Base):
    """One acknowledged batch. Its row is the commit point: event-log files and profile parts
    written for a batch without a row here are invisible and get cleaned up."""

    __tablename__ = "ingest_batches"
    __table_args__ = (Index("ix_ingest_batches_model_received_at", "model", "received_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # events | labels
    source: Mapped[str] = mapped_column(String(1000), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    n_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    n_new: Mapped[int] = mapped_column(Integer, nullable=False)
    n_duplicates: Mapped[int] = mapped_column(Integer, nullable=False)
    n_quarantined: Mapped[int] = mapped_column(Integer, nullable=False)


class EventKey(Base):
    """Idempotency index of prediction events: one row per (model, event_id) ever accepted.

    `ts_us` (event time, µs since epoch) and `window_key` (the window it was folded into: its start
    in µs for time windows, its index for count windows) let delayed labels join the window."""

    __tablename__ = "event_keys"
    # The primary key is the table (one B-tree on SQLite), which halves the work per insert.
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_with_rowid": False}

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ts_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    window_key: Mapped[int] = mapped_column(BigInteger, nullable=False)
    batch_id: Mapped[str] = mapped_column(String(40), nullable=False)


class LabelKey(Base):
    """Idempotency index of labels: the first label of an event wins; later ones are duplicates."""

    __tablename__ = "label_keys"
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_with_rowid": False}

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ts_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    window_key: Mapped[int] = mapped_column(BigInteger, nullable=False)
    batch_id: Mapped[str] = mapped_column(String(40), nullable=False)


class EventFile(Base):
    """One Parquet file of the event log: a batch's rows for one model, kind and UTC day."""

    __tablename__ = "event_files"
    __table_args__ = (Index("ix_event_files_model_kind_day", "model", "kind", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ingest_batches.id"), nullable=False, index=True
    )
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    day: Mapped[str] = mapped_column(String(10), nullable=False)  # YYYY-MM-DD (UTC)
    path: Mapped[str] = mapped_column(String(1000), nullable=False)  # relative to data_dir
    n_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    min_ts_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_ts_us: Mapped[int] = mapped_column(BigInteger, nullable=False)


class QuarantinedRow(Base):
    """One problem with one input row; the row itself was not accepted."""

    __tablename__ = "ingest_quarantine"
    __table_args__ = (Index("ix_ingest_quarantine_model_batch_id", "model", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ingest_batches.id"), nullable=False
    )
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    row_no: Mapped[int] = mapped_column(BigInteger, nullable=False)  # 1-based row of the input
    field: Mapped[str] = mapped_column(String(200), nullable=False)
    expected: Mapped[str] = mapped_column(String(500), nullable=False)
    got: Mapped[str] = mapped_column(Text, nullable=False)  # truncated repr of the bad value
    event_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ProfilePart(Base):
    """A partial profile: one batch's events of one window. A window's profile is the merge of
    its parts (profiles are mergeable), so ingest never rewrites a stored profile."""

    __tablename__ = "profiles"
    __table_args__ = (Index("ix_profiles_model_window_start", "model", "window_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    # Time windows: [window_start, window_end). Count windows: the events' time span.
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    window_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # count windows
    n: Mapped[int] = mapped_column(Integer, nullable=False)  # prediction events
    n_labels: Mapped[int] = mapped_column(Integer, nullable=False)
    batch_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ingest_batches.id"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    blob: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class IngestState(Base):
    """Per-model counters: events accepted so far (numbering count windows), the latest event
    time seen (µs), and the last retention purge."""

    __tablename__ = "ingest_state"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    events_seen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    watermark_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ReferenceProfile(Base):
    """A model's reference profile, keyed by the reference file's content fingerprint."""

    __tablename__ = "reference_profiles"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(String(1000), nullable=False)
    n: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    blob: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
