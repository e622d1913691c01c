"""The columnar event log: Parquet files under `data_dir`, one per batch, model, kind and UTC day:

    <data_dir>/<kind>/<model>/<YYYY-MM-DD>/<batch_id>.parquet     kind: events | labels | quarantine

A file is written to a temporary name, fsynced, renamed into place and its folder fsynced
before the database commits the batch that lists it; the batch row is the commit point.
A file no committed batch lists (a crash between rename and commit) is never read and is
deleted by `orphans()` once it is older than any batch could still be in flight."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DAY_US = 86_400 * 1_000_000
KINDS = ("events", "labels", "quarantine")
# zstd at a low level: ~3x smaller than raw at close to snappy's speed.
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1


@dataclass(frozen=True, slots=True)
class WrittenFile:
    day: str
    path: str  # relative to data_dir, with forward slashes
    n_rows: int
    min_ts_us: int
    max_ts_us: int


class EventLog:
    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir)

    def write(
        self, kind: str, model: str, batch_id: str, table: pa.Table, ts_us: np.ndarray
    ) -> list[WrittenFile]:
        """Write `table` split by UTC day of `ts_us`; every file is durable when this returns."""
        if table.num_rows == 0:
            return []
        days = ts_us // DAY_US
        written = []
        try:
            for day in np.unique(days).tolist():
                mask = days == day
                part = table if mask.all() else table.filter(pa.array(mask))
                label = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")
                rel = f"{kind}/{model}/{label}/{batch_id}.parquet"
                self._write_durably(self.root / rel, part)
                sub = ts_us[mask]
                written.append(
                    WrittenFile(label, rel, part.num_rows, int(sub.min()), int(sub.max()))
                )
        except BaseException:
            self.delete(w.path for w in written)
            raise
        return written

    def _write_durably(self, path: Path, table: pa.Table) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        # Arrow writes to the path itself (no Python file object, so no GIL per write call and
        # the encoding runs in parallel with profiling); then the bytes are fsynced.
        text = [f.name for f in table.schema if pa.types.is_string(f.type)]
        # Dictionary pages only pay off for text; for floats they cost 4x the encode time.
        pq.write_table(
            table,
            str(tmp),
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            use_dictionary=text,
        )
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def read(self, paths: Iterable[str], columns: list[str] | None = None) -> list[pa.Table]:
        return [pq.read_table(self.root / p, columns=columns) for p in paths]

    def delete(self, paths: Iterable[str]) -> int:
        n = 0
        for rel in paths:
            try:
                (self.root / rel).unlink()
                n += 1
            except FileNotFoundError:
                pass
        return n

    def files(self, kind: str, model: str) -> Iterator[tuple[str, float]]:
        """Every file (and temporary file) on disk for a model: (relative path, mtime)."""
        base = self.root / kind / model
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            if path.is_file():
                yield path.relative_to(self.root).as_posix(), path.stat().st_mtime

    def orphans(self, kind: str, model: str, committed: set[str], older_than_s: float) -> list[str]:
        """Files on disk that no committed batch lists and that are old enough to be sure no
        batch is still being written."""
        cutoff = time.time() - older_than_s
        return [p for p, mtime in self.files(kind, model) if p not in committed and mtime < cutoff]


def _fsync_dir(path: Path) -> None:
    # The rename is only durable once the directory entry is; not possible on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
