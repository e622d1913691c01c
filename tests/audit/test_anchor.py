"""An export kept elsewhere anchors the chain against a rewrite that includes the head."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from watchkeeper import audit
from watchkeeper.audit import AuditAction, entry_hash
from watchkeeper.cli.app import app
from watchkeeper.core.errors import InputError
from watchkeeper.store import Store

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _fill(store: Store, n: int) -> None:
    with store.session() as s:
        for i in range(1, n + 1):
            audit.append(
                s,
                actor="a",
                action=AuditAction.GATE,
                subject="m",
                details={"i": i},
                at=T0 + timedelta(minutes=i),
            )


def _export(store: Store) -> list[str]:
    buf = io.StringIO()
    with store.session() as s:
        audit.export(s, buf)
    return buf.getvalue().splitlines(keepends=True)


def _rewrite_from(store: Store, start: int) -> None:
    """What an attacker with SQL access and this source code can do: recompute every hash from
    `start` on and move the head along, so the chain is internally consistent again."""
    with store.session() as s:
        entries = [e for e in audit.iter_entries(s) if e.seq >= start - 1]
    prev = entries[0].hash if start > 1 else "0" * 64
    with store.engine.begin() as conn:
        for e in entries[1:] if start > 1 else entries:
            details = {**e.details, "i": -1} if e.seq == start else e.details
            digest = entry_hash(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                action=e.action,
                subject=e.subject,
                details=details,
                prev_hash=prev,
            )
            conn.execute(
                text("UPDATE audit_log SET details = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"d": json.dumps(details), "p": prev, "h": digest, "s": e.seq},
            )
            prev = digest
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_a_rewrite_including_the_head_passes_verify_but_not_the_export(store: Store) -> None:
    _fill(store, 6)
    kept = _export(store)
    _rewrite_from(store, 3)
    with store.session() as s:
        assert audit.verify(s).ok  # undetectable from inside the database alone
        result = audit.verify_against_export(s, kept)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert result.reason.startswith("altered")


def test_a_cut_back_chain_is_caught_by_the_export(store: Store) -> None:
    _fill(store, 5)
    kept = _export(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > 3"))
        last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar()
        conn.execute(text("UPDATE audit_head SET seq = 3, hash = :h"), {"h": last})
    with store.session() as s:
        assert audit.verify(s).ok
        result = audit.verify_against_export(s, kept)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (4, "deleted")


def test_an_older_export_matches_a_grown_chain(store: Store) -> None:
    _fill(store, 3)
    kept = _export(store)
    _fill(store, 2)
    with store.session() as s:
        result = audit.verify_against_export(s, kept)
    assert result.ok and result.checked == 5 and "3 exported entries match" in result.reason


@pytest.mark.parametrize(
    ("mangle", "row"),
    [
        (lambda lines: [*lines[:1], "{not json\n", *lines[2:]], 2),
        (lambda lines: [*lines[:2], lines[2].replace('"i": 3', '"i": 33')], 3),
        (lambda lines: [lines[0], lines[2]], 2),
    ],
)
def test_a_bad_export_file_is_refused_with_its_line(store: Store, mangle, row: int) -> None:  # type: ignore[no-untyped-def]
    _fill(store, 3)
    lines = mangle(_export(store))
    with store.session() as s, pytest.raises(InputError) as err:
        audit.verify_against_export(s, lines, source="kept.jsonl")
    assert err.value.file == "kept.jsonl" and err.value.row == row


def test_cli_verify_against_an_export(store: Store, db_url: str, tmp_path: Path) -> None:
    _fill(store, 4)
    kept = tmp_path / "kept.jsonl"
    runner = CliRunner()
    assert (
        runner.invoke(app, ["audit", "export", "--db", db_url, "--out", str(kept)]).exit_code == 0
    )
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url, "--against", str(kept)])
    assert ok.exit_code == 0 and "4 exported entries match" in ok.stdout
    _rewrite_from(store, 2)
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url, "--against", str(kept)])
    assert bad.exit_code == 1 and "at entry 2: altered" in bad.stdout
    missing = runner.invoke(
        app, ["audit", "verify", "--db", db_url, "--against", str(tmp_path / "nope.jsonl")]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output
