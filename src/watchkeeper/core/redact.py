"""PII redaction shared by messages and evidence bundles (both must redact the same way)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"


def redact(value: Any, pii_fields: Iterable[str]) -> Any:
    """Replace the values of keys named in `pii_fields`, at any depth, case-insensitively."""
    names = {f.lower() for f in pii_fields}
    if not names:
        return value
    return _walk(value, names)


def _walk(value: Any, names: set[str]) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in names else _walk(v, names)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_walk(v, names) for v in value)
    return value
