"""The hash chain, as pure functions: how an entry's content becomes its hash.

hash = sha256(canonical JSON of {seq, at, actor, action, subject, details, prev_hash}).
Canonical JSON = sorted keys, no whitespace, UTF-8, finite numbers only; `at` is the UTC instant
as ISO 8601 with microseconds. Anyone holding an export can recompute every hash with these
rules (and the standard library) alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import InputError
from watchkeeper.store.tables.foundation import GENESIS_HASH

__all__ = ["GENESIS_HASH", "AuditEntry", "entry_hash", "normalise_details"]


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def format_at(at: datetime) -> str:
    return ensure_utc(at).isoformat(timespec="microseconds")


def _jsonable(value: Any) -> Any:
    # Called by json.dumps for what JSON has no type for; what it returns is what gets stored.
    if isinstance(value, datetime):
        return format_at(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def normalise_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The details exactly as they will read back from the database (JSON round trip)."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise InputError(
            f"audit details must be a mapping, got {type(details).__name__}",
            field="details",
            expected="a dict of JSON values",
        )
    try:
        text = json.dumps(details, default=_jsonable, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"audit details cannot be stored as JSON: {exc}",
            field="details",
            expected="strings, finite numbers, booleans, null, lists and dicts",
        ) from exc
    result: dict[str, Any] = json.loads(text)
    return result


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry of the audit trail, as stored."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": format_at(self.at),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    content = {
        "seq": seq,
        "at": format_at(at),
        "actor": actor,
        "action": str(action),
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
