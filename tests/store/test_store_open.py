from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from watchkeeper.core.errors import InputError
from watchkeeper.store import Store, normalise_url
from watchkeeper.store.tables.foundation import Model


def test_open_migrates_a_new_database_to_heads(store: Store) -> None:
    heads = store.head_revisions()
    assert heads
    assert store.current_revisions() == heads
    assert store.dialect in ("sqlite", "postgresql")


def test_session_commits_on_success_and_rolls_back_on_error(store: Store) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with store.session() as s:
        s.add(Model(name="kept", created_at=now))
    with pytest.raises(RuntimeError), store.session() as s:
        s.add(Model(name="lost", created_at=now))
        s.flush()
        raise RuntimeError("boom")
    with store.session(read_only=True) as s:
        assert s.scalars(select(Model.name)).all() == ["kept"]


def test_nul_in_text_is_refused_alike_on_both_databases_naming_the_column(store: Store) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InputError, match="NUL") as caught, store.session() as s:
        s.add(Model(name="a\x00b", created_at=now))
    assert caught.value.field == "name"
    with pytest.raises(InputError, match="NUL"), store.session(read_only=True) as s:
        s.get(Model, "\x00")  # a look-up too: PostgreSQL refuses it as a parameter
    with store.session() as s:  # the connection is still usable
        s.add(Model(name="fine", created_at=now))
    with store.session(read_only=True) as s:
        assert s.scalars(select(Model.name)).all() == ["fine"]


def test_timestamps_come_back_as_the_same_utc_instant(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    with store.session() as s:
        s.add(Model(name="m", created_at=written))
    with store.session() as s:
        got = s.scalar(select(Model.created_at))
    assert got == written
    assert got is not None and got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_reopening_an_upgraded_database_keeps_data(db_url: str) -> None:
    with Store.open(db_url) as first, first.session() as s:
        s.add(Model(name="m", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    with Store.open(db_url) as again, again.session() as s:
        assert s.scalars(select(Model.name)).all() == ["m"]


def test_sqlite_settings_survive_a_kill_and_wait_for_locks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'w.db'}"
    with Store.open(url) as store:
        assert store.dialect == "sqlite"
        assert (tmp_path / "missing" / "dir" / "w.db").exists()
        with store.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "synchronous": 1,
    }


def test_in_memory_sqlite_shares_one_database_across_sessions() -> None:
    with Store.open("sqlite://") as store:
        with store.session() as s:
            s.add(Model(name="m", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        with store.session() as s:
            assert s.scalar(select(Model.name)) == "m"


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg"),
        ("postgres://u@h/d", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_postgres_urls_are_served_by_psycopg3(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


@pytest.mark.parametrize("bad", ["not a url", "mysql://u@h/d", ""])
def test_unsupported_urls_name_what_is_expected(bad: str) -> None:
    with pytest.raises(InputError) as err:
        normalise_url(bad)
    assert "expected" in str(err.value) and err.value.field == "db"


def test_read_only_session_does_not_block_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    with Store.open(url) as a, Store.open(url, migrate=False) as b, a.session(read_only=True) as r:
        r.execute(text("SELECT count(*) FROM models")).scalar()
        with b.session() as w:  # would wait 30 s if the reader held the write lock
            w.add(Model(name="m", created_at=datetime(2026, 1, 1, tzinfo=UTC)))


def test_sqlite_writers_of_one_process_take_turns(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from watchkeeper.core.errors import ConflictError
    from watchkeeper.store import engine

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with Store.open(f"sqlite:///{tmp_path / 't.db'}") as store:
        def write(k: int) -> None:
            for i in range(20):
                with store.session() as s:
                    s.add(Model(name=f"m{k}-{i}", created_at=now))

        threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with store.session(read_only=True) as s:
            assert len(s.scalars(select(Model.name)).all()) == 120
        # A writer that never finishes makes the next one give up with a reason, not hang.
        monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
        holding, done = threading.Event(), threading.Event()

        def hold() -> None:
            with store.session():
                holding.set()
                done.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(10)
        try:
            with pytest.raises(ConflictError, match="busy"), store.session() as s:
                s.add(Model(name="late", created_at=now))
        finally:
            done.set()
            holder.join()


def test_a_database_from_a_newer_release_is_refused_with_advice(db_url: str) -> None:
    from watchkeeper.core.errors import ConflictError

    with Store.open(db_url) as store, store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE alembic_version SET version_num = '0999_future' "
                "WHERE version_num = (SELECT min(version_num) FROM alembic_version)"
            )
        )
    with pytest.raises(ConflictError, match=r"0999_future.*newer release"):
        Store.open(db_url)
