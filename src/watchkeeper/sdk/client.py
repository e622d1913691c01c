"""`watchkeeper.Client`: log predictions and labels from Python.

Embedded mode: the client opens the database and the event log itself and calls the ingestion
service in-process. HTTP mode (`url=`): batches go to `watchkeeper serve` as Arrow IPC streams
(columnar, no per-row JSON cost). Either way `log_predictions` returns only once the batch is
durable, with the same BatchResult."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock
from watchkeeper.core.errors import InputError, NotFoundError, PermissionDenied, WatchkeeperError
from watchkeeper.core.settings import Settings
from watchkeeper.ingest import BatchResult, IngestService, Problem
from watchkeeper.ingest.sources.frames import to_arrow
from watchkeeper.policy import Policy, load_policy
from watchkeeper.profiles import WindowProfile
from watchkeeper.store import Store


class Client:
    """Log prediction events and delayed labels for the models of a policy.

    >>> wk = Client(policy="watchkeeper.yaml")                 # sqlite:///./watchkeeper.db
    >>> wk.log_predictions("credit-risk", df)                  # pandas, polars, pyarrow, dicts
    >>> wk.log_labels("credit-risk", [{"event_id": "e1", "label": 1}])
    >>> wk = Client(url="http://wk:8000", token="wk_...")    # over HTTP to `watchkeeper serve`
    """

    def __init__(self, db: str | None = None, policy: str | Path | Policy = "watchkeeper.yaml",
                 data_dir: str | Path | None = None, *, clock: Clock = SYSTEM_CLOCK,
                 actor: str = "sdk", url: str | None = None, token: str | None = None,
                 timeout: float = 120.0) -> None:
        self._http: _HttpIngest | None = None
        if url is not None:
            if db is not None:
                raise InputError("give either url= (HTTP) or db= (embedded), not both",
                                 field="url")
            self._http = _HttpIngest(url, token, timeout)
            return
        settings = Settings.resolve(db, data_dir)
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        self.store = Store.open(settings.db_url)
        self.settings = settings
        self._ingest = IngestService(self.store, self.policy, settings.data_dir, clock=clock,
                                     actor=actor)

    def log_predictions(self, model: str, data: Any, *, source: str = "sdk") -> BatchResult:
        """Validate and store one batch of prediction events (idempotent on event_id). Bad rows
        are quarantined and listed in the result's `problems`; good rows are kept."""
        if self._http is not None:
            return self._http.post(model, "events", data)
        return self._ingest.ingest_events(model, data, source=source)

    def log_labels(self, model: str, data: Any, *, source: str = "sdk") -> BatchResult:
        """Store delayed ground truth: rows of event_id and label (optional timestamp)."""
        if self._http is not None:
            return self._http.post(model, "labels", data)
        return self._ingest.ingest_labels(model, data, source=source)

    def read_events(self, model: str, start: datetime | None = None,
                    end: datetime | None = None, *, with_labels: bool = True) -> pa.Table:
        self._embedded_only("read_events")
        return self._ingest.read_events(model, start, end, with_labels=with_labels)

    def window_profile(self, model: str, start: datetime | None = None,
                       end: datetime | None = None) -> WindowProfile:
        self._embedded_only("window_profile")
        return self._ingest.read_window_profile(model, start, end)

    def _embedded_only(self, what: str) -> None:
        if self._http is not None:
            raise WatchkeeperError(f"{what} reads the store directly; it needs an embedded "
                                   "Client (db=...), not url=")

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        else:
            self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _HttpIngest:
    """Posts batches to /v1/models/{model}/{events|labels} as Arrow IPC streams."""

    ARROW = "application/vnd.apache.arrow.stream"
    MAX_ROWS = 1_000_000  # the server's per-request limit; larger batches go in parts

    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        headers = {"Content-Type": self.ARROW}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def post(self, model: str, kind: str, data: Any) -> BatchResult:
        table = to_arrow(data, source="sdk")
        total: BatchResult | None = None
        for offset in range(0, max(table.num_rows, 1), self.MAX_ROWS):
            part = self._post_one(model, kind, table.slice(offset, self.MAX_ROWS), offset)
            total = part if total is None else total + part
        assert total is not None
        return total

    def _post_one(self, model: str, kind: str, table: pa.Table, offset: int) -> BatchResult:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        r = self.http.post(f"/v1/models/{model}/{kind}", content=sink.getvalue().to_pybytes())
        if r.status_code >= 400:
            raise _error(r)
        body = r.json()
        problems = [Problem(p["row"] + offset, p["field"], p["expected"], p["got"],
                            p.get("event_id")) for p in body.get("problems", [])]
        return BatchResult(body["batch_id"], body["model"], body["kind"], body["n_rows"],
                           body["n_new"], body["n_duplicates"], body["n_quarantined"],
                           problems, list(body.get("warnings", [])), [],
                           list(body.get("windows", [])))

    def close(self) -> None:
        self.http.close()


def _error(r: httpx.Response) -> WatchkeeperError:
    """The server's problem detail as the error the embedded client would raise."""
    try:
        detail = str(r.json().get("detail") or r.text)
    except ValueError:
        detail = r.text[:500]
    text = f"HTTP {r.status_code}: {detail}"
    if r.status_code in (401, 403):
        return PermissionDenied(text)
    if r.status_code == 404:
        return NotFoundError(text)
    if r.status_code in (413, 415, 422):
        return InputError(text)
    return WatchkeeperError(text)
