"""An IngestService on the `store` fixture, so every ingest test runs on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from watchkeeper.core.clock import ManualClock
from watchkeeper.ingest import IngestService
from watchkeeper.policy import load_policy
from watchkeeper.store import Store

from .factories import write_policy


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, tzinfo=UTC))


@pytest.fixture
def make_service(store: Store, tmp_path: Path, clock: ManualClock) -> Iterator[Any]:
    def make(window: str = "every: 1h") -> IngestService:
        folder = tmp_path / "policy"
        folder.mkdir(exist_ok=True)
        policy = load_policy(write_policy(folder, window))
        return IngestService(store, policy, tmp_path / "data", clock=clock)

    yield make


@pytest.fixture
def service(make_service: Any) -> IngestService:
    return make_service()
