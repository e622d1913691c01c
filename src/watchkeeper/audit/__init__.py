"""Layer 3: the append-only, hash-chained audit trail.

`append(session, actor=, action=, subject=, details=, at=)` inside the caller's transaction;
`verify(session)` names the first broken entry; `export(session, fh)` writes JSON lines;
`list_entries(session, ...)` reads newest first. There is no update or delete.
"""

from __future__ import annotations

from watchkeeper.audit.chain import GENESIS_HASH, AuditEntry, entry_hash
from watchkeeper.audit.trail import append, export, iter_entries, list_entries
from watchkeeper.audit.verify import VerifyResult, verify, verify_against_export
from watchkeeper.core.audit_events import AuditAction

__all__ = [
    "GENESIS_HASH",
    "AuditAction",
    "AuditEntry",
    "VerifyResult",
    "append",
    "entry_hash",
    "export",
    "iter_entries",
    "list_entries",
    "verify",
    "verify_against_export",
]
