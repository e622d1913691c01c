"""In-memory inputs (the SDK's): pandas, polars, pyarrow or plain records -> one Arrow table.

Everything is converted to Arrow once, here; validation and storage only ever see Arrow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from watchkeeper.core.errors import InputError

# Nested records may group features ({"features": {"age": 3}}); they are flattened to columns.
NESTED_GROUPS = ("features", "segments")


def to_arrow(data: Any, *, source: str = "input") -> pa.Table:
    """Convert pandas/polars DataFrames, pyarrow Tables/RecordBatches, a list of dicts or a dict
    of columns to a flat Arrow table."""
    table = _convert(data, source)
    return flatten_groups(table)


def _convert(data: Any, source: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns"):
        return _from_pandas(data)
    if module == "polars" and hasattr(data, "to_arrow"):
        return data.to_arrow()
    if isinstance(data, Mapping):
        return _from_columns({str(k): list(v) for k, v in data.items()})
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return _from_records(data, source)
    raise InputError(
        f"cannot ingest a {type(data).__name__}",
        file=source,
        expected="a pandas or polars DataFrame, a pyarrow Table or RecordBatch, "
        "a list of dicts or a dict of columns",
    )


def _from_pandas(frame: Any) -> pa.Table:
    # pyarrow reads time-zone-aware columns through Series.values, which pandas 3.1 deprecates
    # (a warning on every SDK call); those columns go over as UTC instants, which is what an
    # Arrow timestamp with a time zone holds anyway.
    zoned = [i for i, dtype in enumerate(frame.dtypes) if getattr(dtype, "tz", None) is not None]
    if not zoned:
        return pa.Table.from_pandas(frame, preserve_index=False)
    table = pa.Table.from_pandas(frame.drop(columns=frame.columns[zoned]), preserve_index=False)
    for i in zoned:
        col = frame.iloc[:, i]
        kind = pa.timestamp(col.dtype.unit, tz=str(col.dtype.tz))
        values = pa.array(col.dt.tz_convert(None).to_numpy(), kind, from_pandas=True)
        table = table.add_column(i, str(frame.columns[i]), values)
    return table


def _from_records(records: Sequence[Any], source: str) -> pa.Table:
    columns: dict[str, list[Any]] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise InputError(
                f"got a {type(rec).__name__}", row=i + 1, file=source, expected="a dict per record"
            )
        for key in rec:
            columns.setdefault(str(key), [None] * i)
        for key, col in columns.items():
            col.append(rec.get(key))
    return _from_columns(columns)


def _from_columns(columns: dict[str, list[Any]]) -> pa.Table:
    arrays = {}
    for name, values in columns.items():
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # Mixed types in one column (3, "abc", ...): keep every value as text so validation
            # can name the rows that do not fit the schema instead of failing the whole batch.
            arrays[name] = pa.array([None if v is None else _text(v) for v in values], pa.string())
    return pa.table(arrays) if arrays else pa.table({})


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def flatten_groups(table: pa.Table) -> pa.Table:
    """Struct columns named in NESTED_GROUPS become top-level columns (`features.age` -> `age`)."""
    for group in NESTED_GROUPS:
        if group in table.column_names and pa.types.is_struct(table.schema.field(group).type):
            idx = table.column_names.index(group)
            col = table.column(group)
            table = table.remove_column(idx)
            for i, sub in enumerate(col.type):
                if sub.name not in table.column_names:
                    children = [chunk.field(i) for chunk in col.chunks]
                    table = table.append_column(sub.name, pa.chunked_array(children, sub.type))
    return table
