"""Remove PII named in the policy from messages and evidence bundles.

Hand-written because what is needed is small and exact: the policy names fields (`email`,
`customer.phone`), and both those fields' values and every copy of those values in other text
must go. NER-based scrubbers guess at free text and are not what the policy asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"
# Shorter values are only redacted under their own key: replacing every "1" or "no" in free
# text would destroy messages while protecting nothing that identifies a person.
MIN_TEXT_SCRUB_LENGTH = 4


def _matches(path: str, key: str, fields: frozenset[str]) -> bool:
    key, path = key.lower(), path.lower()
    return key in fields or path in fields or any(path.endswith("." + f) for f in fields)


def pii_values(value: Any, pii_fields: Iterable[str], _path: str = "") -> set[str]:
    """Every string/number value found under a PII field anywhere in `value`."""
    fields = frozenset(f.lower() for f in pii_fields)
    found: set[str] = set()
    if isinstance(value, Mapping):
        for k, v in value.items():
            path = f"{_path}.{k}" if _path else str(k)
            if _matches(path, str(k), fields):
                found |= _leaves(v)
            else:
                found |= pii_values(v, fields, path)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= pii_values(item, fields, _path)
    return found


def _leaves(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        return set().union(*(_leaves(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_leaves(v) for v in value)) if value else set()
    if value is None or isinstance(value, bool):
        return set()
    return {str(value)}


def scrub_text(text: str, values: Iterable[str]) -> str:
    for v in sorted((v for v in values if len(v) >= MIN_TEXT_SCRUB_LENGTH), key=len, reverse=True):
        text = text.replace(v, REDACTED)
    return text


def redact(mapping: Any, pii_fields: Iterable[str], extra_values: Iterable[str] = ()) -> Any:
    """A copy of `mapping` with PII fields' values replaced and their values scrubbed from all
    other strings. Works on nested mappings and lists (evidence bundles, sample rows)."""
    fields = frozenset(f.lower() for f in pii_fields)
    values = pii_values(mapping, fields) | set(extra_values)
    return _redact(mapping, fields, values, "")


def _redact(value: Any, fields: frozenset[str], values: set[str], path: str) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            out[k] = REDACTED if _matches(p, str(k), fields) and v is not None else _redact(
                v, fields, values, p)
        return out
    if isinstance(value, list | tuple):
        return type(value)(_redact(v, fields, values, path) for v in value)
    if isinstance(value, str):
        return scrub_text(value, values)
    return value
