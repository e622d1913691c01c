"""`watchkeeper drift REFERENCE CURRENT` on real Parquet and CSV files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from watchkeeper.cli.app import app

CONTRACT_KEYS = {
    "name",
    "type",
    "method",
    "statistic",
    "p_value",
    "effect_size",
    "threshold",
    "drifted",
}


def _table(n: int, seed: int, shift: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1)
    regions = rng.choice(
        ["north", "south", "east"], n, p=[0.5, 0.3, 0.2] if shift == 0 else [0.2, 0.3, 0.5]
    )
    return pa.table(
        {
            "income": rng.normal(50_000 + 10_000 * shift, 10_000, n),
            "age": rng.integers(18, 90, n),
            "region": pa.array(regions).dictionary_encode(),
            "tier": rng.choice(["a", "b"], n),
            "active": rng.random(n) < 0.4,
            "seen": pa.array(
                [start + timedelta(minutes=int(x)) for x in rng.integers(0, 10_000, n)],
                type=pa.timestamp("us"),
            ),
        }
    )


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, seed, shift in (("ref", 1, 0.0), ("same", 2, 0.0), ("drifted", 4, 1.0)):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(_table(4000, seed, shift), path)
        paths[name] = path
    return paths


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["drift", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_json_report_follows_the_contract_and_finds_the_drift(files: dict[str, Path]) -> None:
    code, out, _ = invoke(files["ref"], files["drifted"], "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["n_reference"] == 4000 and report["n_current"] == 4000
    by_name = {f["name"]: f for f in report["features"]}
    assert list(by_name) == ["income", "age", "region", "tier", "active", "seen"]
    assert all(set(f) >= CONTRACT_KEYS for f in report["features"])
    assert {n: f["type"] for n, f in by_name.items()} == {
        "income": "numeric",
        "age": "numeric",
        "region": "categorical",
        "tier": "categorical",
        "active": "boolean",
        "seen": "datetime",
    }
    assert by_name["income"]["drifted"] and by_name["region"]["drifted"]
    assert not any(by_name[n]["drifted"] for n in ("age", "tier", "active", "seen"))
    assert report["drifted_share"] == pytest.approx(2 / 6)
    assert report["dataset_drift"] is False  # 33% < the default 50%


def test_fail_on_drift_exits_1_only_on_dataset_drift(files: dict[str, Path]) -> None:
    assert invoke(files["ref"], files["same"], "--format", "json", "--fail-on-drift")[0] == 0
    code, out, _ = invoke(
        files["ref"],
        files["drifted"],
        "--format",
        "json",
        "--fail-on-drift",
        "--drift-share",
        "0.3",
    )
    assert code == 1 and json.loads(out)["dataset_drift"] is True


def test_columns_methods_and_min_effect_options(files: dict[str, Path]) -> None:
    code, out, _ = invoke(
        files["ref"],
        files["drifted"],
        "-f",
        "json",
        "--columns",
        "income,region",
        "--method",
        "wasserstein",
        "--method",
        "region=psi",
        "--min-effect",
        "5",
    )
    assert code == 0
    features = json.loads(out)["features"]
    assert [(f["name"], f["method"]) for f in features] == [
        ("income", "wasserstein"),
        ("region", "psi"),
    ]
    assert not any(f["drifted"] for f in features)  # nothing moves 5 sd


def test_csv_gives_the_same_report_as_parquet(files: dict[str, Path], tmp_path: Path) -> None:
    for name in ("ref", "drifted"):
        table = pq.read_table(files[name]).drop_columns(["region", "seen"])
        pacsv.write_csv(table, tmp_path / f"{name}.csv")
    cols = "income,age,tier,active"
    from_csv = json.loads(
        invoke(tmp_path / "ref.csv", tmp_path / "drifted.csv", "-f", "json", "--columns", cols)[1]
    )
    from_parquet = json.loads(
        invoke(files["ref"], files["drifted"], "-f", "json", "--columns", cols)[1]
    )
    assert from_csv == from_parquet


def test_table_output_names_every_feature(files: dict[str, Path]) -> None:
    code, out, _ = invoke(files["ref"], files["drifted"])
    assert code == 0
    for name in ("income", "age", "region", "tier", "active", "seen", "2 of 6 features drifted"):
        assert name in out


def test_html_report_is_self_contained_and_small(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _, err = invoke(files["ref"], files["drifted"], "--format", "html", "--out", out)
    assert code == 0 and "wrote" in err
    html = out.read_text()
    assert html.count("<svg") == 6 and "income" in html and "Dataset drift" not in html
    assert "<script" not in html and "src=" not in html and "<link" not in html
    assert len(html.encode()) < 6 * 8 * 1024  # kilobytes per feature
    # Size does not grow with the data: 25x the rows, about the same report.
    big_ref, big_cur = tmp_path / "big_ref.parquet", tmp_path / "big_cur.parquet"
    pq.write_table(_table(100_000, 1, 0.0), big_ref)
    pq.write_table(_table(100_000, 3, 1.0), big_cur)
    invoke(big_ref, big_cur, "--format", "html", "--out", tmp_path / "big.html")
    assert len((tmp_path / "big.html").read_bytes()) < 1.2 * len(html.encode())


def test_missing_file_is_a_clear_error(files: dict[str, Path], tmp_path: Path) -> None:
    code, _, err = invoke(tmp_path / "nope.parquet", files["ref"])
    assert code == 2 and "nope.parquet" in err and "does not exist" in err


def test_unreadable_file_is_a_clear_error(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"this is not parquet at all")
    code, _, err = invoke(files["ref"], bad)
    assert code == 2 and "bad.parquet" in err and "cannot be read" in err
    code, _, err = invoke(files["ref"], tmp_path / "data.xlsx")
    assert code == 2 and "does not exist" in err
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"x")
    code, _, err = invoke(files["ref"], other)
    assert code == 2 and ".parquet or .csv" in err


def test_mismatched_columns_are_named(files: dict[str, Path], tmp_path: Path) -> None:
    fewer = tmp_path / "fewer.parquet"
    pq.write_table(
        pq.read_table(files["ref"])
        .drop_columns(["tier"])
        .append_column("extra", pa.array(np.zeros(4000))),
        fewer,
    )
    code, _, err = invoke(files["ref"], fewer)
    assert code == 2 and "only in reference: tier" in err and "only in current: extra" in err
    code, _, err = invoke(files["ref"], fewer, "--columns", "income,tier")
    assert code == 2 and "tier" in err and "not in both files" in err
    assert invoke(files["ref"], fewer, "--columns", "income", "-f", "json")[0] == 0


def test_retyped_column_is_a_clear_error(files: dict[str, Path], tmp_path: Path) -> None:
    table = pq.read_table(files["drifted"])
    retyped = tmp_path / "retyped.parquet"
    pq.write_table(table.set_column(0, "income", pa.array(["x"] * 4000)), retyped)
    code, _, err = invoke(files["ref"], retyped)
    assert code == 2 and "income" in err and "numeric" in err


def test_unknown_method_and_format_list_the_known_ones(files: dict[str, Path]) -> None:
    code, _, err = invoke(files["ref"], files["same"], "--method", "magic")
    assert code == 2 and "ks, psi" in err
    code, _, err = invoke(files["ref"], files["same"], "--format", "xml")
    assert code == 2 and "json, table, html" in err


def test_nulls_are_missing_and_an_all_null_column_is_named(tmp_path: Path) -> None:
    ref, cur = tmp_path / "r.parquet", tmp_path / "c.parquet"
    pq.write_table(pa.table({"x": [1.0, None, 2.0, 3.0] * 50, "c": ["a", None] * 100}), ref)
    pq.write_table(pa.table({"x": [1.0, 2.0, None, 3.0] * 50, "c": ["a", "a"] * 100}), cur)
    code, out, _ = invoke(ref, cur, "-f", "json")
    assert code == 0 and not json.loads(out)["features"][0]["drifted"]
    pq.write_table(
        pa.table({"x": pa.array([None] * 200, type=pa.float64()), "c": ["a"] * 200}), cur
    )
    code, _, err = invoke(ref, cur, "-f", "json")
    assert code == 2 and "'x'" in err and "no non-missing values" in err


def test_empty_file_is_a_clear_error(files: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(files["ref"]).slice(0, 0), empty)
    code, _, err = invoke(files["ref"], empty)
    assert code == 2 and "has no rows" in err


def test_uncomparable_column_type_is_named_with_a_way_out(tmp_path: Path) -> None:
    ref, cur = tmp_path / "r.parquet", tmp_path / "c.parquet"
    for path in (ref, cur):
        pq.write_table(pa.table({"x": [1.0, 2.0], "tags": [[1, 2], [3]]}), path)
    code, _, err = invoke(ref, cur)
    assert code == 2 and "'tags'" in err and "--columns" in err
    assert invoke(ref, cur, "--columns", "x", "-f", "json")[0] == 0
