"""Shared fixtures. PostgreSQL tests use a throw-away database per session on the server named by
WATCHKEEPER_TEST_PG; where none answers they skip with the reason, unless WATCHKEEPER_REQUIRE_PG=1
(as in CI), where they fail."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from watchkeeper.store import Store

PG_SERVER = os.environ.get(
    "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_admin_url() -> str:
    return PG_SERVER.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database for this test session."""
    try:
        import psycopg

        admin = psycopg.connect(_pg_admin_url(), autocommit=True, connect_timeout=3)
    except Exception as exc:  # any failure to reach the server means: cannot test here
        if os.environ.get("WATCHKEEPER_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_SERVER}: {exc}")
        pytest.skip(f"no PostgreSQL at {PG_SERVER} ({exc}); set WATCHKEEPER_TEST_PG to run these")
    name = f"wk_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_SERVER.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def new_pg_database(pg_server: str) -> str:
    """Create another empty database next to the session one (for tests that need isolation)."""
    import psycopg

    name = f"wk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server.rsplit('/', 1)[0]}/{name}"


# --- Store fixtures (store/ stage) -------------------------------------------------------------


def new_pg_schema(pg_server: str) -> tuple[str, str]:
    """A new empty schema in the session database and a URL whose search_path is that schema.

    Much faster than CREATE DATABASE per test, and as isolated: every table, sequence, type
    and Alembic's version table live in the schema.
    """
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{pg_server}?options=-csearch_path%3D{schema}"


def drop_pg_schema(pg_server: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(
        pg_server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'watchkeeper.db'}"
        return
    pg = request.getfixturevalue("pg_server")
    schema, url = new_pg_schema(pg)
    try:
        yield url
    finally:
        drop_pg_schema(pg, schema)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to heads once per session; `store` copies it instead of migrating
    every test's database again (the same file Store.open would produce, in a fraction of the
    time)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    Store.open(f"sqlite:///{path}").close()
    with closing(sqlite3.connect(path)) as conn:  # everything into the main file, WAL emptied
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def store(db_url: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """`Store.open(db_url)`: migrated to heads, closed after the test."""
    target = Path(db_url.removeprefix("sqlite:///"))
    if db_url.startswith("sqlite:///") and not target.exists():
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), target)
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()
