from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import watchkeeper.policy as policy_pkg
from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.engine import access
from watchkeeper.policy import parse_policy
from watchkeeper.scoring.service import ScoringService
from watchkeeper.store import Store
from watchkeeper.web.app import create_server_app

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def app_state(store: Store, tmp_path: Path, clock: ManualClock) -> AppState:
    policy = parse_policy(STARTER.read_text(), str(STARTER))
    return AppState(store=store, data_dir=tmp_path / "data", policy=policy, clock=clock)


@pytest.fixture
def tokens(app_state: AppState, clock: ManualClock) -> dict[str, str]:
    people = {
        "admin": ("admin", ["*"]),
        "alice": ("model_owner", ["credit-risk"]),
        "carol": ("model_owner", ["*"]),
        "mallory": ("model_owner", ["*"]),
        "victor": ("viewer", ["*"]),
    }
    out = {}
    with app_state.store.session() as s:
        for name, (role, models) in people.items():
            out[name], _ = access.create_token(
                s, name=name, role=role, models=models, created_by="test", now=clock.now()
            )
    return out


@pytest.fixture
def client(app_state: AppState) -> Iterator[TestClient]:
    with TestClient(create_server_app(app_state)) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def seed_scores(store: Store, clock: ManualClock, model: str, hours: int, severity: object) -> None:
    """Hourly windows ending at the clock's hour, scored from hand-made drift signals;
    `severity(h)` gives each window's severity."""
    svc = ScoringService(store, clock=clock)
    end = clock.now().replace(minute=0)
    for h in range(hours):
        start = end - timedelta(hours=hours - h)
        sev = float(severity(h))  # type: ignore[operator]
        signals = (
            [
                Signal(
                    kind=SignalKind.DATA_DRIFT,
                    method="psi",
                    severity=sev,
                    effect_size=sev,
                    feature="income",
                    evidence=f"income shifted (PSI {sev:.2f})",
                )
            ]
            if sev > 0
            else []
        )
        svc.score(WindowKey(model, start, start + timedelta(hours=1)), signals)
