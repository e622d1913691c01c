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


# Values, not only keys: a PII value quoted elsewhere (a detector's summary citing a sample
# row) must go too. Used by escalation's messages; evidence bundles may use it the same way.
MIN_TEXT_SCRUB_LENGTH = 4  # shorter values are redacted under their key only, not in text


def pii_values(value: Any, pii_fields: Iterable[str]) -> set[str]:
    """Every scalar value found under a PII key anywhere in `value`, as text."""
    names = {f.lower() for f in pii_fields}
    found: set[str] = set()

    def leaves(v: Any) -> None:
        if isinstance(v, Mapping):
            for item in v.values():
                leaves(item)
        elif isinstance(v, list | tuple):
            for item in v:
                leaves(item)
        elif v is not None and not isinstance(v, bool):
            found.add(str(v))

    def walk(v: Any) -> None:
        if isinstance(v, Mapping):
            for k, item in v.items():
                (leaves if str(k).lower() in names else walk)(item)
        elif isinstance(v, list | tuple):
            for item in v:
                walk(item)

    walk(value)
    return found


def scrub_text(text: str, values: Iterable[str]) -> str:
    """Replace every occurrence of each value (longest first) with the redaction marker."""
    for v in sorted((v for v in set(values) if len(v) >= MIN_TEXT_SCRUB_LENGTH), key=len,
                    reverse=True):
        text = text.replace(v, REDACTED)
    return text


def redact_everywhere(value: Any, pii_fields: Iterable[str], extra_values: Iterable[str] = ()
                      ) -> Any:
    """`redact`, and also scrub those fields' values (and `extra_values`) from every string."""
    fields = list(pii_fields)
    values = pii_values(value, fields) | set(extra_values)
    return _scrub(redact(value, fields), values)


def _scrub(value: Any, values: set[str]) -> Any:
    if not values:
        return value
    if isinstance(value, Mapping):
        return {k: _scrub(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, values) for v in value)
    if isinstance(value, str):
        return scrub_text(value, values)
    return value
