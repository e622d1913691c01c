"""Training data for a retrain: the incident-scoped window of labelled events as plain arrays.

Pure: it turns an Arrow table (what ingest's event log returns) into a feature matrix in the
policy's feature order, drops rows without a label and rows inside quarantined windows, and
fingerprints what is left so a version's lineage names exactly the data it learnt from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import InputError

MISSING = "__missing__"  # the category a null becomes (one-hot encoders refuse None)
USED_TYPES = ("numeric", "boolean", "categorical")  # text and datetime features are not used


@dataclass(frozen=True, slots=True)
class Columns:
    """Which features a template sees, in a fixed order (numeric first, then categorical)."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    @classmethod
    def from_schema(cls, features: dict[str, object]) -> Columns:
        numeric = tuple(n for n, f in features.items()
                        if getattr(f, "type", None) in ("numeric", "boolean")
                        and not getattr(f, "pii", False))
        categorical = tuple(n for n, f in features.items()
                            if getattr(f, "type", None) == "categorical"
                            and not getattr(f, "pii", False))
        if not numeric and not categorical:
            raise InputError("the model has no numeric, boolean or categorical feature to "
                             "train on", field="schema.features",
                             expected=f"at least one feature of type {', '.join(USED_TYPES)}")
        return cls(numeric, categorical)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    def contains(self, ts_us: np.ndarray) -> np.ndarray:
        lo = int(ensure_utc(self.start).timestamp() * 1_000_000)
        hi = int(ensure_utc(self.end).timestamp() * 1_000_000)
        return (ts_us >= lo) & (ts_us < hi)


@dataclass(slots=True)
class Dataset:
    x: np.ndarray  # object array, rows x len(columns.names)
    y: np.ndarray
    ts_us: np.ndarray  # event time, microseconds since the epoch
    columns: Columns
    segments: dict[str, np.ndarray] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows left out

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def take(self, idx: np.ndarray) -> Dataset:
        return Dataset(self.x[idx], self.y[idx], self.ts_us[idx], self.columns,
                       {k: v[idx] for k, v in self.segments.items()}, dict(self.excluded))

    def fingerprint(self) -> str:
        """sha256 over the rows' times, features and labels (order matters, as in training)."""
        digest = hashlib.sha256()
        digest.update(",".join(self.columns.names).encode())
        digest.update(np.ascontiguousarray(self.ts_us).tobytes())
        for j in range(self.x.shape[1]):
            digest.update("\x1f".join(map(str, self.x[:, j])).encode())
        digest.update(np.ascontiguousarray(self.y).tobytes())
        return digest.hexdigest()


def training_window(change_at: datetime, now: datetime, history: timedelta) -> Window:
    """The post-change window plus `history` before the change (the configurable history)."""
    start = ensure_utc(change_at) - history
    end = ensure_utc(now)
    if start >= end:
        raise InputError(f"the training window {start.isoformat()} .. {end.isoformat()} is empty",
                         field="window", expected="a change point before now")
    return Window(start, end)


def to_matrix(table: pa.Table, columns: Columns, *, source: str = "events") -> np.ndarray:
    """Feature matrix (object array): numeric as float (NaN for null), categorical as str."""
    n = table.num_rows
    out = np.empty((n, len(columns.names)), dtype=object)
    for j, name in enumerate(columns.names):
        if name not in table.column_names:
            raise InputError(f"column {name!r} is missing", field=name, file=source,
                             expected="every feature of the model's schema")
        col = table.column(name)
        if name in columns.numeric:
            values = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
            out[:, j] = np.asarray(values, dtype=float)
        else:
            values = pc.fill_null(pc.cast(col, pa.string()), MISSING).to_numpy(
                zero_copy_only=False)
            out[:, j] = values
    return out


def dataset_from_events(
    table: pa.Table,
    columns: Columns,
    *,
    quarantined: Sequence[Window] = (),
    segment_names: Sequence[str] = (),
    label_dtype: type = float,
) -> Dataset:
    """Labelled rows of an event table outside every quarantined window, oldest first."""
    if table.num_rows == 0 or "label" not in table.column_names:
        return Dataset(np.empty((0, len(columns.names)), dtype=object), np.empty(0),
                       np.empty(0, dtype=np.int64), columns, excluded={"no events": 0})
    ts = pc.cast(table.column("timestamp"), pa.int64()).to_numpy(zero_copy_only=False)
    labelled = ~np.asarray(table.column("label").is_null().to_numpy(zero_copy_only=False))
    keep = labelled.copy()
    excluded = {"unlabelled": int((~labelled).sum())}
    in_quarantine = np.zeros(len(ts), dtype=bool)
    for w in quarantined:
        in_quarantine |= w.contains(ts)
    excluded["quarantined"] = int((in_quarantine & labelled).sum())
    keep &= ~in_quarantine
    idx = np.flatnonzero(keep)
    sub = table.take(pa.array(idx))
    x = to_matrix(sub, columns)
    y = np.asarray(sub.column("label").to_numpy(zero_copy_only=False)).astype(label_dtype)
    segments = {s: np.asarray(pc.cast(sub.column(s), pa.string()).to_numpy(zero_copy_only=False))
                for s in segment_names if s in sub.column_names}
    order = np.argsort(ts[idx], kind="stable")
    return Dataset(x[order], y[order], ts[idx][order], columns,
                   {k: v[order] for k, v in segments.items()}, excluded)


def recent_split(n: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, recent) indices of time-ordered rows: the newest `fraction` is held out, so the
    candidate is judged on the most recent labelled data it never saw."""
    n_recent = max(1, round(n * fraction))
    if n - n_recent < 2:
        raise InputError(f"{n} labelled rows are too few to hold out {fraction:.0%}",
                         field="gates.validation.holdout_fraction",
                         expected="more labelled rows in the training window")
    return np.arange(n - n_recent), np.arange(n - n_recent, n)
