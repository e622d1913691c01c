"""`watchkeeper serve --role scheduler|worker` as real processes on PostgreSQL.

Two schedulers: one leads (advisory lock) and only it runs the tick and the escalation clock;
killing it hands the lead to the other. Workers deliver the outbox to a loopback webhook: a
worker SIGKILLed while its requests are in flight leaves its claimed notifications to the
others once the lease (shortened here with --outbox-lease) runs out; every notification is
recorded delivered exactly once, and only the killed worker's in-flight sends reach the
receiver twice (it dedupes by Idempotency-Key, as the outbox's contract asks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import new_pg_database

from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.core.enums import Tier
from watchkeeper.incidents import service as incidents
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import DeliveryAttempt, OutboxRow

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
WATCHKEEPER = str(Path(sys.executable).with_name("watchkeeper"))
LEASE_S = 3


class Receiver:
    """A webhook endpoint that records Idempotency-Keys and can hold every answer."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.before_release: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.keys.append(key)
                    if not receiver.release.is_set():
                        receiver.before_release.append(key)
                receiver.release.wait(60)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.log = name, folder / f"{name}.log"
        self.handle = self.log.open("wb")
        self.p = subprocess.Popen([WATCHKEEPER, "serve", *args], env=env, stdout=self.handle,
                                  stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait(timeout=10)


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def setup(pg_server: str, tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str],
                                                            Receiver]]:
    db = new_pg_database(pg_server)
    subprocess.run([WATCHKEEPER, "init", str(tmp_path), "--rows", "300"], check=True,
                   capture_output=True)
    policy = tmp_path / "watchkeeper.yaml"
    text = policy.read_text()
    text = text.replace("channels:\n", "channels:\n  hook: {type: webhook, url_env: WK_HOOK}\n", 1)
    for old in ("T1: [console, ops]", "T2: [console, ops, mail]", "T3: [console, pager, ops]"):
        text = text.replace(old, f"{old[:3]} [hook]")
    text = text.replace(", channels: [mail]", "")  # every notification goes to the hook
    policy.write_text(text)
    receiver = Receiver()
    env = {**os.environ, "WK_HOOK": receiver.url, "WATCHKEEPER_DB": db,
           "WATCHKEEPER_POLICY": str(policy), "WATCHKEEPER_DATA_DIR": str(tmp_path / "data")}
    Store.open(db).close()  # migrate once, before the processes race to
    yield db, tmp_path, env, receiver
    receiver.close()


def test_one_leader_and_a_killed_worker_loses_nothing_and_repeats_nothing(
        setup: tuple[str, Path, dict[str, str], Receiver]) -> None:
    db, folder, env, receiver = setup
    procs: list[Proc] = []

    def start(name: str, role: str) -> Proc:
        proc = Proc(name, ["--role", role, "--tick", "1", "--outbox-lease", f"{LEASE_S}s"],
                    env, folder)
        procs.append(proc)
        return proc

    try:
        s1, s2 = start("scheduler1", "scheduler"), start("scheduler2", "scheduler")
        wait_for("a leader", lambda: "is the leader" in s1.text() + s2.text())
        time.sleep(2)  # both have tried to lead several times by now
        leader, follower = (s1, s2) if "is the leader" in s1.text() else (s2, s1)
        assert "is the leader" not in follower.text()
        assert "job tick: first run" in leader.text()
        assert "job tick" not in follower.text() and "job escalation" not in follower.text()

        store = Store.open(db)
        with store.session() as s:
            for k in range(12):
                incidents.open_incident(s, model="credit-risk", tier=Tier.T2,
                                        title=f"incident {k}", actor="test",
                                        now=SYSTEM_CLOCK.now())

        def count(*where: Any) -> int:
            with store.session(read_only=True) as s:
                return int(s.scalar(select(func.count()).select_from(OutboxRow).where(*where))
                           or 0)

        wait_for("notifications queued by the leader", lambda: count() >= 12)
        total = count()
        w1 = start("worker1", "worker")
        wait_for("worker1's sends in flight", lambda: len(receiver.before_release) >= 1)
        time.sleep(0.5)  # let its other threads' requests arrive too
        w1.kill()
        in_flight = set(receiver.before_release)
        receiver.release.set()
        assert count(OutboxRow.status == "sending") == total  # worker1 claimed every row

        # The leader dies too: the follower takes over the clock.
        leader.kill()
        wait_for("the follower to lead", lambda: "is the leader" in follower.text())

        start("worker2", "worker"), start("worker3", "worker")
        def by_status() -> dict[str, int]:
            with store.session(read_only=True) as s:
                return dict(s.execute(select(OutboxRow.status, func.count())
                                      .group_by(OutboxRow.status)).all())

        try:
            wait_for("every notification delivered",
                     lambda: count(OutboxRow.status == "delivered") == total,
                     timeout=LEASE_S + 60)
        except AssertionError:
            raise AssertionError(f"outbox {by_status()}, queued at first {total}") from None
        time.sleep(LEASE_S + 1)  # a duplicate would have to show up by now

        with store.session(read_only=True) as s:
            rows = s.execute(select(OutboxRow.id, OutboxRow.idempotency_key,
                                    OutboxRow.attempts)).all()
            delivered = Counter(s.scalars(select(DeliveryAttempt.outbox_id).where(
                DeliveryAttempt.outcome == "delivered")))
        store.close()
        keys = {r.idempotency_key for r in rows}
        assert all(delivered[r.id] == 1 for r in rows)  # recorded delivered exactly once
        assert all(r.attempts == 2 for r in rows)  # taken over after worker1's lease
        received = Counter(receiver.keys)
        assert set(received) == keys  # every notification reached the receiver
        # Only what worker1 had in flight arrived twice; workers 2 and 3 never both sent one.
        assert {k for k, n in received.items() if n > 1} == in_flight
        assert all(n <= 2 for n in received.values())
        assert len(set(receiver.keys)) == total  # after dedupe: exactly one per key
    finally:
        for p in procs:
            p.kill()
            p.handle.close()
