from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import watchkeeper.policy as policy_pkg
from watchkeeper.api.app import create_app
from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import ManualClock
from watchkeeper.engine import access
from watchkeeper.policy import parse_policy
from watchkeeper.store import Store

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app_state(store: Store, tmp_path: Path, clock: ManualClock) -> AppState:
    policy = parse_policy(STARTER.read_text(), str(STARTER))
    return AppState(store=store, data_dir=tmp_path / "data", policy=policy, clock=clock)


@pytest.fixture
def tokens(app_state: AppState, clock: ManualClock) -> dict[str, str]:
    people = {"admin": ("admin", ["*"]), "alice": ("model_owner", ["credit-risk"]),
              "carol": ("model_owner", ["*"]), "mallory": ("model_owner", ["*"]),
              "victor": ("viewer", ["*"]), "rita": ("responder", ["other-model"])}
    out = {}
    with app_state.store.session() as s:
        for name, (role, models) in people.items():
            secret, _ = access.create_token(s, name=name, role=role, models=models,
                                            created_by="test", now=clock.now())
            out[name] = secret
    return out


@pytest.fixture
def client(app_state: AppState) -> Iterator[TestClient]:
    with TestClient(create_app(app_state)) as c:
        yield c
