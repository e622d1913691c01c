"""The serving router: which model version answers each request, from the live routing state.

    router = watchkeeper.Router("credit-risk", db="sqlite:///watchkeeper.db")   # embedded
    router = watchkeeper.Router("credit-risk", url="http://wk:8000", token="wk_...")  # HTTP
    decision = router.route(request_key)        # champion, canary share, fallback, or reject
    router.log(decision, event_id=..., features=..., prediction=..., probability=...)

The state is fetched at most every `refresh_s` seconds (a kill switch or a rollback reaches
every router within that), and routing itself is a local, pure decision. Prediction events
are buffered and flushed in batches through the client (`flush()` or every `flush_every`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock
from watchkeeper.core.errors import NotFoundError
from watchkeeper.mitigation.routing import KillSwitch, RouteDecision, RoutingState, route


def state_from_dict(data: Mapping[str, Any]) -> RoutingState:
    ks = dict(data.get("kill_switch") or {})
    for key in ("thrown_at", "expires_at"):
        if ks.get(key):
            ks[key] = datetime.fromisoformat(ks[key])
    return RoutingState(**{**data, "kill_switch": KillSwitch(**ks)})


class Router:
    def __init__(
        self,
        model: str,
        *,
        db: str | None = None,
        url: str | None = None,
        token: str | None = None,
        client: Any = None,
        refresh_s: float = 2.0,
        flush_every: int = 500,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if (db is None) == (url is None):
            raise ValueError("give exactly one of db= (embedded) or url= (a watchkeeper server)")
        self.model = model
        self.refresh_s = refresh_s
        self.flush_every = flush_every
        self.clock = clock
        self.client = client
        self._db = db
        self._http = (httpx.Client(base_url=url, timeout=5.0,
                                   headers={"Authorization": f"Bearer {token}"} if token else {})
                      if url else None)
        self._state: RoutingState | None = None
        self._fetched = 0.0
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._store: Any = None

    # -- state -------------------------------------------------------------------------------

    def _fetch(self) -> RoutingState:
        if self._http is not None:
            r = self._http.get(f"/v1/models/{self.model}/routing")
            if r.status_code == 404:
                raise NotFoundError(r.json().get("detail", f"unknown model {self.model}"))
            r.raise_for_status()
            return state_from_dict(r.json())
        from watchkeeper.mitigation import service
        from watchkeeper.store import Store

        if self._store is None:
            self._store = Store.open(self._db or "", migrate=False)
        with self._store.session(read_only=True) as s:
            return service.routing_state(s, self.model)

    def state(self) -> RoutingState:
        """The routing state, refreshed when older than `refresh_s`. If the source is down the
        last known state keeps serving (a router must not fail requests because it cannot
        reach watchkeeper)."""
        now = time.monotonic()
        if self._state is None or now - self._fetched >= self.refresh_s:
            try:
                self._state = self._fetch()
                self._fetched = now
            except (httpx.HTTPError, OSError):
                if self._state is None:
                    raise
        return self._state

    def route(self, key: str = "") -> RouteDecision:
        return route(self.state(), key, self.clock.now())

    # -- logging -----------------------------------------------------------------------------

    def log(self, decision: RouteDecision, **event: Any) -> None:
        """Buffer one prediction event tagged with the version that served it."""
        if self.client is None:
            return
        record = {"model_version": str(decision.version) if decision.version else decision.role,
                  **event}
        with self._lock:
            self._buffer.append(record)
            full = len(self._buffer) >= self.flush_every
        if full:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch and self.client is not None:
            self.client.log_predictions(self.model, batch)
        return len(batch)

    def close(self) -> None:
        self.flush()
        if self._http is not None:
            self._http.close()
        if self._store is not None:
            self._store.close()
