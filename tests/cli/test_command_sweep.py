"""Every command with missing, empty, binary, hostile and huge input: it ends with exit 1 or 2
and a message naming what was wrong, never with a traceback, and keeps what it accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchkeeper.cli.app import app
from watchkeeper.policy.loader import MAX_POLICY_BYTES

HOSTILE_IDS = ["'; DROP TABLE incidents; --", "x" * 10_000, "../../etc/passwd", "a\x00b",
               "<script>alert(1)</script>"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    root = tmp_path_factory.mktemp("sweep")
    result = CliRunner().invoke(app, ["init", str(root / "wk"), "--rows", "300"])
    assert result.exit_code == 0, result.output
    files: dict[str, Path | str] = {
        "policy": root / "wk" / "watchkeeper.yaml",
        "missing": root / "no-such-file.parquet",
        "empty": root / "empty.parquet",
        "binary": root / "binary.parquet",
        "folder": root / "a-folder",
        "laughs": root / "laughs.yaml",
        "huge": root / "huge.yaml",
        "text": root / "notes.csv",
    }
    Path(files["empty"]).write_bytes(b"")
    Path(files["binary"]).write_bytes(os.urandom(4096) + b"\x00" * 100)
    Path(files["folder"]).mkdir()
    # The "billion laughs": nine levels of nine aliases, 387 million strings once expanded.
    lines = ['a0: &a0 "lol"'] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    Path(files["laughs"]).write_text("\n".join(lines) + "\nversion: *a9\nmodels: *a9\n")
    with Path(files["huge"]).open("wb") as fh:  # one byte over the limit, without the work
        fh.truncate(MAX_POLICY_BYTES + 1)
    Path(files["text"]).write_text("event_id,timestamp\n1,yesterday\n\x00,\n")
    return files


@pytest.fixture
def place(files: dict[str, Path | str], db_url: str) -> dict[str, Path | str]:
    return {**files, "db": db_url}


def cases(f: dict[str, Path | str]) -> list[list[str]]:
    """Commands that must refuse (exit 1 or 2)."""
    db, policy = ["--db", str(f["db"])], ["--policy", str(f["policy"])]
    bad_files = [str(f[k]) for k in ("missing", "empty", "binary", "folder", "text")]
    out: list[list[str]] = []
    for bad in [*bad_files, str(f["laughs"]), str(f["huge"])]:
        out += [["validate", bad], ["policy", "apply", bad, *db], ["drill", "drift", "-p", bad],
                ["db", "housekeep", "--policy", bad, *db]]
    for bad in bad_files:
        out += [["ingest", "credit-risk", bad, *db, *policy],
                ["ingest", "credit-risk", bad, "--labels", *db, *policy],
                ["backtest", "--signals", bad, "--incidents", bad],
                ["calibrate", "--signals", bad, "--incidents", bad]]
    for bad in ("missing", "binary", "folder"):
        out += [["drift", str(f[bad]), str(f[bad])],
                ["audit", "verify", "--against", str(f[bad]), *db]]
    for hostile in HOSTILE_IDS:
        out += [["incident", "show", hostile, *db],
                ["incident", "ack", hostile, *db],
                ["incident", "comment", hostile, hostile, *db],
                ["incident", "postmortem", hostile, "--set", f"summary={hostile}", *db],
                ["silence", "expire", hostile, *db],
                ["silence", "add", hostile, "--reason", hostile, *db],
                ["token", "create", "--name", hostile, "--role", hostile, *db],
                ["token", "revoke", hostile, *db],
                ["drill", hostile, *policy],
                ["ingest", hostile, str(f["text"]), *db, *policy]]
    out += [["report", "--since", "not-a-date", *db], ["report", "--since", "2026-02-30", *db],
            ["drill", "drift", "--ack-after", "soon", *policy],
            ["drill", "drift", "--start", "yesterday", *policy],
            ["drill", "drift", "--tier", "T9", *policy],
            ["drill", "drift", "--horizon", "-4h", *policy],
            ["silence", "add", "model=credit-risk", "--reason", "r", "--for", "forever", *db],
            ["silence", "add", "model=credit-risk", "--reason", "r", "--weekly", "Funday@25:00",
             *db],
            ["incident", "open", "credit-risk", "--title", "t", "--tier", "T7", *db],
            ["incident", "open", "m" * 10_000, "--title", "t", *db],
            ["audit", "verify", "--db", "nosuchdb://x"],
            ["audit", "list", "--db", "postgresql://nobody@127.0.0.1:1/none"],
            ["drift", str(f["missing"]), str(f["missing"]), "--format", "pdf"],
            ["init", str(f["binary"])]]
    return out


def test_every_command_refuses_bad_input_with_a_message(place: dict[str, Path | str]) -> None:
    runner = CliRunner()
    wrong = []
    for args in cases(place):
        result = runner.invoke(app, args)
        shown = " ".join(repr(a[:30]) for a in args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            wrong.append(f"{shown}: raised {type(result.exception).__name__}")
        elif result.exit_code not in (1, 2) or "Traceback" in result.output:
            wrong.append(f"{shown}: exit {result.exit_code}: {result.output[-300:]}")
        elif not result.output.strip():
            wrong.append(f"{shown}: said nothing")
    assert not wrong, "\n".join(wrong)


def test_hostile_text_is_kept_as_data_and_refusals_keep_what_was_there(
        place: dict[str, Path | str]) -> None:
    runner = CliRunner()
    db = ["--db", str(place["db"])]
    opened = runner.invoke(app, ["incident", "open", "credit-risk", "--title", "kept", *db])
    assert opened.exit_code == 0, opened.output
    for hostile in HOSTILE_IDS:
        if "\x00" in hostile or len(hostile) > 200:
            continue
        r = runner.invoke(app, ["incident", "open", hostile, "--title", hostile, *db])
        assert r.exit_code == 0 and hostile in r.output, r.output
    for args in cases(place):
        runner.invoke(app, args)
    listed = runner.invoke(app, ["incident", "list", *db])
    assert "kept" in listed.output and "DROP TABLE" in listed.output
    verified = runner.invoke(app, ["audit", "verify", *db])
    assert verified.exit_code == 0, verified.output
