"""Opening a database: engine settings per dialect, sessions, and migrations to `heads`."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, String, create_engine, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from watchkeeper.core.errors import ConflictError, InputError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Key of the PostgreSQL advisory lock that serialises concurrent `Store.open(migrate=True)`.
_MIGRATION_LOCK_KEY = 0x5741_5443_4B45_4550 & 0x7FFF_FFFF_FFFF_FFFF  # "WATCKEEP"
_READ_ONLY = "watchkeeper_read_only"

Dialect = Literal["sqlite", "postgresql"]


def normalise_url(url: str) -> URL:
    """Parse a database URL; plain `postgresql://` / `postgres://` are served by psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"not a database URL: {url!r}",
            field="db",
            expected="sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME",
        ) from None
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            f"unsupported database {parsed.get_backend_name()!r} in {url!r}",
            field="db",
            expected="a sqlite:// or postgresql:// URL",
        )
    return parsed


def _sqlite_engine(url: URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if in_memory:  # one connection, or every checkout would see a different empty database
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is deferred and skips DDL).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL loses nothing on a process kill (only on power loss).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
        # another process committed in between (busy_timeout does not help). Taking the write
        # lock at BEGIN makes writers queue instead; read-only sessions stay deferred.
        mode = "DEFERRED" if conn.get_execution_options().get(_READ_ONLY) else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _refuse_nul(
    _conn: Connection, _cursor: Any, _statement: str, parameters: Any, context: Any,
    _executemany: bool,
) -> None:
    """PostgreSQL text cannot hold NUL (the driver fails the whole statement with an error no
    caller can act on); refuse it on SQLite too, naming the column, so both behave alike."""
    for name, value in _flat(parameters):
        if isinstance(value, str) and "\x00" in value:
            if isinstance(name, int):  # positional: the compiled statement knows the names
                names = getattr(getattr(context, "compiled", None), "positiontup", None) or []
                name = names[name % len(names)] if names else f"parameter {name + 1}"
            raise InputError("a text value contains a NUL (\\x00) character", field=str(name),
                             expected="text without NUL characters")


def _flat(parameters: Any) -> Iterator[tuple[str | int, Any]]:
    """(name or position, value) of a statement's parameters: one row or many, as dicts or
    sequences (insertmanyvalues batches arrive as one flat sequence of every row's values)."""
    if isinstance(parameters, dict):
        yield from parameters.items()
    elif isinstance(parameters, list | tuple):
        for i, item in enumerate(parameters):
            if isinstance(item, dict | list | tuple):
                yield from _flat(item)
            else:
                yield i, item


def _refuse_overlong(session: Session, _context: Any, _instances: Any) -> None:
    """PostgreSQL refuses text longer than a VARCHAR(n) column (SQLite keeps it): refuse it on
    both before anything is written, naming the column and its limit."""
    for obj in (*session.new, *session.dirty):
        for key, length, name in _bounded(type(obj)):
            value = getattr(obj, key, None)
            if isinstance(value, str) and len(value) > length:
                raise InputError(f"{len(value):,} characters", field=name,
                                 expected=f"at most {length:,} characters")


@cache
def _bounded(cls: type) -> tuple[tuple[str, int, str], ...]:
    """(attribute, length, table.column) of a mapped class's length-bounded text columns."""
    mapper = sa_inspect(cls)
    return tuple(
        (mapper.get_property_by_column(col).key, col.type.length, f"{col.table.name}.{col.name}")
        for col in mapper.columns
        if isinstance(col.type, String) and col.type.length
    )


def _postgres_engine(url: URL) -> Engine:
    return create_engine(url, pool_pre_ping=True)


def alembic_config(
    connection: Connection | None = None, *, extra_versions: Path | None = None
) -> Config:
    """Alembic configured in code (no alembic.ini); pass the connection to migrate on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    locations = [str(MIGRATIONS_DIR / "versions")]
    if extra_versions is not None:
        locations.append(str(extra_versions))
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def new_revision(message: str, *, stage: str, rev_id: str, version_dir: Path | None = None) -> Path:
    """Autogenerate the next migration of `stage` from the tables' metadata; returns its file.

    The comparison runs against a scratch SQLite database upgraded to `heads`, so the script
    holds only what the metadata has and the migrations do not yet. A stage's first revision
    starts its own branch from 0001_foundation. Read the script before committing it.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        store = Store.open(f"sqlite:///{scratch}/scratch.db")
        try:
            with store.engine.begin() as conn:
                cfg = alembic_config(conn, extra_versions=version_dir)
                labels = {
                    label
                    for rev in ScriptDirectory.from_config(cfg).walk_revisions()
                    for label in rev.branch_labels
                }
                branch: dict[str, Any] = (
                    {"head": f"{stage}@head"}
                    if stage in labels
                    else {"head": "0001_foundation", "splice": True, "branch_label": stage}
                )
                script = command.revision(
                    cfg,
                    message,
                    autogenerate=True,
                    rev_id=rev_id,
                    version_path=str(version_dir) if version_dir else None,
                    **branch,
                )
        finally:
            store.close()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


class Store:
    """A database: engine, transactional sessions and migrations."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            bind=engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )
        for factory in (self._sessions, self._read_sessions):
            event.listen(factory, "before_flush", _refuse_overlong)
        # SQLite has one writer. Threads of this process queue for it here, woken the moment it
        # is free; left to SQLite's busy handler they would poll with growing sleeps, and under
        # four concurrent ingest requests the unlucky one waited over a second (p99 1.2 s).
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Open the database at `url`, creating it (SQLite) and migrating it to `heads`."""
        parsed = normalise_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = _postgres_engine(parsed)
        event.listen(engine, "before_cursor_execute", _refuse_nul)
        store = cls(engine, parsed.render_as_string(hide_password=False))
        if migrate:
            try:
                store.upgrade()
            except Exception:
                store.close()
                raise
        return store

    @property
    def dialect(self) -> Dialect:
        name = self.engine.dialect.name
        assert name in ("sqlite", "postgresql")
        return name  # type: ignore[return-value]

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back on an exception.

        `read_only=True` only matters on SQLite: the transaction does not take the write lock,
        so long reads (reports, dashboards) do not hold up writers.
        """
        factory = self._read_sessions if read_only else self._sessions
        with self._write_turn(read_only), factory() as session, session.begin():
            yield session

    @contextmanager
    def _write_turn(self, read_only: bool) -> Iterator[None]:
        if read_only or self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise ConflictError(f"the database stayed busy for {SQLITE_BUSY_TIMEOUT_MS // 1000} s "
                                "(another writer in this process); try again")
        try:
            yield
        finally:
            self._writer.release()

    def upgrade(self, target: str = "heads") -> None:
        """Run Alembic migrations up to `target` in one transaction."""
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two processes opening a new database at once must not both create tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            cfg = alembic_config(conn)
            known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
            unknown = set(MigrationContext.configure(conn).get_current_heads()) - known
            if unknown:
                raise ConflictError(
                    f"the database {self.safe_url} is at revision "
                    f"{', '.join(sorted(unknown))}, which this release of watchkeeper does not "
                    "know: a newer release upgraded it. Upgrade watchkeeper "
                    "(pip install -U watchkeeper) rather than the database."
                )
            command.upgrade(cfg, target)

    def current_revisions(self) -> set[str]:
        """The revisions this database is at (one per branch; empty for a new database)."""
        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())

    def head_revisions(self) -> set[str]:
        """The revisions this release's migrations end at."""
        return set(ScriptDirectory.from_config(alembic_config()).get_heads())

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self.safe_url!r})"
