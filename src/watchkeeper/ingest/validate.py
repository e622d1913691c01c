"""Vectorised validation of one batch against the model's schema.

Each column is cast to its schema type in one Arrow call; only when that call fails are the
offending elements found, by bisecting the column (so a clean batch costs one cast per column
and a batch with k bad values about k*log(n) small casts). Every problem names the input row
(1-based), the field, what was expected and what came; the rows with problems are set aside
and the rest of the batch is kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.errors import InputError
from watchkeeper.ingest import spec as s
from watchkeeper.ingest.spec import FeatureSpec, ModelSpec

TS_TYPE = pa.timestamp("us", tz="UTC")
MAX_PROBLEMS = 10_000  # recorded per batch; the count of bad rows is always exact
GOT_CHARS = 120  # hostile values are shown truncated


@dataclass(frozen=True, slots=True)
class Problem:
    row: int
    field: str
    expected: str
    got: str
    event_id: str | None = None

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: expected {self.expected}, got {self.got}"


@dataclass(slots=True)
class Validated:
    table: pa.Table  # accepted rows, normalised columns
    rows: np.ndarray  # 1-based input row number of each accepted row
    bad_rows: np.ndarray  # 1-based input row numbers of the rejected rows
    rejected: pa.Table  # the rejected rows as they came in
    problems: list[Problem] = field(default_factory=list)
    n_problems: int = 0
    warnings: list[str] = field(default_factory=list)


class _Checker:
    def __init__(self, table: pa.Table, first_row: int) -> None:
        self.table = table
        self.names = frozenset(table.column_names)  # column_names builds a new list per call
        self.n = table.num_rows
        self.first_row = first_row
        self.bad = np.zeros(self.n, dtype=bool)
        self.problems: list[Problem] = []
        self.n_problems = 0
        self.ids: pa.Array | None = None

    def flag(self, mask: np.ndarray, name: str, expected: str, values: pa.Array) -> None:
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        self.bad[idx] = True
        self.n_problems += idx.size
        room = MAX_PROBLEMS - len(self.problems)
        for i in idx[: max(room, 0)].tolist():
            ev = self.ids[i].as_py() if self.ids is not None else None
            got = _show(values[i].as_py())
            self.problems.append(Problem(self.first_row + i, name, expected, got, ev))

    def column(self, name: str) -> pa.Array | None:
        if name not in self.names:
            return None
        col = self.table.column(name)
        # One chunk (the usual case) is used as is; combine_chunks would copy it.
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()

    def cast(
        self, name: str, values: pa.Array, convert: Callable[[pa.Array], pa.Array], expected: str
    ) -> pa.Array:
        out, bad = cast_or_flag(values, convert)
        if bad is not None:
            self.flag(bad, name, expected, values)
        return out

    def nulls(self, name: str, values: pa.Array, original: pa.Array, expected: str) -> None:
        """Flag values that came in null (those that failed conversion are flagged already)."""
        if original.null_count:
            self.flag(_np(original.is_null()), name, expected, original)


def validate_events(
    table: pa.Table, spec: ModelSpec, *, now: datetime, first_row: int = 1, source: str = "input"
) -> Validated:
    """Check and normalise a batch of prediction events. Raises InputError only when the
    whole batch is unusable (no event_id column)."""
    _require_columns(table, [s.EVENT_ID], source)
    c = _Checker(table, first_row)
    out: dict[str, pa.Array] = {}
    out[s.EVENT_ID] = _event_ids(c)
    out[s.TIMESTAMP] = _timestamps(c, now)
    if spec.retention is not None:
        # Raw events (and their idempotency keys) older than the retention are purged, while
        # window profiles are kept: accepting such an event again would count it twice.
        horizon = now - spec.retention
        raw = c.column(s.TIMESTAMP)
        too_old = pc.fill_null(pc.less(out[s.TIMESTAMP], pa.scalar(horizon, TS_TYPE)), False)
        c.flag(
            _np(too_old),
            s.TIMESTAMP,
            f"a time within the event retention ({spec.retention.days} days: after "
            f"{horizon.isoformat(timespec='seconds')})",
            raw if raw is not None else out[s.TIMESTAMP],
        )
    version = c.column(s.MODEL_VERSION)
    out[s.MODEL_VERSION] = (
        pa.nulls(c.n, pa.string())
        if version is None
        else c.cast(s.MODEL_VERSION, version, _to_string, "text")
    )
    warnings = []
    for name, fspec in spec.features.items():
        values = c.column(name)
        if values is None:
            if not fspec.nullable:
                raise InputError(
                    "missing column of a feature that cannot be null",
                    field=name,
                    file=source,
                    expected=f"a column named {name!r}",
                )
            warnings.append(f"column {name!r} is missing: recorded as null")
            out[name] = pa.nulls(c.n, _arrow_type(fspec.type))
            continue
        out[name] = _feature(c, fspec, values)
    out.update(_outputs(c, spec))
    return _finish(c, out, warnings)


def validate_labels(
    table: pa.Table, spec: ModelSpec, *, now: datetime, first_row: int = 1, source: str = "input"
) -> Validated:
    _require_columns(table, [s.EVENT_ID, s.LABEL], source)
    c = _Checker(table, first_row)
    out = {s.EVENT_ID: _event_ids(c), s.TIMESTAMP: _timestamps(c, now)}
    raw = c.column(s.LABEL)
    assert raw is not None
    out[s.LABEL] = _typed(c, s.LABEL, raw, spec.label_type)
    c.nulls(s.LABEL, out[s.LABEL], raw, "a label")
    return _finish(c, out, [])


def _finish(c: _Checker, out: dict[str, pa.Array], warnings: list[str]) -> Validated:
    c.problems.sort(key=lambda p: p.row)
    rows = np.arange(c.first_row, c.first_row + c.n)
    good = ~c.bad
    table = pa.table(out)
    if c.bad.any():
        keep = pa.array(good)
        return Validated(
            table.filter(keep),
            rows[good],
            rows[c.bad],
            c.table.filter(pa.array(c.bad)),
            c.problems,
            c.n_problems,
            warnings,
        )
    return Validated(table, rows, rows[:0], c.table.slice(0, 0), c.problems, 0, warnings)


# -- event fields ------------------------------------------------------------------------------


def _event_ids(c: _Checker) -> pa.Array:
    raw = c.column(s.EVENT_ID)
    assert raw is not None
    ids = c.cast(s.EVENT_ID, raw, _to_string, "a text or integer event id")
    c.ids = ids
    empty = pc.fill_null(pc.equal(pc.utf8_length(ids), 0), True)
    c.flag(_np(empty) & ~_np(raw.is_null()), s.EVENT_ID, "a non-empty event id", raw)
    c.nulls(s.EVENT_ID, ids, raw, "an event id (required)")
    # PostgreSQL text cannot hold NUL, and an id is a key, not a payload: refuse it everywhere.
    nul = pc.fill_null(pc.match_substring(ids, "\x00"), False)
    c.flag(_np(nul), s.EVENT_ID, "an event id without NUL characters", raw)
    too_long = pc.fill_null(pc.greater(pc.utf8_length(ids), s.MAX_ID_LENGTH), False)
    c.flag(_np(too_long), s.EVENT_ID, f"at most {s.MAX_ID_LENGTH} characters", raw)
    return ids


def _timestamps(c: _Checker, now: datetime) -> pa.Array:
    raw = c.column(s.TIMESTAMP)
    if raw is None:  # no timestamps sent: the events happen now
        return pa.array(np.full(c.n, int(now.timestamp() * 1_000_000)), pa.int64()).cast(TS_TYPE)
    expected = "an ISO 8601 timestamp or Unix seconds"
    ts = c.cast(s.TIMESTAMP, raw, to_timestamp, expected)
    c.nulls(s.TIMESTAMP, ts, raw, expected + " (required)")
    return ts


def _outputs(c: _Checker, spec: ModelSpec) -> dict[str, pa.Array]:
    out: dict[str, pa.Array] = {}
    raw = c.column(s.PREDICTION)
    if raw is not None:
        out[s.PREDICTION] = _typed(c, s.PREDICTION, raw, spec.prediction_type)
    score_name = s.PROBABILITY if s.PROBABILITY in c.names else s.SCORE
    raw = c.column(score_name)
    if raw is not None:
        score = c.cast(score_name, raw, _to_float, "a number")
        _finite(c, score_name, score, raw)
        if score_name == s.PROBABILITY:
            _range(c, score_name, score, raw, 0.0, 1.0)
        out[s.SCORE] = score
    raw = c.column(s.LATENCY)
    if raw is not None:
        latency = c.cast(s.LATENCY, raw, _to_float, "a number of milliseconds")
        _finite(c, s.LATENCY, latency, raw)
        _range(c, s.LATENCY, latency, raw, 0.0, None)
        out[s.LATENCY] = latency
    return out


# -- features ----------------------------------------------------------------------------------


def _feature(c: _Checker, f: FeatureSpec, raw: pa.Array) -> pa.Array:
    values = _typed(c, f.name, raw, f.type)
    if f.type is FeatureType.NUMERIC:
        _finite(c, f.name, values, raw)
        _range(c, f.name, values, raw, f.min, f.max)
    elif f.categories is not None and f.type is FeatureType.CATEGORICAL:
        known = pa.array(sorted(f.categories), pa.string())
        unknown = pc.and_(pc.invert(pc.is_in(values, value_set=known)), pc.is_valid(values))
        c.flag(_np(unknown), f.name, "one of " + _listing(f.categories), raw)
    elif f.max_length is not None and f.type is FeatureType.TEXT:
        long = pc.fill_null(pc.greater(pc.utf8_length(values), f.max_length), False)
        c.flag(_np(long), f.name, f"at most {f.max_length} characters", raw)
    if not f.nullable:
        c.nulls(f.name, values, raw, "a value (this feature cannot be null)")
    return values


def _typed(c: _Checker, name: str, raw: pa.Array, kind: FeatureType) -> pa.Array:
    convert, expected = _CONVERTERS[kind]
    return c.cast(name, raw, convert, expected)


def _finite(c: _Checker, name: str, values: pa.Array, raw: pa.Array) -> None:
    if values.null_count < len(values):
        infinite = pc.fill_null(pc.invert(pc.is_finite(values)), False)
        c.flag(_np(infinite), name, "a finite number", raw)


def _range(
    c: _Checker, name: str, values: pa.Array, raw: pa.Array, lo: float | None, hi: float | None
) -> None:
    if lo is not None:
        c.flag(_np(pc.fill_null(pc.less(values, lo), False)), name, f">= {lo:g}", raw)
    if hi is not None:
        c.flag(_np(pc.fill_null(pc.greater(values, hi), False)), name, f"<= {hi:g}", raw)


# -- conversions -------------------------------------------------------------------------------


def cast_or_flag(
    values: pa.Array, convert: Callable[[pa.Array], pa.Array]
) -> tuple[pa.Array, np.ndarray | None]:
    """Convert the whole array at once; if that fails, find the elements that cannot be
    converted (bisection), null them and convert the rest. Returns (converted, bad or None)."""
    try:
        return convert(values), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
        pass
    bad = np.zeros(len(values), dtype=bool)
    stack = [(0, len(values))]
    while stack:
        lo, hi = stack.pop()
        try:
            convert(values.slice(lo, hi - lo))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
            if hi - lo == 1:
                bad[lo] = True
            else:
                mid = (lo + hi) // 2
                stack += [(lo, mid), (mid, hi)]
    cleaned = pc.if_else(pa.array(bad), pa.nulls(len(values), values.type), values)
    return convert(cleaned), bad


def _to_string(a: pa.Array) -> pa.Array:
    if pa.types.is_string(a.type):
        return a
    if pa.types.is_binary(a.type) or pa.types.is_large_binary(a.type):
        return pc.cast(a, pa.string())  # fails on invalid UTF-8: those rows are bad
    if pa.types.is_boolean(a.type):  # the same text as category_text
        return pc.if_else(a, "true", "false")
    if pa.types.is_floating(a.type):
        # 1.0 -> "1": a category written as a whole number means the same in any input.
        whole = pc.fill_null(pc.equal(a, pc.round(a)), False)
        as_int = pc.cast(pc.if_else(whole, a, pa.scalar(None, a.type)), pa.int64(), safe=False)
        return pc.coalesce(pc.cast(as_int, pa.string()), pc.cast(a, pa.string()))
    if pa.types.is_nested(a.type):
        raise pa.ArrowInvalid("nested values are not text")
    return pc.cast(a, pa.string())


def _to_float(a: pa.Array) -> pa.Array:
    if pa.types.is_floating(a.type) and a.type.bit_width == 64:
        return a
    if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
        a = pc.utf8_trim_whitespace(a)
        a = pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)
    return pc.cast(a, pa.float64())


def _to_bool(a: pa.Array) -> pa.Array:
    if pa.types.is_boolean(a.type):
        return a
    if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(a))
        truthy = pc.is_in(lowered, value_set=pa.array(["true", "t", "yes", "y", "1"]))
        falsy = pc.is_in(lowered, value_set=pa.array(["false", "f", "no", "n", "0"]))
        known = pc.or_(pc.or_(truthy, falsy), pc.is_null(a))
        if not pc.all(known).as_py():
            raise pa.ArrowInvalid("not a boolean")
        return pc.if_else(pc.is_null(a), pa.scalar(None, pa.bool_()), truthy)
    if pa.types.is_integer(a.type) or pa.types.is_floating(a.type):
        ok = pc.fill_null(pc.is_in(a, value_set=pa.array([0, 1], a.type)), True)
        if not pc.all(ok).as_py():
            raise pa.ArrowInvalid("only 0 and 1 are booleans")
        return pc.cast(a, pa.bool_())
    raise pa.ArrowInvalid(f"{a.type} is not boolean")


_ZONE = r"(Z|z|[+-]\d\d(:?\d\d)?)$"


def to_timestamp(a: pa.Array) -> pa.Array:
    """Any timestamp form -> timestamp[us, UTC]. Naive values are UTC; numbers are Unix
    seconds; text is ISO 8601 with or without a zone."""
    t = a.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            return pc.cast(a, pa.timestamp("us")).cast(TS_TYPE)
        return pc.cast(a, TS_TYPE)
    if pa.types.is_date(t):
        return pc.cast(pc.cast(a, pa.timestamp("us")), TS_TYPE)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        micros = pc.multiply(pc.cast(a, pa.float64()), 1_000_000.0)
        if not pc.all(pc.fill_null(pc.is_finite(micros), True)).as_py():
            raise pa.ArrowInvalid("not a finite number of seconds")
        return pc.cast(pc.cast(micros, pa.int64(), safe=False), TS_TYPE)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = pc.utf8_trim_whitespace(a)
        text = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d) ", r"\1T")
        text = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d)$", r"\1T00:00:00")
        # A zone (Z, +01:00) is honoured; text without one is UTC; plain numbers (as CSV
        # gives them) are Unix seconds. All three may mix in one column.
        none = pa.scalar(None, text.type)
        number = pc.fill_null(pc.match_substring_regex(text, r"^-?\d+(\.\d*)?$"), False)
        zoned = pc.and_(
            pc.fill_null(pc.match_substring_regex(text, _ZONE), False), pc.invert(number)
        )
        plain = pc.and_(pc.invert(zoned), pc.invert(number))
        aware = pc.cast(pc.if_else(zoned, text, none), TS_TYPE)
        naive = pc.cast(pc.cast(pc.if_else(plain, text, none), pa.timestamp("us")), TS_TYPE)
        seconds = to_timestamp(pc.cast(pc.if_else(number, text, none), pa.float64()))
        return pc.coalesce(aware, naive, seconds)
    raise pa.ArrowInvalid(f"{t} is not a timestamp")


_CONVERTERS: dict[FeatureType, tuple[Callable[[pa.Array], pa.Array], str]] = {
    FeatureType.NUMERIC: (_to_float, "a number"),
    FeatureType.CATEGORICAL: (_to_string, "a category (text, number or boolean)"),
    FeatureType.TEXT: (_to_string, "text"),
    FeatureType.BOOLEAN: (_to_bool, "a boolean (true/false, 1/0, yes/no)"),
    FeatureType.DATETIME: (to_timestamp, "an ISO 8601 timestamp or Unix seconds"),
}


def _arrow_type(kind: FeatureType) -> pa.DataType:
    return {
        FeatureType.NUMERIC: pa.float64(),
        FeatureType.BOOLEAN: pa.bool_(),
        FeatureType.DATETIME: TS_TYPE,
    }.get(kind, pa.string())


def _require_columns(table: pa.Table, names: list[str], source: str) -> None:
    for name in names:
        if name not in table.column_names:
            found = ", ".join(table.column_names[:20]) or "none"
            raise InputError(
                f"missing column {name!r} (columns found: {found})",
                field=name,
                file=source,
                expected=f"a column named {name!r}",
            )


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _show(value: object) -> str:
    text = value.isoformat() if isinstance(value, datetime) else repr(value)
    return text if len(text) <= GOT_CHARS else text[: GOT_CHARS - 1] + "…"


def _listing(items: frozenset[str]) -> str:
    ordered = sorted(items)
    head = ", ".join(ordered[:10])
    return head + (f", ... ({len(ordered)} in all)" if len(ordered) > 10 else "")
