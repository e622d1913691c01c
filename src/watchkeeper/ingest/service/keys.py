"""Bulk writes and look-ups of the idempotency indexes (event_keys, label_keys).

Rows go in with one executemany on SQLite and one COPY into a temporary table on PostgreSQL,
then `INSERT ... ON CONFLICT DO NOTHING`: the database decides which ids are new, so two
processes sending the same event at once cannot both accept it. The ORM is bypassed here on
purpose: a million ORM objects per batch would cost more than the rest of ingestion together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat

import numpy as np
from sqlalchemy.orm import Session

TABLES = ("event_keys", "label_keys")
_CHUNK = 500  # ids per IN (...) look-up; well under SQLite's bound-parameter limit


def _dbapi(session: Session):  # type: ignore[no-untyped-def]
    return session.connection().connection.driver_connection


def insert_keys(
    session: Session,
    table: str,
    model: str,
    batch_id: str,
    ids: Sequence[str],
    ts_us: np.ndarray,
    windows: np.ndarray,
) -> np.ndarray:
    """Insert keys not yet present; returns a boolean mask of the ids that were new."""
    assert table in TABLES
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=bool)
    conn = _dbapi(session)
    if session.get_bind().dialect.name == "sqlite":
        cur = conn.cursor()
        # executemany binds in C; measured on 1M keys it beat one INSERT ... SELECT over a
        # json_each array by a third (the B-tree insert dominates either way).
        cur.executemany(
            f"INSERT OR IGNORE INTO {table} (model, event_id, ts_us, window_key, batch_id) "
            "VALUES (?, ?, ?, ?, ?)",
            zip(
                repeat(model), ids, ts_us.tolist(), windows.tolist(), repeat(batch_id), strict=False
            ),
        )
        inserted = cur.rowcount
    else:
        with conn.cursor() as cur:
            _copy_to_temp(cur, ids, ts_us, windows)
            cur.execute(
                f"INSERT INTO {table} (model, event_id, ts_us, window_key, batch_id) "
                "SELECT %s, event_id, ts_us, window_key, %s FROM wk_keys "
                "ON CONFLICT DO NOTHING",
                (model, batch_id),
            )
            inserted = cur.rowcount
    if inserted == n:
        return np.ones(n, dtype=bool)
    if inserted == 0:
        return np.zeros(n, dtype=bool)
    # Some new, some not: ask which ones this batch owns now.
    mine = {
        eid for eid, owner in lookup(session, table, model, ids, "batch_id") if owner == batch_id
    }
    return np.fromiter((i in mine for i in ids), dtype=bool, count=n)


def update_windows(
    session: Session, table: str, model: str, ids: Sequence[str], windows: np.ndarray
) -> None:
    assert table in TABLES
    cur = _dbapi(session).cursor()
    mark = "?" if session.get_bind().dialect.name == "sqlite" else "%s"
    cur.executemany(
        f"UPDATE {table} SET window_key = {mark} WHERE model = {mark} AND event_id = {mark}",
        list(zip(windows.tolist(), repeat(model), ids, strict=False)),
    )


def lookup(
    session: Session, table: str, model: str, ids: Sequence[str], column: str
) -> Iterator[tuple[str, object]]:
    """(event_id, column value) for each id that is in the index."""
    assert table in TABLES and column in ("batch_id", "ts_us", "window_key")
    conn = _dbapi(session)
    sqlite = session.get_bind().dialect.name == "sqlite"
    cur = conn.cursor()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        if sqlite:
            marks = ",".join("?" * len(chunk))
            cur.execute(
                f"SELECT event_id, {column} FROM {table} WHERE model = ? AND event_id IN ({marks})",
                [model, *chunk],
            )
        else:
            cur.execute(
                f"SELECT event_id, {column} FROM {table} WHERE model = %s AND event_id = ANY(%s)",
                (model, chunk),
            )
        yield from cur.fetchall()


def lookup_events(session: Session, model: str, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """event_id -> (ts_us, window_key) of accepted prediction events."""
    conn = _dbapi(session)
    sqlite = session.get_bind().dialect.name == "sqlite"
    out: dict[str, tuple[int, int]] = {}
    cur = conn.cursor()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        if sqlite:
            marks = ",".join("?" * len(chunk))
            cur.execute(
                "SELECT event_id, ts_us, window_key FROM event_keys "
                f"WHERE model = ? AND event_id IN ({marks})",
                [model, *chunk],
            )
        else:
            cur.execute(
                "SELECT event_id, ts_us, window_key FROM event_keys "
                "WHERE model = %s AND event_id = ANY(%s)",
                (model, chunk),
            )
        for eid, ts, win in cur.fetchall():
            out[eid] = (ts, win)
    return out


def _copy_to_temp(cur, ids: Sequence[str], ts_us: np.ndarray, windows: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS wk_keys "
        "(event_id text, ts_us bigint, window_key bigint) ON COMMIT DELETE ROWS"
    )
    cur.execute("TRUNCATE wk_keys")
    with cur.copy("COPY wk_keys (event_id, ts_us, window_key) FROM STDIN") as copy:
        for row in zip(ids, ts_us.tolist(), windows.tolist(), strict=True):
            copy.write_row(row)
