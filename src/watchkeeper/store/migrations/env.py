"""Alembic environment. Runs on the connection that `Store.upgrade` passes in (the caller owns
the transaction), or on `sqlalchemy.url` when a developer drives Alembic directly."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import watchkeeper.store.tables  # noqa: F401  (registers every stage's tables)
from watchkeeper.store.base import Base
from watchkeeper.store.types import render_item

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("migrate with watchkeeper.store.Store.upgrade, or set sqlalchemy.url")
    from watchkeeper.store.engine import normalise_url

    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        _configure_and_run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run()
