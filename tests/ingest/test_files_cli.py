"""`watchkeeper ingest` on real files, good and malformed, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from watchkeeper.cli.app import app

from .factories import events, write_policy


@pytest.fixture
def run(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    policy = write_policy(tmp_path, retention="3650d")

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            app,
            [
                "ingest",
                "credit",
                *args,
                "--db",
                db_url,
                "--policy",
                str(policy),
                "--data-dir",
                str(tmp_path / "data"),
            ],
        )

    return invoke


def test_parquet_twice_says_nothing_new(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "events.parquet"
    pq.write_table(events(1000), path)
    first = run(str(path), "--chunk-rows", "300")
    assert first.exit_code == 0, first.output
    assert "1,000 events: 1000 new, 0 duplicates" in first.stdout
    second = run(str(path))
    assert second.exit_code == 0
    assert "1,000 events: 0 new, 1000 duplicates" in second.stdout


def test_csv_with_bad_values_quarantines_rows_and_exits_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,timestamp,age,income,region,member,prediction,probability\n"
        "c1,2026-03-01T00:00:00Z,30,100.5,north,true,1,0.9\n"
        "c2,2026-03-01 00:00:01,31,,south,false,0,0.1\n"
        "c3,2026-03-01T00:00:02+01:00,32,7,atlantis,1,1,0.8\n"
        "c4,2026-03-01,33,8,east,no,0,0.3\n"
        "c5,1772323200,34,9,west,,1,0.6\n"
    )
    result = run(str(path))
    assert result.exit_code == 1, result.output
    assert "5 events: 4 new, 0 duplicates, 1 quarantined" in result.stdout
    assert (
        "row 3, field 'region': expected one of east, north, south, west, got 'atlantis'"
        in result.stdout
    )


def test_jsonl_with_nested_features(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "events.jsonl"
    rows = [
        {
            "event_id": f"j{i}",
            "timestamp": "2026-03-01T00:00:00Z",
            "features": {"age": 30 + i, "income": 10.0, "region": "east", "member": False},
        }
        for i in range(3)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert "3 events: 3 new" in result.stdout


def test_labels_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ev = tmp_path / "events.parquet"
    pq.write_table(events(10), ev)
    assert run(str(ev)).exit_code == 0
    lab = tmp_path / "labels.csv"
    lab.write_text("event_id,label\n" + "".join(f"e{i},{i % 2}\n" for i in range(10)))
    result = run(str(lab), "--labels")
    assert result.exit_code == 0, result.output
    assert "10 labels: 10 new, 0 duplicates" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file {path}: the file is empty"),
        ("empty.parquet", b"", "file {path}: the file is empty"),
        ("truncated.parquet", None, "file {path}: cannot read parquet"),
        ("ragged.csv", b"event_id,age\n1,30\n2,31,extra,columns\n", "file {path}: cannot read csv"),
        ("no_id.csv", b"age,income\n30,1\n", "field 'event_id': missing column 'event_id'"),
        ("garbage.jsonl", b"{not json\n", "file {path}: cannot read jsonl"),
        ("events.xlsx", b"PK..", "unknown file type '.xlsx'"),
    ],
)
def test_malformed_files_fail_naming_the_file(
    run,
    tmp_path: Path,
    name: str,  # type: ignore[no-untyped-def]
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is None:
        pq.write_table(events(100), path)
        path.write_bytes(path.read_bytes()[:-200])
    else:
        path.write_bytes(content)
    result = run(str(path))
    assert result.exit_code == 2, result.output
    assert message.format(path=path) in " ".join(result.stderr.split()), result.stderr


def test_header_only_csv_and_one_row(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header = tmp_path / "header.csv"
    header.write_text("event_id,age,income\n")
    result = run(str(header))
    assert result.exit_code == 0 and "0 events: 0 new, 0 duplicates" in result.stdout
    one = tmp_path / "one.csv"
    one.write_text("event_id,age,income\nonly,44,1.5\n")
    result = run(str(one))
    assert result.exit_code == 0 and "1 events: 1 new" in result.stdout


def test_hostile_strings_are_kept_apart_and_shown_truncated(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hostile.jsonl"
    rows = [
        {"event_id": "'; DROP TABLE event_keys; --", "age": 30, "region": "north"},
        {"event_id": "tab\tnew\nline\\back", "age": 31, "region": "south"},
        {"event_id": "ünïcødé-🚀", "age": 32, "region": "east"},
        {"event_id": "x" * 500, "age": 33, "region": "west"},
        {"event_id": "big", "age": 34, "region": "A" * 100_000},
        {"event_id": "nul\u0000byte", "age": 35, "region": "north"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = run(str(path))
    assert result.exit_code == 1, result.output
    assert "6 events: 3 new, 0 duplicates, 3 quarantined" in result.stdout
    assert "expected an event id without NUL characters" in result.stdout
    assert "expected at most 200 characters" in result.stdout
    assert "AAAA…" in result.stdout and "A" * 200 not in result.stdout
    again = run(str(path))
    assert "0 new, 3 duplicates, 3 quarantined" in again.stdout
