from __future__ import annotations

from pathlib import Path

from alembic import command
from typer.testing import CliRunner

from watchkeeper.cli.app import app
from watchkeeper.store import Store
from watchkeeper.store.engine import alembic_config

runner = CliRunner()


def test_upgrade_creates_then_reports_up_to_date(db_url: str) -> None:
    first = runner.invoke(app, ["db", "upgrade", "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "upgraded to" in first.stdout
    again = runner.invoke(app, ["db", "upgrade", "--db", db_url])
    assert again.exit_code == 0 and "already up to date" in again.stdout
    current = runner.invoke(app, ["db", "current", "--db", db_url, "--check"])
    assert current.exit_code == 0 and "up to date" in current.stdout
    with Store.open(db_url, migrate=False) as store:
        assert store.current_revisions() == store.head_revisions()
        for rev in store.head_revisions():
            assert rev in current.stdout


def test_current_names_what_an_old_database_lacks(db_url: str) -> None:
    with Store.open(db_url, migrate=False) as store, store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001_foundation")
        heads = store.head_revisions()
    result = runner.invoke(app, ["db", "current", "--db", db_url, "--check"])
    if heads == {"0001_foundation"}:
        assert result.exit_code == 0
        return
    assert result.exit_code == 1
    assert "behind this release" in result.stdout and "0001_foundation" in result.stdout


def test_read_only_commands_refuse_a_missing_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    result = runner.invoke(app, ["db", "current", "--db", url])
    assert result.exit_code == 2 and "no database at" in result.output
    assert not (tmp_path / "absent.db").exists()


def test_current_refuses_an_empty_database(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    result = runner.invoke(app, ["db", "current", "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 2 and "not a watchkeeper database" in result.output


def test_bad_urls_are_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--db", "mysql://u@h/d"])
    assert result.exit_code == 2 and "expected a sqlite:// or postgresql:// URL" in result.output


def test_db_url_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "env.db"
    monkeypatch.setenv("WATCHKEEPER_DB", f"sqlite:///{path}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert path.exists()
