"""`watchkeeper.Client`: log predictions and labels from Python.

Embedded mode (this module): the client opens the database and the event log itself and calls
the ingestion service in-process; `log_predictions` returns only once the batch is durable.
(An HTTP mode against `watchkeeper serve` comes with the API.)"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock
from watchkeeper.core.settings import Settings
from watchkeeper.ingest import BatchResult, IngestService
from watchkeeper.policy import Policy, load_policy
from watchkeeper.profiles import WindowProfile
from watchkeeper.store import Store


class Client:
    """Log prediction events and delayed labels for the models of a policy.

    >>> wk = Client(policy="watchkeeper.yaml")                 # sqlite:///./watchkeeper.db
    >>> wk.log_predictions("credit-risk", df)                  # pandas, polars, pyarrow, dicts
    >>> wk.log_labels("credit-risk", [{"event_id": "e1", "label": 1}])
    """

    def __init__(self, db: str | None = None, policy: str | Path | Policy = "watchkeeper.yaml",
                 data_dir: str | Path | None = None, *, clock: Clock = SYSTEM_CLOCK,
                 actor: str = "sdk") -> None:
        settings = Settings.resolve(db, data_dir)
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        self.store = Store.open(settings.db_url)
        self.settings = settings
        self._ingest = IngestService(self.store, self.policy, settings.data_dir, clock=clock,
                                     actor=actor)

    def log_predictions(self, model: str, data: Any, *, source: str = "sdk") -> BatchResult:
        """Validate and store one batch of prediction events (idempotent on event_id). Bad rows
        are quarantined and listed in the result's `problems`; good rows are kept."""
        return self._ingest.ingest_events(model, data, source=source)

    def log_labels(self, model: str, data: Any, *, source: str = "sdk") -> BatchResult:
        """Store delayed ground truth: rows of event_id and label (optional timestamp)."""
        return self._ingest.ingest_labels(model, data, source=source)

    def read_events(self, model: str, start: datetime | None = None,
                    end: datetime | None = None, *, with_labels: bool = True) -> pa.Table:
        return self._ingest.read_events(model, start, end, with_labels=with_labels)

    def window_profile(self, model: str, start: datetime | None = None,
                       end: datetime | None = None) -> WindowProfile:
        return self._ingest.read_window_profile(model, start, end)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
