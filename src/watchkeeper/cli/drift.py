"""`watchkeeper drift REFERENCE CURRENT`: compare two Parquet/CSV files, no database.

Speed comes from the algorithm, not from tuning: each column is read on its own from Parquet
(never the whole table as float64), sorted once per side, and every statistic works on the two
sorted arrays (KS exactly with a 4096-point grid and local refinement, Wasserstein from the
quantile functions without merging the samples); categorical columns are value-counted by Arrow.
Columns run on a thread pool (numpy's sort and Arrow's decoding release the GIL).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from watchkeeper.detectors.drift import DriftReport, Measurement

FORMATS = ("json", "table", "html")
HISTOGRAM_BINS = 40
TOP_CATEGORIES = 15


@dataclass(frozen=True, slots=True)
class Histogram:
    """What the HTML report draws for one feature: kilobytes, never the data."""

    labels: list[str]  # category names, or numeric bin edges (one more than bins)
    reference: list[float]  # fractions
    current: list[float]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    feature_type: FeatureType


class Source:
    """One input file. Parquet is read column by column (each thread keeps its own reader);
    CSV has no column access, so it is read once into Arrow memory."""

    def __init__(self, path: Path, role: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path, self.role = path, role
        if not path.exists():
            raise InputError(f"{role} file does not exist", file=str(path))
        if path.is_dir():
            raise InputError(
                f"{role} path is a directory", file=str(path), expected="a .parquet or .csv file"
            )
        self._local = threading.local()
        self._table: pa.Table | None = None
        suffix = "".join(path.suffixes[-2:]).lower()
        try:
            if suffix.endswith((".parquet", ".pq", ".parq")):
                meta = pq.ParquetFile(path)
                self.schema: pa.Schema = meta.schema_arrow
                self.num_rows: int = meta.metadata.num_rows
            elif suffix.endswith((".csv", ".csv.gz")):
                import pyarrow.csv as pacsv

                self._table = pacsv.read_csv(path)
                self.schema, self.num_rows = self._table.schema, self._table.num_rows
            else:
                raise InputError(
                    f"cannot tell the format of the {role} file from its name",
                    file=str(path),
                    expected="a name ending in .parquet or .csv",
                )
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"{role} file cannot be read: {exc}",
                file=str(path),
                expected="a valid Parquet or CSV file",
            ) from None

    def column(self, name: str) -> pa.ChunkedArray:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._table is not None:
            return self._table.column(name)
        reader = getattr(self._local, "reader", None)
        if reader is None:
            # Strings come back dictionary-encoded straight from Parquet's dictionary pages, so
            # counting categories is a bincount of small integers, not a hash of 1M strings.
            strings = [
                f.name
                for f in self.schema
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
            ]
            reader = self._local.reader = pq.ParquetFile(self.path, read_dictionary=strings)
        try:
            return reader.read(columns=[name], use_threads=False).column(0)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"column cannot be read: {exc}", file=str(self.path), field=name
            ) from None


def feature_type(arrow_type: pa.DataType) -> FeatureType | None:
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return feature_type(arrow_type.value_type)
    if t.is_boolean(arrow_type):
        return FeatureType.BOOLEAN
    if t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return FeatureType.NUMERIC
    if t.is_timestamp(arrow_type) or t.is_date(arrow_type):
        return FeatureType.DATETIME
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_binary(arrow_type):
        return FeatureType.CATEGORICAL
    return None


def plan_columns(ref: Source, cur: Source, wanted: list[str] | None) -> list[Column]:
    ref_names, cur_names = list(ref.schema.names), set(cur.schema.names)
    if wanted:
        unknown = [c for c in wanted if c not in ref.schema.names or c not in cur_names]
        if unknown:
            raise InputError(
                f"--columns names {', '.join(unknown)}, not in both files",
                field="--columns",
                expected="columns of both files: "
                + ", ".join(n for n in ref_names if n in cur_names),
            )
        names = wanted
    else:
        only_ref = [n for n in ref_names if n not in cur_names]
        only_cur = [n for n in cur.schema.names if n not in set(ref_names)]
        if only_ref or only_cur:
            parts = ([f"only in reference: {', '.join(only_ref)}"] if only_ref else []) + (
                [f"only in current: {', '.join(only_cur)}"] if only_cur else []
            )
            raise InputError(
                "the files have different columns (" + "; ".join(parts) + ")",
                file=str(cur.path),
                expected="the same columns, or pick shared ones with --columns",
            )
        names = ref_names
    columns = []
    for name in names:
        kind = feature_type(ref.schema.field(name).type)
        other = feature_type(cur.schema.field(name).type)
        if kind is None:
            raise InputError(
                f"type {ref.schema.field(name).type} cannot be compared",
                file=str(ref.path),
                field=name,
                expected="numeric, boolean, string or timestamp columns "
                "(leave this one out with --columns)",
            )
        numeric = (FeatureType.NUMERIC, FeatureType.DATETIME)
        if other is None or (kind in numeric) != (other in numeric):
            raise InputError(
                f"is {kind.value} in the reference but "
                f"{cur.schema.field(name).type} in the current file",
                file=str(cur.path),
                field=name,
                expected=f"{kind.value} values",
            )
        columns.append(Column(name, kind))
    return columns


def _numeric_values(chunked: pa.ChunkedArray) -> np.ndarray:
    import numpy as np
    import pyarrow as pa

    if pa.types.is_dictionary(chunked.type):
        chunked = chunked.cast(chunked.type.value_type)
    if pa.types.is_timestamp(chunked.type):
        chunked = chunked.cast(pa.int64())
    elif pa.types.is_date(chunked.type):
        chunked = chunked.cast(pa.date32()).cast(pa.int32())
    if not pa.types.is_float64(chunked.type):
        chunked = chunked.cast(pa.float64())
    values = chunked.to_numpy()  # nulls become NaN
    return np.asarray(values, dtype=np.float64)


def _category_counts(chunked: pa.ChunkedArray) -> dict[str, float]:
    import numpy as np
    import pyarrow as pa

    counts: dict[str, float] = {}
    if pa.types.is_dictionary(chunked.type):
        # Each chunk (row group) may carry its own dictionary: count indices, then add by name.
        for chunk in chunked.chunks:
            indices = chunk.indices.to_numpy(zero_copy_only=False)  # nulls become NaN
            if chunk.null_count:
                indices = indices[~np.isnan(indices)].astype(np.int64)
            tally = np.bincount(indices, minlength=len(chunk.dictionary))
            for name, n in zip(chunk.dictionary.to_pylist(), tally.tolist(), strict=True):
                if n and name is not None:
                    key = str(name)
                    counts[key] = counts.get(key, 0.0) + float(n)
        return counts
    import pyarrow.compute as pc  # half a second to import: only for CSV and non-string columns

    if not pa.types.is_string(chunked.type):
        chunked = chunked.cast(pa.string())
    counted = pc.value_counts(chunked)
    names = counted.field("values").to_pylist()
    tallies = counted.field("counts").to_pylist()
    return {str(k): float(v) for k, v in zip(names, tallies, strict=True) if k is not None}


def _numeric_histogram(ref: np.ndarray, cur: np.ndarray) -> Histogram:
    import numpy as np

    def q(a: np.ndarray, f: float) -> float:
        return float(a[min(int(f * a.size), a.size - 1)])

    lo, hi = min(q(ref, 0.005), q(cur, 0.005)), max(q(ref, 0.995), q(cur, 0.995))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)

    def fractions(a: np.ndarray) -> list[float]:
        # Sorted input: counts are differences of positions; the tails fold into the end bins.
        pos = np.searchsorted(a, edges[1:-1], side="right")
        counts = np.diff(np.concatenate(([0], pos, [a.size])))
        return (counts / a.size).round(5).tolist()

    return Histogram([f"{e:.4g}" for e in edges], fractions(ref), fractions(cur))


def _category_histogram(ref: dict[str, float], cur: dict[str, float]) -> Histogram:
    nr, nc = sum(ref.values()) or 1.0, sum(cur.values()) or 1.0
    names = sorted(set(ref) | set(cur), key=lambda k: -max(ref.get(k, 0) / nr, cur.get(k, 0) / nc))
    shown, rest = names[:TOP_CATEGORIES], names[TOP_CATEGORIES:]
    r = [round(ref.get(k, 0) / nr, 5) for k in shown]
    c = [round(cur.get(k, 0) / nc, 5) for k in shown]
    if rest:
        shown = [*shown, f"other ({len(rest)})"]
        r.append(round(sum(ref.get(k, 0) for k in rest) / nr, 5))
        c.append(round(sum(cur.get(k, 0) for k in rest) / nc, 5))
    return Histogram(shown, r, c)


def measure_column(
    ref: Source, cur: Source, column: Column, method: str | None, want_histogram: bool
) -> tuple[Measurement, Histogram | None]:
    from watchkeeper.detectors.drift import CategoricalCounts, NumericSample, measure

    name = column.name
    if column.feature_type in (FeatureType.NUMERIC, FeatureType.DATETIME):
        samples = (
            NumericSample.prepare(_numeric_values(ref.column(name)), field=name, owned=True),
            NumericSample.prepare(_numeric_values(cur.column(name)), field=name, owned=True),
        )
        found = measure(name, column.feature_type, samples, method)
        hist = _numeric_histogram(samples[0].values, samples[1].values) if want_histogram else None
        return found, hist
    ref_counts = _category_counts(ref.column(name))
    cur_counts = _category_counts(cur.column(name))
    counts = CategoricalCounts.from_dicts(ref_counts, cur_counts, field=name)
    found = measure(name, column.feature_type, counts, method)
    return found, _category_histogram(ref_counts, cur_counts) if want_histogram else None


def parse_methods(specs: list[str], columns: list[Column]) -> Callable[[Column], str | None]:
    """`--method ks` (every feature whose type ks accepts) or `--method income=psi`."""
    from watchkeeper.detectors.drift import get_method

    by_column: dict[str, str] = {}
    general: list[str] = []
    names = {c.name for c in columns}
    for spec in specs:
        name, _, method_id = spec.rpartition("=")
        get_method(method_id)  # unknown ids fail here, with the list of known ones
        if name:
            if name not in names:
                raise InputError(
                    f"--method names column {name!r}, which is not compared",
                    field="--method",
                    expected="one of " + ", ".join(sorted(names)),
                )
            by_column[name] = method_id
        else:
            general.append(method_id)

    def choose(column: Column) -> str | None:
        if column.name in by_column:
            return by_column[column.name]
        for method_id in general:
            if get_method(method_id).accepts(column.feature_type):
                return method_id
        return None

    return choose


def run(
    reference: Path,
    current: Path,
    *,
    columns: list[str] | None,
    methods: list[str],
    min_effect: float | None,
    correction: str | None,
    drift_share: float | None,
    jobs: int,
    want_histograms: bool,
    progress: bool,
) -> tuple[DriftReport, dict[str, Histogram | None]]:
    """The whole comparison; the command only formats what this returns."""
    from watchkeeper.detectors.correction import Correction
    from watchkeeper.detectors.drift import DriftRules, decide

    defaults = DriftRules()
    rules = DriftRules(
        min_effect=defaults.min_effect if min_effect is None else min_effect,
        correction=Correction.parse(correction) if correction else defaults.correction,
        drift_share=defaults.drift_share if drift_share is None else drift_share,
    )
    ref, cur = Source(reference, "reference"), Source(current, "current")
    for source in (ref, cur):
        if source.num_rows == 0:
            raise InputError(
                f"{source.role} file has no rows",
                file=str(source.path),
                expected="at least one row",
            )
    plan = plan_columns(ref, cur, columns)
    choose = parse_methods(methods, plan)
    results: list[tuple[Measurement, Histogram | None]] = []
    bar = _progress(progress, len(plan))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, bar as tick:
        futures = [
            pool.submit(measure_column, ref, cur, c, choose(c), want_histograms) for c in plan
        ]
        for future in futures:
            results.append(future.result())
            tick()
    report = decide(
        [m for m, _ in results], rules, n_reference=ref.num_rows, n_current=cur.num_rows
    )
    return report, {m.feature: h for m, h in results}


class _progress:
    """A Rich progress bar on stderr, only where a person watches (a terminal) and the run has
    enough columns to be worth one."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total

    def __enter__(self) -> Callable[[], None]:
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True)
        if not (self.enabled and console.is_terminal and self.total >= 8):
            self._bar = None
            return lambda: None
        self._bar = Progress(console=console, transient=True)
        self._bar.start()
        task = self._bar.add_task("comparing columns", total=self.total)
        return lambda: self._bar.advance(task) if self._bar else None

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def render_table(report: DriftReport) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Drift: {sum(f.drifted for f in report.features)} of "
        f"{len(report.features)} features drifted "
        f"({report.drifted_share:.0%}; dataset drift: "
        f"{'yes' if report.dataset_drift else 'no'})"
    )
    for header in (
        "feature",
        "type",
        "method",
        "statistic",
        "p-value",
        "p adj.",
        "effect",
        "threshold",
        "drifted",
    ):
        table.add_column(
            header, justify="left" if header in ("feature", "type", "method") else "right"
        )
    for f in report.features:
        m = f.measurement
        table.add_row(
            m.feature,
            m.feature_type.value,
            m.method,
            _fmt(m.statistic),
            _fmt(m.p_value),
            _fmt(f.p_value_adjusted),
            _fmt(m.effect_size),
            ("p < " if m.p_value is not None else ">= ") + _fmt(m.threshold),
            "[bold red]yes[/]" if f.drifted else "no",
        )
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(table)
    console.print(
        f"reference rows {report.n_reference}, current rows {report.n_current}; "
        f"drift = significant ({report.rules.correction.value}-corrected) and "
        f"effect >= {report.rules.min_effect}"
    )
    return console.export_text()


def register(app: typer.Typer) -> None:
    @app.command()
    def drift(
        reference: Path = typer.Argument(..., help="Reference data (.parquet or .csv)."),
        current: Path = typer.Argument(..., help="Current data (.parquet or .csv)."),
        format: str = typer.Option("table", "--format", "-f", help="json, table or html."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Write here, not stdout."),
        fail_on_drift: bool = typer.Option(
            False, "--fail-on-drift", help="Exit 1 when the dataset drifted."
        ),
        columns: str | None = typer.Option(None, "--columns", help="Comma-separated subset."),
        method: list[str] = typer.Option(
            [],
            "--method",
            "-m",
            help="ID for every feature it accepts, or COLUMN=ID; "
            "repeatable. Default: per type and size.",
        ),
        min_effect: float | None = typer.Option(
            None, "--min-effect", help="Smallest effect size that is drift (default 0.02)."
        ),
        correction: str | None = typer.Option(
            None, "--correction", help="bh (default), bonferroni or none."
        ),
        drift_share: float | None = typer.Option(
            None,
            "--drift-share",
            help="Share of drifted features that is dataset drift (default 0.5).",
        ),
        jobs: int = typer.Option(
            os.cpu_count() or 1, "--jobs", "-j", help="Columns processed in parallel."
        ),
    ) -> None:
        """Compare CURRENT with REFERENCE, feature by feature, and say what drifted."""
        try:
            if format not in FORMATS:
                raise InputError(
                    f"unknown format {format!r}",
                    field="--format",
                    expected="one of " + ", ".join(FORMATS),
                )
            wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
            report, histograms = run(
                reference,
                current,
                columns=wanted,
                methods=method,
                min_effect=min_effect,
                correction=correction,
                drift_share=drift_share,
                jobs=jobs,
                want_histograms=format == "html",
                progress=True,
            )
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if format == "json":
            text = json.dumps(report.to_dict(), indent=2) + "\n"
        elif format == "table":
            text = render_table(report)
        else:
            from watchkeeper.cli.drift_html import render_html

            text = render_html(report, histograms, reference.name, current.name)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out} ({len(text.encode()) // 1024} KiB)", err=True)
        if fail_on_drift and report.dataset_drift:
            raise typer.Exit(1)


def as_dict(histogram: Histogram | None) -> dict[str, Any] | None:
    if histogram is None:
        return None
    return {
        "labels": histogram.labels,
        "reference": histogram.reference,
        "current": histogram.current,
    }


if __name__ == "__main__":
    # `python -m watchkeeper.cli.drift REF CUR ...`: the same command without importing the
    # other command groups (benchmarks/drift.py reports both start-up costs).
    standalone = typer.Typer(add_completion=False)
    register(standalone)
    standalone()
