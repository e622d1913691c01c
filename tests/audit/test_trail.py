from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum

import pytest
from sqlalchemy import func, select

from watchkeeper import audit
from watchkeeper.audit import GENESIS_HASH, AuditAction, entry_hash
from watchkeeper.core.errors import InputError
from watchkeeper.store import Store
from watchkeeper.store.tables.foundation import AuditHead, AuditLog

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _fill(store: Store, n: int) -> list[audit.AuditEntry]:
    out = []
    with store.session() as s:
        for i in range(n):
            out.append(
                audit.append(
                    s,
                    actor=f"user{i % 2}",
                    action=AuditAction.INGEST_BATCH,
                    subject=f"model-{i % 3}",
                    details={"i": i, "rows": 10 * i},
                    at=T0 + timedelta(minutes=i),
                )
            )
    return out


def test_appended_entries_chain_from_genesis_and_read_back_identical(store: Store) -> None:
    written = _fill(store, 5)
    assert [e.seq for e in written] == [1, 2, 3, 4, 5]
    assert written[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(written):
        assert after.prev_hash == before.hash
    with store.session() as s:
        read = list(audit.iter_entries(s))
        head = s.execute(select(AuditHead.seq, AuditHead.hash)).one()
    assert read == written
    assert tuple(head) == (5, written[-1].hash)


def test_hash_is_sha256_of_the_documented_canonical_json(store: Store) -> None:
    import hashlib

    with store.session() as s:
        e = audit.append(
            s,
            actor="alice",
            action=AuditAction.POLICY_APPLIED,
            subject="policy",
            details={"b": 1, "a": "é"},
            at=T0,
        )
    canonical = (
        '{"action":"policy.applied","actor":"alice","at":"2026-05-01T12:00:00.000000+00:00",'
        '"details":{"a":"é","b":1},"prev_hash":"' + GENESIS_HASH + '","seq":1,'
        '"subject":"policy"}'
    )
    assert e.hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_append_rolls_back_with_the_callers_transaction(store: Store) -> None:
    _fill(store, 2)
    with pytest.raises(RuntimeError), store.session() as s:
        audit.append(s, actor="a", action=AuditAction.GATE, subject="m")
        raise RuntimeError("the decision failed")
    with store.session() as s:
        e = audit.append(s, actor="a", action=AuditAction.GATE, subject="m")
        assert e.seq == 3  # no gap left by the rolled-back entry
        assert audit.verify(s).ok


class Colour(Enum):
    RED = "red"


def test_details_are_stored_as_the_json_they_hash_to(store: Store) -> None:
    details = {
        1: "int key",
        "when": datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        "day": date(2026, 1, 2),
        "colour": Colour.RED,
        "tup": (1, 2.5),
        "nested": {"x": None, "y": [True, False]},
        "big": 2**62,
        "tiny": 1e-300,
    }
    with store.session() as s:
        e = audit.append(
            s, actor="a", action=AuditAction.SCORING_CONFIG, subject="m", details=details
        )
    assert e.details == {
        "1": "int key",
        "when": "2026-01-01T00:00:00.000000+00:00",
        "day": "2026-01-02",
        "colour": "red",
        "tup": [1, 2.5],
        "nested": {"x": None, "y": [True, False]},
        "big": 2**62,
        "tiny": 1e-300,
    }
    with store.session() as s:
        (back,) = audit.iter_entries(s)
        assert back.details == e.details
        assert audit.verify(s).ok


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"actor": "  "}, "actor"),
        ({"actor": "x" * 201}, "actor"),
        ({"subject": "a\x00b"}, "subject"),
        ({"action": "incident.exploded"}, "action"),
        ({"details": {"score": float("nan")}}, "details"),
        ({"details": {"obj": object()}}, "details"),
        ({"details": ["not", "a", "dict"]}, "details"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_written(
    store: Store, kwargs: dict, field: str
) -> None:
    args = {"actor": "a", "action": AuditAction.GATE, "subject": "m", **kwargs}
    with store.session() as s:
        with pytest.raises(InputError) as err:
            audit.append(s, **args)
        assert err.value.field == field and err.value.expected
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_unknown_action_lists_the_known_ones(store: Store) -> None:
    with store.session() as s, pytest.raises(InputError, match=r"ingest\.batch"):
        audit.append(s, actor="a", action="nope", subject="m")  # type: ignore[arg-type]


def test_hostile_text_round_trips_and_verifies(store: Store) -> None:
    nasty = "'; DROP TABLE audit_log; -- \u202e\U0001f600 \\ \" \n"
    with store.session() as s:
        audit.append(
            s,
            actor=nasty[:50],
            action=AuditAction.INCIDENT_COMMENT,
            subject=nasty,
            details={nasty: nasty, "nul in json": "a\x00b", "huge": "x" * 1_000_000},
        )
    with store.session() as s:
        (e,) = audit.iter_entries(s)
        assert e.subject == nasty and e.details[nasty] == nasty
        assert e.details["nul in json"] == "a\x00b"
        assert audit.verify(s).ok


def test_list_filters_newest_first(store: Store) -> None:
    _fill(store, 9)
    with store.session() as s:
        by_subject = audit.list_entries(s, subject="model-1")
        assert [e.seq for e in by_subject] == [8, 5, 2]
        assert [e.seq for e in audit.list_entries(s, actor="user0", limit=2)] == [9, 7]
        assert audit.list_entries(s, action=AuditAction.ROLLBACK) == []
        since = audit.list_entries(s, since=T0 + timedelta(minutes=7))
        assert [e.seq for e in since] == [9, 8]
        with pytest.raises(InputError):
            audit.list_entries(s, limit=0)


def test_export_writes_json_lines_that_recompute_to_their_hashes(store: Store) -> None:
    _fill(store, 4)
    buf = io.StringIO()
    with store.session() as s:
        assert audit.export(s, buf) == 4
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    prev = GENESIS_HASH
    for line in lines:
        recomputed = entry_hash(
            seq=line["seq"],
            at=datetime.fromisoformat(line["at"]),
            actor=line["actor"],
            action=line["action"],
            subject=line["subject"],
            details=line["details"],
            prev_hash=line["prev_hash"],
        )
        assert recomputed == line["hash"] and line["prev_hash"] == prev
        prev = line["hash"]
    with store.session() as s:
        tail = io.StringIO()
        assert audit.export(s, tail, since=2) == 2
        assert [json.loads(x)["seq"] for x in tail.getvalue().splitlines()] == [3, 4]
        recent = io.StringIO()
        assert audit.export(s, recent, since=T0 + timedelta(minutes=3)) == 1


def test_orm_refuses_to_update_or_delete_an_entry(store: Store) -> None:
    _fill(store, 1)
    with pytest.raises(PermissionError), store.session() as s:
        row = s.get(AuditLog, 1)
        assert row is not None
        row.actor = "mallory"
    with pytest.raises(PermissionError), store.session() as s:
        s.delete(s.get(AuditLog, 1))
    with store.session() as s:
        assert audit.verify(s).ok
