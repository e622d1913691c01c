"""The durable outbox on SQLite and PostgreSQL, delivering to real loopback receivers."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from escalation.receivers import HttpReceiver, Reply
from escalation.samples import sample_notification
from watchkeeper.audit import list_entries, verify
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ManualClock
from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.outbox import (
    RetryPolicy,
    _claim,
    deliver_due,
    delivery_log,
    enqueue,
    outbox_counts,
)
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import OutboxRow

SECRET = "hook-secret-6b1d9a"
ENV = {"HOOK_SECRET": SECRET}


def hook(receiver: HttpReceiver, **extra: object) -> ChannelConfig:
    return ChannelConfig("hook", "webhook", settings={"url": receiver.url + "/hook",
                                                      "secret_env": "HOOK_SECRET", **extra})


def queue(store: Store, channel: ChannelConfig, keys: list[str], clock: ManualClock,
          incident: str = "inc_01") -> None:
    with store.session() as s:
        for key in keys:
            enqueue(s, incident, channel, "oncall", sample_notification(key=key), key,
                    now=clock.now())


def test_enqueue_is_part_of_the_callers_transaction(store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock()
    with pytest.raises(RuntimeError), store.session() as s:
        enqueue(s, "inc_01", hook(receiver), "oncall", sample_notification(), "k1",
                now=clock.now())
        raise RuntimeError("the incident change failed")
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0


def test_re_enqueueing_a_key_is_a_no_op(store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock()
    with store.session() as s:
        assert enqueue(s, "inc_01", hook(receiver), "oncall", sample_notification(), "k1",
                       now=clock.now())
        assert not enqueue(s, "inc_01", hook(receiver), "oncall", sample_notification(), "k1",
                           now=clock.now())
    with store.session() as s:
        assert not enqueue(s, "inc_01", hook(receiver), "oncall", sample_notification(), "k1",
                           now=clock.now())
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 1


def test_due_notifications_are_delivered_once_and_logged(store: Store,
                                                        receiver: HttpReceiver) -> None:
    clock = ManualClock()
    keys = [f"inc_01:T2:trigger:{i}" for i in range(25)]
    queue(store, hook(receiver), keys, clock)
    stats = deliver_due(store, clock.now(), env=ENV)
    assert (stats.claimed, stats.delivered) == (25, 25)
    assert deliver_due(store, clock.now(), env=ENV).claimed == 0
    assert receiver.accepted == dict.fromkeys(keys, 1)
    with store.session() as s:
        log = delivery_log(s, "inc_01")
        assert outbox_counts(s) == {"delivered": 25}
    assert sorted(e["idempotency_key"] for e in log) == sorted(keys)
    assert {e["outcome"] for e in log} == {"delivered"}


def test_not_yet_due_rows_wait(store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock()
    queue(store, hook(receiver), ["k1"], clock)
    assert deliver_due(store, clock.now() - timedelta(seconds=1), env=ENV).claimed == 0
    assert receiver.requests == []


def test_server_errors_are_retried_with_backoff_until_delivered(store: Store,
                                                               receiver: HttpReceiver) -> None:
    clock = ManualClock()
    receiver.script = [Reply(503), Reply(500), Reply(429, headers={"Retry-After": "120"})]
    queue(store, hook(receiver), ["k1"], clock)
    rng = random.Random(1)
    waits = []
    for _ in range(3):
        assert deliver_due(store, clock.now(), env=ENV, rng=rng).retried == 1
        with store.session() as s:
            row = s.scalars(select(OutboxRow)).one()
        waits.append(row.next_attempt_at - clock.now())
        assert deliver_due(store, clock.now() + waits[-1] - timedelta(seconds=1),
                           env=ENV).claimed == 0
        clock.advance(waits[-1])
    assert deliver_due(store, clock.now(), env=ENV).delivered == 1
    policy = RetryPolicy()
    assert policy.base / 2 <= waits[0] <= policy.base
    assert policy.base <= waits[1] <= policy.base * 2
    assert waits[2] >= timedelta(seconds=120)  # Retry-After is honoured
    assert receiver.accepted == {"k1": 1}
    with store.session() as s:
        outcomes = [e["outcome"] for e in delivery_log(s, "inc_01")]
    assert outcomes == ["retry", "retry", "retry", "delivered"]


def test_client_errors_are_dead_lettered_at_once_with_an_audit_entry(
        store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock()
    receiver.default = Reply(400, b'{"error": "bad payload"}')
    queue(store, hook(receiver), ["k1"], clock)
    stats = deliver_due(store, clock.now(), env=ENV)
    assert (stats.dead, stats.retried) == (1, 0)
    with store.session() as s:
        [entry] = list_entries(s, action=AuditAction.NOTIFICATION_FAILED)
        assert entry.details["idempotency_key"] == "k1" and "400" in entry.details["error"]
        assert verify(s).ok


def test_retryable_failures_dead_letter_after_max_attempts(store: Store,
                                                          receiver: HttpReceiver) -> None:
    clock = ManualClock()
    receiver.default = Reply(500)
    queue(store, hook(receiver, max_attempts=3), ["k1"], clock)
    for _ in range(10):
        deliver_due(store, clock.now(), env=ENV)
        clock.advance(timedelta(hours=1))
    with store.session() as s:
        assert outbox_counts(s) == {"dead": 1}
        assert [e["outcome"] for e in delivery_log(s, "inc_01")] == ["retry", "retry", "dead"]
    assert len(receiver.requests) == 3


def test_outage_of_an_hour_loses_nothing_and_duplicates_nothing(store: Store) -> None:
    """The receiver goes down for a simulated hour while notifications keep coming, then
    comes back: every notification arrives, exactly once per key."""
    clock = ManualClock()
    receiver = HttpReceiver().start()
    try:
        channel = hook(receiver)
        queue(store, channel, [f"before:{i}" for i in range(20)], clock)
        deliver_due(store, clock.now(), env=ENV)
        receiver.down()
        keys = [f"before:{i}" for i in range(20)]
        for minute in range(0, 60, 2):
            batch = [f"outage:{minute}:{i}" for i in range(3)]
            keys += batch
            queue(store, channel, batch, clock)
            deliver_due(store, clock.now(), env=ENV)
            clock.advance(timedelta(minutes=2))
        with store.session() as s:
            assert outbox_counts(s).get("dead", 0) == 0
            refused = [e for e in delivery_log(s, "inc_01") if e["outcome"] == "retry"]
        assert refused, "the outage must have caused failed attempts"
        receiver.up()
        settled = 0
        for _ in range(180):  # up to three simulated hours; stop a few rounds after settling
            deliver_due(store, clock.now(), env=ENV)
            clock.advance(timedelta(minutes=1))
            with store.session() as s:
                settled = settled + 1 if set(outbox_counts(s)) == {"delivered"} else 0
            if settled > 5:
                break
        assert receiver.accepted == dict.fromkeys(keys, 1)
        assert len([r for r in receiver.requests if r.status == 200]) == len(keys)
        with store.session() as s:
            assert outbox_counts(s) == {"delivered": len(keys)}
    finally:
        receiver.down()


def test_a_worker_that_dies_mid_send_leaves_rows_that_come_back_after_the_lease(
        store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock()
    queue(store, hook(receiver), ["k1", "k2"], clock)
    policy = RetryPolicy()
    assert len(_claim(store, clock.now(), 10, policy)) == 2  # claimed, then the worker "dies"
    assert deliver_due(store, clock.now(), env=ENV).claimed == 0
    clock.advance(policy.lease)
    assert deliver_due(store, clock.now(), env=ENV).delivered == 2
    assert receiver.accepted == {"k1": 1, "k2": 1}


def test_concurrent_workers_deliver_each_key_once(store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock()
    keys = [f"k{i}" for i in range(200)]
    queue(store, hook(receiver), keys, clock)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while deliver_due(store, clock.now(), env=ENV, limit=20, workers=2).claimed:
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert receiver.accepted == dict.fromkeys(keys, 1)
    assert len(receiver.requests) == 200


def test_secrets_stay_out_of_the_delivery_log_and_audit(store: Store,
                                                       receiver: HttpReceiver) -> None:
    clock = ManualClock()
    slack_url = receiver.url + "/services/T0/B0/slack-token-5e5e5e"
    receiver.responder = lambda path, headers, body: Reply(404, f"no such hook {path}".encode())
    channel = ChannelConfig("ops", "slack", settings={"url_env": "OPS_URL"})
    with store.session() as s:
        enqueue(s, "inc_01", channel, "oncall", sample_notification(), "k1", now=clock.now())
    deliver_due(store, clock.now(), env={"OPS_URL": slack_url})
    with store.session() as s:
        stored = json.dumps([delivery_log(s, "inc_01"),
                             [e.details for e in list_entries(s)],
                             [r.channel_config for r in s.scalars(select(OutboxRow))],
                             [r.last_error for r in s.scalars(select(OutboxRow))]])
    assert "404" in stored and receiver.requests
    assert "slack-token-5e5e5e" not in stored and slack_url not in stored


def test_postgres_workers_skip_rows_another_worker_holds(store: Store,
                                                         receiver: HttpReceiver) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers instead")
    clock = ManualClock()
    queue(store, hook(receiver), [f"k{i}" for i in range(10)], clock)
    with store.session() as held:  # another worker mid-claim: holds 4 rows locked
        locked = held.scalars(select(OutboxRow.idempotency_key).order_by(OutboxRow.id)
                              .limit(4).with_for_update()).all()
        stats = deliver_due(store, clock.now(), env=ENV)
        assert stats.claimed == 6
        assert set(receiver.accepted) == {f"k{i}" for i in range(10)} - set(locked)
    assert deliver_due(store, clock.now(), env=ENV).delivered == 4
    assert receiver.accepted == {f"k{i}": 1 for i in range(10)}


def test_an_operator_can_requeue_a_dead_letter(store: Store, receiver: HttpReceiver) -> None:
    from watchkeeper.escalation.outbox import requeue

    clock = ManualClock()
    receiver.script = [Reply(400)]
    queue(store, hook(receiver), ["k1"], clock)
    assert deliver_due(store, clock.now(), env=ENV).dead == 1
    with store.session() as s:
        row_id = s.scalars(select(OutboxRow.id)).one()
        requeue(s, row_id, now=clock.now(), actor="ann")
    assert deliver_due(store, clock.now(), env=ENV).delivered == 1
    assert receiver.accepted == {"k1": 1}
    with store.session() as s:
        assert [e["outcome"] for e in delivery_log(s, "inc_01")] == ["dead", "delivered"]
        assert list_entries(s, action=AuditAction.NOTIFICATION_QUEUED)[0].actor == "ann"
