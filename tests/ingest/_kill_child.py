"""Child process for the kill test: ingests batches of 200 events forever, printing
`ACK <batch number> <n_new>` after each acknowledgement (flushed), until it is killed."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.ingest.factories import events

from watchkeeper.ingest import IngestService
from watchkeeper.policy import load_policy
from watchkeeper.store import Store

db_url, policy, data_dir = sys.argv[1:4]
store = Store.open(db_url)
service = IngestService(store, load_policy(policy), Path(data_dir))
batch = 0
while True:
    result = service.ingest_events("credit", events(200, start=batch * 200, seed=batch))
    print(f"ACK {batch} {result.n_new}", flush=True)
    batch += 1
