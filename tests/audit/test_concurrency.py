"""Several processes appending at once must leave one unbroken chain."""

from __future__ import annotations

import multiprocessing
import threading

from sqlalchemy import func, select

from watchkeeper import audit
from watchkeeper.audit import AuditAction
from watchkeeper.store import Store
from watchkeeper.store.tables.foundation import AuditLog

PROCESSES = 4
APPENDS = 25


def _append_many(url: str, worker: int, n: int) -> None:
    with Store.open(url, migrate=False) as store:
        for i in range(n):
            with store.session() as s:
                audit.append(
                    s,
                    actor=f"worker{worker}",
                    action=AuditAction.WINDOW_SCORED,
                    subject="credit",
                    details={"worker": worker, "i": i},
                )


def test_appends_from_several_processes_keep_one_chain(store: Store, db_url: str) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(db_url, w, APPENDS)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    with store.session(read_only=True) as s:
        result = audit.verify(s)
        per_worker = dict(
            s.execute(select(AuditLog.actor, func.count()).group_by(AuditLog.actor)).all()
        )
    assert result.ok, str(result)
    assert result.checked == PROCESSES * APPENDS
    assert per_worker == {f"worker{w}": APPENDS for w in range(PROCESSES)}


def test_a_second_appender_waits_for_the_first_transaction(store: Store) -> None:
    """The head lock is held until commit: the waiting append chains onto the committed one."""
    first_appended = threading.Event()
    release_first = threading.Event()
    seqs: dict[str, int] = {}

    def first() -> None:
        with store.session() as s:
            seqs["first"] = audit.append(s, actor="a", action=AuditAction.GATE, subject="m").seq
            first_appended.set()
            release_first.wait(10)

    t = threading.Thread(target=first)
    t.start()
    assert first_appended.wait(10)
    second_done = threading.Event()

    def second() -> None:
        with store.session() as s:
            seqs["second"] = audit.append(s, actor="b", action=AuditAction.GATE, subject="m").seq
        second_done.set()

    t2 = threading.Thread(target=second)
    t2.start()
    assert not second_done.wait(0.5)  # blocked behind the first transaction's lock
    release_first.set()
    t.join(10)
    t2.join(10)
    assert seqs == {"first": 1, "second": 2}
    with store.session() as s:
        assert audit.verify(s).ok
