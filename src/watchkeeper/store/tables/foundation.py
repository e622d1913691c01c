"""Foundation tables: models, applied policy versions, and the audit trail with its head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime

# sha256 of nothing in particular: the prev_hash of the first audit entry.
GENESIS_HASH = "0" * 64


class Model(Base):
    """A monitored model, by its policy name."""

    __tablename__ = "models"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class PolicyVersion(Base):
    """Every policy text that was applied, so any decision can be traced to its rules."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")


class AuditLog(Base):
    """One audit entry. Written only through `watchkeeper.audit.append`; never updated."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject_seq", "subject", "seq"),
        Index("ix_audit_log_action_seq", "action", "seq"),
    )

    # Assigned from audit_head.seq + 1 under the head's lock, not by the database, so the
    # chain has no gaps even when transactions roll back.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AuditHead(Base):
    """The single row (id 1) holding the last audit seq and hash.

    Appends lock this row, which serialises writers across processes, and update it in the same
    transaction; `verify` compares it with the chain's end, so deleting the tail is detected.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _audit_is_append_only(_mapper: Any, _conn: Any, target: AuditLog) -> None:
    # The hash chain detects tampering; this stops the honest mistake of doing it via the ORM.
    raise PermissionError(f"audit entry {target.seq} is append-only: it cannot be changed")
