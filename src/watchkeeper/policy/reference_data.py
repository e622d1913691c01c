"""Check that each model's reference file exists and has the columns its schema promises.

Only the file's schema (or first record) is read, so checking a large reference is cheap."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from watchkeeper.policy.models import RESERVED_COLUMNS, ModelPolicy
from watchkeeper.policy.policy import Policy


def reference_problems(policy: Policy) -> list[str]:
    """Every problem with the policy's reference files, as `path: message (line N)`."""
    out: list[str] = []
    for i, model in enumerate(policy.models):
        where = policy.where(f"models[{i}].reference")
        path = policy.reference_path(model.name)
        head, _, line = where.partition(" ")
        tail = f" {line}" if line else ""
        try:
            columns = read_columns(path)
        except FileNotFoundError:
            out.append(f"{head}: file not found: {path}{tail}")
            continue
        except (OSError, ValueError, pa.ArrowException) as exc:
            out.append(f"{head}: cannot read {path}: {exc}{tail}")
            continue
        out += [f"{head}: {msg}{tail}" for msg in column_problems(model, columns)]
    return out


def column_problems(model: ModelPolicy, columns: dict[str, str]) -> list[str]:
    """Compare a file's columns (name -> kind: numeric, text, boolean, datetime, other) with
    the model's schema."""
    features = model.data_schema.features
    out = []
    missing = [name for name in features if name not in columns]
    if missing:
        out.append(f"missing columns {', '.join(missing)} (features of the schema)")
    extra = [c for c in columns if c not in features and c not in RESERVED_COLUMNS]
    if extra:
        out.append(f"extra columns {', '.join(extra)}; expected only the schema's features "
                   f"and the event fields {', '.join(RESERVED_COLUMNS)}")
    for name, feature in features.items():
        kind = columns.get(name)
        if kind is None or kind == "null":
            continue
        if feature.type == "numeric" and kind not in ("numeric", "boolean"):
            out.append(f"column {name!r} holds {kind} values, but the feature is numeric")
        elif feature.type == "datetime" and kind not in ("datetime", "text"):
            out.append(f"column {name!r} holds {kind} values, but the feature is datetime")
    return out


def read_columns(path: Path) -> dict[str, str]:
    """Column name -> value kind, from Parquet metadata, a CSV header block or the first JSON
    record."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(path)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return {f.name: _kind(f.type) for f in pq.read_schema(path)}
    if suffix == ".csv":
        import pyarrow.csv as pcsv

        with pcsv.open_csv(path) as reader:
            return {f.name: _kind(f.type) for f in reader.schema}
    if suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError("the first JSON line is not an object")
                    return {k: _py_kind(v) for k, v in record.items()}
        return {}
    raise ValueError(f"unsupported format {suffix!r}")


def _kind(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return "text"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def _py_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "numeric"
    if isinstance(value, str):
        return "text"
    return type(value).__name__
