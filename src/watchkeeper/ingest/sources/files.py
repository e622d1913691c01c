"""Files (Parquet, CSV, JSON lines) read as a stream of Arrow chunks, so a file of any size is
ingested in bounded memory and acknowledged chunk by chunk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from watchkeeper.core.errors import InputError
from watchkeeper.ingest.sources.frames import flatten_groups

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
DEFAULT_CHUNK_ROWS = 250_000


@dataclass(frozen=True, slots=True)
class Chunk:
    table: pa.Table
    first_row: int  # 1-based number of the chunk's first data row in the file
    bytes_done: int  # how far into the file reading has got (for progress bars)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unknown file type {path.suffix or '(none)'!r}",
            file=str(path),
            expected="one of " + ", ".join(sorted(FORMATS)),
        )
    return fmt


def read_chunks(path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[Chunk]:
    """Yield the file as Arrow chunks. Unreadable files raise InputError naming the file (and
    the row, where the reader knows it); chunks already yielded stay valid."""
    p = Path(path)
    fmt = file_format(p)
    if not p.is_file():
        raise InputError("no such file", file=str(p), expected="an existing file")
    size = p.stat().st_size
    if size == 0:
        raise InputError("the file is empty", file=str(p), expected=f"a {fmt} file with rows")
    reader = {"parquet": _parquet, "csv": _csv, "jsonl": _jsonl}[fmt]
    try:
        yield from reader(p, chunk_rows, size)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(f"cannot read {fmt}: {_short(exc)}", file=str(p)) from None


def _parquet(path: Path, chunk_rows: int, size: int) -> Iterator[Chunk]:
    pf = pq.ParquetFile(path)
    total = max(pf.metadata.num_rows, 1)
    row = 1
    for batch in pf.iter_batches(batch_size=chunk_rows):
        table = flatten_groups(pa.Table.from_batches([batch]))
        yield Chunk(table, row, int(size * min(1.0, (row - 1 + batch.num_rows) / total)))
        row += batch.num_rows


def _csv(path: Path, chunk_rows: int, size: int) -> Iterator[Chunk]:
    # Every column is read as text: types come from the model's schema, and a bad value then
    # quarantines one row instead of failing the whole block in the CSV reader.
    with open(path, "rb") as fh:
        header = pacsv.open_csv(fh, read_options=pacsv.ReadOptions(block_size=1 << 16))
        names = header.schema.names
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=True
    )
    read = pacsv.ReadOptions(block_size=1 << 22)
    with open(path, "rb") as fh:
        stream = pacsv.open_csv(fh, read_options=read, convert_options=convert)
        yield from _rebatch(stream, chunk_rows, lambda: fh.tell(), size)


def _jsonl(path: Path, chunk_rows: int, size: int) -> Iterator[Chunk]:
    table = pajson.read_json(path)
    table = flatten_groups(table)
    row = 1
    for start in range(0, table.num_rows, chunk_rows):
        part = table.slice(start, chunk_rows)
        yield Chunk(part, row, int(size * min(1.0, (start + part.num_rows) / table.num_rows)))
        row += part.num_rows


def _rebatch(stream: pacsv.CSVStreamingReader, chunk_rows: int, tell, size: int) -> Iterator[Chunk]:  # type: ignore[no-untyped-def]
    pending: list[pa.RecordBatch] = []
    rows = 0
    row = 1
    for batch in stream:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= chunk_rows:
            yield Chunk(pa.Table.from_batches(pending), row, min(tell(), size))
            row += rows
            pending, rows = [], 0
    if rows:
        yield Chunk(pa.Table.from_batches(pending), row, size)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def file_size(path: str | Path) -> int:
    return os.stat(path).st_size
