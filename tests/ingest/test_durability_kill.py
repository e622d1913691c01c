"""Durable before ack, with a real kill: a child process ingests and prints each ack; we
SIGKILL it right after an ack and check that every acknowledged batch is there, and that
re-sending the batch that was in flight is idempotent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from watchkeeper.ingest import IngestService
from watchkeeper.policy import load_policy
from watchkeeper.store import Store

from .factories import events, write_policy

ROOT = Path(__file__).resolve().parents[2]


def test_killed_right_after_an_ack_loses_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    policy = write_policy(tmp_path, retention="3650d")
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("_kill_child.py")),
            db_url,
            str(policy),
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    acked = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            word, batch, _ = line.split()
            assert word == "ACK"
            acked.append(int(batch))
            if len(acked) == 5:
                os.kill(child.pid, signal.SIGKILL)  # right after the 5th acknowledgement
                break
        else:
            raise AssertionError(f"child ended without 5 acks: {child.stderr.read()}")  # type: ignore[union-attr]
    finally:
        child.kill()
        child.wait()
    assert acked == [0, 1, 2, 3, 4]

    with Store.open(db_url) as store:
        service = IngestService(store, load_policy(policy), data_dir)
        ids = set(service.read_events("credit", with_labels=False).column("event_id").to_pylist())
        for batch in acked:  # every acknowledged event is there
            assert {f"e{i}" for i in range(batch * 200, batch * 200 + 200)} <= ids
        # The batch in flight (5) either committed whole or not at all, and re-sending it
        # is idempotent either way.
        in_flight = {f"e{i}" for i in range(1000, 1200)}
        assert in_flight <= ids or not (in_flight & ids)
        again = service.ingest_events("credit", events(200, start=1000, seed=5))
        assert again.n_new + again.n_duplicates == 200
        assert service.ingest_events("credit", events(200, start=1000, seed=5)).n_new == 0
        total = service.read_events("credit", with_labels=False).num_rows
        assert total == len(ids) + again.n_new
        assert service.read_window_profile("credit").n == total
