"""Fold a batch of accepted events (or labels) into partial profiles, one per window.

Time windows are [k*every, (k+1)*every) on the Unix epoch (so hourly windows start on the hour
in UTC, daily ones at midnight UTC). Count windows number the model's accepted events in
arrival order: window k holds events k*N .. (k+1)*N-1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.core.enums import FeatureType
from watchkeeper.ingest import spec as s
from watchkeeper.ingest.spec import ModelSpec
from watchkeeper.profiles import CategoricalColumn, WindowProfile, build_profile
from watchkeeper.profiles.window import Column


@dataclass(frozen=True, slots=True)
class Part:
    """One window's share of one batch."""

    window_key: int  # start in µs (time windows) or window index (count windows)
    start_us: int  # window start (time) or earliest event (count)
    end_us: int  # window end, exclusive (time) or latest event + 1 µs (count)
    profile: WindowProfile


def ts_micros(table: pa.Table) -> np.ndarray:
    return table.column(s.TIMESTAMP).cast(pa.int64()).to_numpy()


def window_keys(spec: ModelSpec, ts_us: np.ndarray, first_seq: int) -> np.ndarray:
    """The window of each row: its start in µs, or (count windows) its index."""
    if spec.window.every is not None:
        every = spec.window.every_us
        return (ts_us // every) * every
    assert spec.window.events is not None
    return (first_seq + np.arange(ts_us.size, dtype=np.int64)) // spec.window.events


def fold_events(
    spec: ModelSpec, table: pa.Table, keys: np.ndarray, ts_us: np.ndarray
) -> list[Part]:
    columns = _columns(spec, table)
    parts = []
    for key, idx in _groups(keys):
        take = (lambda c, idx=idx: _take(c, idx)) if idx is not None else (lambda c: c)
        window_ts = ts_us if idx is None else ts_us[idx]
        profile = build_profile(
            {name: take(col) for name, col in columns["features"].items()},
            spec.feature_types,
            n=window_ts.size,
            prediction=_opt(take, columns.get("prediction")),
            prediction_type=spec.prediction_type,
            confidence=_opt(take, columns.get("score")),
            latency=_opt(take, columns.get("latency")),
            segments={
                seg: take(columns["features"][seg])
                for seg in spec.segments
                if seg in columns["features"]
            },
        )
        parts.append(_part(spec, key, window_ts, profile))
    return parts


def fold_labels(
    spec: ModelSpec, labels: pa.Array, keys: np.ndarray, event_ts_us: np.ndarray
) -> list[Part]:
    column = _column(labels, spec.label_type)
    parts = []
    for key, idx in _groups(keys):
        values = column if idx is None else _take(column, idx)
        profile = build_profile({}, {}, n=0, label=values, label_type=spec.label_type)
        parts.append(_part(spec, key, event_ts_us if idx is None else event_ts_us[idx], profile))
    return parts


def _part(spec: ModelSpec, key: int, ts: np.ndarray, profile: WindowProfile) -> Part:
    if spec.window.every is not None:
        return Part(int(key), int(key), int(key) + spec.window.every_us, profile)
    return Part(int(key), int(ts.min()), int(ts.max()) + 1, profile)


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray | slice | None]]:
    if keys.size == 0:
        return []
    first = keys[0]
    if np.all(keys == first):  # the common case: the whole batch is in one window
        return [(int(first), None)]
    if np.all(keys[1:] >= keys[:-1]):  # time-ordered input: windows are runs, sliced not copied
        uniq, starts = np.unique(keys, return_index=True)
        bounds = [*starts.tolist(), keys.size]
        return [(int(k), slice(a, b)) for k, a, b in zip(uniq, bounds, bounds[1:], strict=False)]
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    bounds = [*starts.tolist(), keys.size]
    return [(int(k), order[a:b]) for k, a, b in zip(uniq, bounds, bounds[1:], strict=False)]


def _columns(spec: ModelSpec, table: pa.Table) -> dict:  # type: ignore[type-arg]
    features = {
        name: _column(table.column(name), kind) for name, kind in spec.feature_types.items()
    }
    out: dict = {"features": features}  # type: ignore[type-arg]
    if s.PREDICTION in table.column_names:
        out["prediction"] = _column(table.column(s.PREDICTION), spec.prediction_type)
    if s.SCORE in table.column_names:
        out["score"] = _float(table.column(s.SCORE))
    if s.LATENCY in table.column_names:
        out["latency"] = _float(table.column(s.LATENCY))
    return out


def _column(values: pa.Array | pa.ChunkedArray, kind: FeatureType) -> Column:
    if kind is FeatureType.NUMERIC:
        return _float(values)
    if kind is FeatureType.DATETIME:  # profiled as Unix seconds
        micros = pc.cast(values, pa.int64())
        return _float(pc.divide(pc.cast(micros, pa.float64()), 1_000_000.0))
    # Dictionary-encode in Arrow (hashing in C), so profiles only bincount integer codes.
    text = values if kind is not FeatureType.BOOLEAN else pc.if_else(values, "true", "false")
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return CategoricalColumn(codes.astype(np.int64, copy=False), encoded.dictionary.to_pylist())


def _float(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    # One writeable copy per column: the sketches take only writeable arrays, and window
    # slices of it can then go to them without another copy each.
    raw = (
        values.to_numpy(zero_copy_only=False)
        if isinstance(values, pa.Array)
        else (values.to_numpy())
    )
    return np.array(raw, dtype=np.float64, copy=True)


def _take(col: Column, idx: np.ndarray | slice) -> Column:
    if isinstance(col, CategoricalColumn):
        return CategoricalColumn(col.codes[idx], col.categories)
    return col[idx]


def _opt(take, col):  # type: ignore[no-untyped-def]
    return None if col is None else take(col)
