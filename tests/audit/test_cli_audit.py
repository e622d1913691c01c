from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from watchkeeper import audit
from watchkeeper.audit import AuditAction
from watchkeeper.cli.app import app
from watchkeeper.store import Store

runner = CliRunner()
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _fill(store: Store, n: int) -> None:
    with store.session() as s:
        for i in range(1, n + 1):
            audit.append(
                s,
                actor="ingest" if i % 2 else "alice",
                action=AuditAction.INGEST_BATCH if i % 2 else AuditAction.POLICY_APPLIED,
                subject=f"m{i % 2}",
                details={"i": i},
                at=T0 + timedelta(minutes=i),
            )


def test_verify_exits_0_when_intact_and_1_naming_the_first_broken_entry(
    store: Store, db_url: str
) -> None:
    _fill(store, 5)
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[0] == "5 entries, chain intact"
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert bad.exit_code == 1
    assert "at entry 2: deleted" in bad.stdout


def test_verify_on_a_missing_database_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and "no database at" in result.output


def test_list_filters_and_shows_a_table(store: Store, db_url: str) -> None:
    _fill(store, 5)
    table = runner.invoke(app, ["audit", "list", "--db", db_url, "--subject", "m1"])
    assert table.exit_code == 0, table.output
    assert "ingest.batch" in table.stdout and "policy.applied" not in table.stdout
    rows = runner.invoke(
        app,
        ["audit", "list", "--db", db_url, "--json", "--action", "policy.applied", "--limit", "1"],
    )
    assert [json.loads(line)["seq"] for line in rows.stdout.splitlines()] == [4]
    since = runner.invoke(
        app,
        [
            "audit",
            "list",
            "--db",
            db_url,
            "--json",
            "--since",
            (T0 + timedelta(minutes=4)).isoformat(),
        ],
    )
    assert [json.loads(line)["seq"] for line in since.stdout.splitlines()] == [5, 4]


def test_list_names_bad_filters(store: Store, db_url: str) -> None:
    bad_action = runner.invoke(app, ["audit", "list", "--db", db_url, "--action", "nope"])
    assert bad_action.exit_code == 2 and "expected one of" in bad_action.output
    bad_time = runner.invoke(app, ["audit", "list", "--db", db_url, "--since", "yesterday"])
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output


def test_export_writes_every_entry_and_since_a_seq(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    _fill(store, 4)
    out = tmp_path / "audit.jsonl"
    result = runner.invoke(app, ["audit", "export", "--db", db_url, "--out", str(out)])
    assert result.exit_code == 0 and "exported 4 entries" in result.stdout
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4]
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    runner.invoke(app, ["audit", "export", "--db", db_url, "--out", str(out), "--since", "3"])
    assert [json.loads(x)["seq"] for x in out.read_text().splitlines()] == [4]


def test_export_to_an_unwritable_place_says_so(store: Store, db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "a.jsonl"
    result = runner.invoke(app, ["audit", "export", "--db", db_url, "--out", str(target)])
    assert result.exit_code == 2 and "cannot write" in result.output
