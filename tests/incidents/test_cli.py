import json
from pathlib import Path

from typer.testing import CliRunner

from watchkeeper.cli.app import app

runner = CliRunner()


def run(db: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--db", db], env={"WATCHKEEPER_ACTOR": "alice",
                                                          "COLUMNS": "200"})
    return result.exit_code, result.output


def test_incident_round_trip_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/wk.db"
    code, out = run(db, "incident", "open", "credit-risk", "--title", "complaints up",
                    "--tier", "T3")
    assert code == 0, out
    iid = out.split()[1]
    code, out = run(db, "incident", "list", "--json")
    [row] = json.loads(out)
    assert (row["id"], row["tier"], row["state"]) == (iid, "T3", "open")
    assert run(db, "incident", "ack", iid, "-m", "looking")[0] == 0
    code, out = run(db, "incident", "ack", iid)
    assert code == 1 and "from acknowledged to acknowledged" in out
    assert run(db, "incident", "resolve", iid)[0] == 0
    code, out = run(db, "incident", "postmortem", iid, "--set", "summary=upstream outage",
                    "--action", "add a canary check", "--owner", "bob")
    assert code == 0 and "add a canary check" in out and "upstream outage" in out
    code, out = run(db, "incident", "close", iid)
    assert code == 1 and "root_cause" in out and "1 action item" in out
    code, out = run(db, "incident", "show", iid)
    assert code == 0 and "MTTR" in out and "acknowledged" in out
    code, out = run(db, "report", "--json")
    assert json.loads(out)[0]["incidents"] == 1
    html = tmp_path / "evidence.html"
    assert run(db, "incident", "evidence", iid, "--out", str(html))[0] == 0
    assert "complaints up" in html.read_text()


def test_silence_commands_and_their_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/wk.db"
    code, out = run(db, "silence", "add", "model=credit-risk", "--reason", "nightly batch",
                    "--weekly", "sun@02:00-04:00@Europe/Berlin")
    assert code == 0, out
    sid = out.split()[1]
    code, out = run(db, "silence", "list")
    assert sid in out and "Europe/Berlin" in out
    code, out = run(db, "silence", "add", "model", "--reason", "x")
    assert code == 1 and "expected name=value" in out
    code, out = run(db, "silence", "add", "model=x", "--reason", "x", "--weekly", "sunday")
    assert code == 1 and "DAYS@HH:MM-HH:MM" in out
    code, out = run(db, "silence", "add", "model=x", "--reason", "x", "--for", "forever")
    assert code == 1 and "expected e.g. 30m" in out
    assert run(db, "silence", "expire", sid)[0] == 0
    code, out = run(db, "silence", "expire", sid)
    assert code == 1 and "already expired" in out


def test_unknown_incident_and_bad_tier(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/wk.db"
    code, out = run(db, "incident", "show", "inc_missing")
    assert code == 1 and "no incident 'inc_missing'" in out
    code, out = run(db, "incident", "open", "m", "--title", "t", "--tier", "T9")
    assert code == 1 and "expected one of T0, T1, T2, T3" in out
