"""Tampering done the way an attacker with SQL access would do it; verify must name the first
broken entry and say why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from watchkeeper import audit
from watchkeeper.audit import AuditAction, entry_hash
from watchkeeper.store import Store

T0 = datetime(2026, 5, 1, tzinfo=UTC)
N = 6


@pytest.fixture
def chain(store: Store) -> list[audit.AuditEntry]:
    with store.session() as s:
        return [
            audit.append(
                s,
                actor="ingest",
                action=AuditAction.INGEST_BATCH,
                subject="credit",
                details={"batch": i, "rows": 100},
                at=T0 + timedelta(minutes=i),
            )
            for i in range(1, N + 1)
        ]


def _sql(store: Store, *statements: tuple[str, dict]) -> None:
    with store.engine.begin() as conn:
        for sql, params in statements:
            conn.execute(text(sql), params)


def _verify(store: Store) -> audit.VerifyResult:
    with store.session(read_only=True) as s:
        return audit.verify(s)


def _forged_row(seq: int, prev_hash: str) -> dict:
    at = T0 + timedelta(hours=9)
    row = {
        "seq": seq,
        "at": at,
        "actor": "mallory",
        "action": "mitigation.sign_off",
        "subject": "credit",
        "details": {},
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(**row)
    row["details"] = "{}"
    row["at"] = at.replace(tzinfo=None)
    return row


INSERT = (
    "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) "
    "VALUES (:seq, :at, :actor, :action, :subject, :details, :prev_hash, :hash)"
)


def test_intact_chain_verifies(store: Store, chain: list) -> None:
    result = _verify(store)
    assert (result.ok, result.checked, result.first_bad_seq) == (True, N, None)
    assert str(result) == f"{N} entries, chain intact"
    assert result.head_hash == chain[-1].hash


def test_empty_chain_verifies(store: Store) -> None:
    assert _verify(store).ok and _verify(store).checked == 0


def test_updated_row_is_named_as_altered(store: Store, chain: list) -> None:
    _sql(
        store, ("UPDATE audit_log SET details = :d WHERE seq = 3", {"d": '{"batch": 3, "rows": 1}'})
    )
    result = _verify(store)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert result.reason.startswith("altered")


def test_updated_actor_is_named_as_altered(store: Store, chain: list) -> None:
    _sql(store, ("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1", {}))
    result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (1, "altered")


def test_row_rewritten_with_a_recomputed_hash_is_named(store: Store, chain: list) -> None:
    e = chain[1]
    forged = entry_hash(
        seq=2,
        at=e.at,
        actor=e.actor,
        action=e.action,
        subject=e.subject,
        details={"batch": 2, "rows": 0},
        prev_hash=e.prev_hash,
    )
    _sql(
        store,
        (
            "UPDATE audit_log SET details = :d, hash = :h WHERE seq = 2",
            {"d": '{"batch": 2, "rows": 0}', "h": forged},
        ),
    )
    result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (2, "altered")


def test_forged_row_appended_after_the_head_is_named_as_inserted(store: Store, chain: list) -> None:
    _sql(store, (INSERT, _forged_row(N + 1, chain[-1].hash)))  # hash and link are both right
    result = _verify(store)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, N + 1, N)
    assert result.reason.startswith("inserted")


def test_forged_row_inserted_in_the_middle_is_named(store: Store, chain: list) -> None:
    # Make room at seq 3 (two steps: PostgreSQL checks the primary key row by row), insert a
    # self-consistent forged entry linked to entry 2, and move the head along.
    _sql(
        store,
        ("UPDATE audit_log SET seq = -seq WHERE seq >= 3", {}),
        ("UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0", {}),
        (INSERT, _forged_row(3, chain[1].hash)),
        ("UPDATE audit_head SET seq = seq + 1", {}),
    )
    result = _verify(store)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert result.reason.startswith("inserted")


def test_forged_row_before_the_first_is_named_as_inserted(store: Store, chain: list) -> None:
    _sql(store, (INSERT, _forged_row(0, "0" * 64)))
    result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (0, "inserted")


def test_deleted_middle_row_is_named(store: Store, chain: list) -> None:
    _sql(store, ("DELETE FROM audit_log WHERE seq = 4", {}))
    result = _verify(store)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert result.reason.startswith("deleted")


def test_deleted_middle_row_hidden_by_renumbering_is_named(store: Store, chain: list) -> None:
    _sql(
        store,
        ("DELETE FROM audit_log WHERE seq = 4", {}),
        ("UPDATE audit_log SET seq = -seq WHERE seq > 4", {}),
        ("UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0", {}),
        ("UPDATE audit_head SET seq = seq - 1", {}),
    )
    result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (4, "deleted")


def test_deleted_last_row_is_named(store: Store, chain: list) -> None:
    _sql(store, ("DELETE FROM audit_log WHERE seq = :s", {"s": N}))
    result = _verify(store)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, N, N - 1)
    assert result.reason.startswith("deleted")


def test_deleted_last_row_with_head_moved_back_is_named(store: Store, chain: list) -> None:
    _sql(
        store,
        ("DELETE FROM audit_log WHERE seq = :s", {"s": N}),
        ("UPDATE audit_head SET seq = seq - 1", {}),
    )
    result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (N - 1, "head mismatch")


def test_tampered_head_is_named(store: Store, chain: list) -> None:
    _sql(store, ("UPDATE audit_head SET hash = :h", {"h": "f" * 64}))
    result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (N, "head mismatch")


def test_missing_head_is_named(store: Store, chain: list) -> None:
    _sql(store, ("DELETE FROM audit_head", {}))
    result = _verify(store)
    assert not result.ok and result.reason.startswith("head mismatch")


def test_appends_after_a_tampering_do_not_heal_it(store: Store, chain: list) -> None:
    _sql(store, ("UPDATE audit_log SET subject = 'other' WHERE seq = 2", {}))
    with store.session() as s:
        audit.append(s, actor="a", action=AuditAction.GATE, subject="credit")
    assert _verify(store).first_bad_seq == 2


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET details = 'not json {' WHERE seq = 3",
        "UPDATE audit_log SET at = 'yesterday' WHERE seq = 3",
    ],
)
def test_garbled_row_on_sqlite_is_named_not_a_crash(tmp_path, sql: str) -> None:  # type: ignore[no-untyped-def]
    # SQLite stores whatever it is given; PostgreSQL's column types refuse these writes.
    with Store.open(f"sqlite:///{tmp_path / 'a.db'}") as store:
        with store.session() as s:
            for i in range(5):
                audit.append(s, actor="a", action=AuditAction.GATE, subject="m", details={"i": i})
        _sql(store, (sql, {}))
        result = _verify(store)
    assert (result.first_bad_seq, result.reason.split(":")[0]) == (3, "altered")
    assert "cannot be read" in result.reason
