"""The serving router, embedded and over real HTTP (uvicorn on loopback): it follows champion,
canary and kill switch changes within its refresh interval, and keeps serving the last known
state when the server is gone."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sklearn.dummy import DummyClassifier

import watchkeeper
from watchkeeper.api.app import create_app
from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.engine import access
from watchkeeper.mitigation import service
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.policy import parse_policy
from watchkeeper.store import Store

STARTER = Path(watchkeeper.policy.__file__).with_name("starter.yaml")
ROLES = ["mlops_oncall"]


def _two_versions(store: Store, data_dir: Path) -> None:
    now = SYSTEM_CLOCK.now()
    with store.session() as s:
        reg = service.registry(s, data_dir)
        for _ in range(2):
            reg.register(
                "credit-risk",
                DummyClassifier().fit([[0], [1]], [0, 1]),
                lineage=Lineage(),
                actor="t",
                now=now,
            )
        service.set_champion(s, "credit-risk", 1, actor="t", now=now, data_dir=data_dir)
        service.set_champion(s, "credit-risk", 2, actor="t", now=now, data_dir=data_dir)


def _kill(store: Store) -> None:
    with store.session() as s:
        service.throw_kill_switch(
            s,
            "credit-risk",
            actor="carol",
            actor_roles=ROLES,
            allowed_roles=ROLES,
            reason="drill",
            fallback="previous_version",
            now=SYSTEM_CLOCK.now(),
        )


def _wait_for(router: watchkeeper.Router, role: str, timeout: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if router.route("k").role == role:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"router never saw {role}")


def test_embedded_router_sees_the_kill_switch_within_its_refresh(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/wk.db"
    store = Store.open(url)
    _two_versions(store, tmp_path)
    router = watchkeeper.Router("credit-risk", db=url, refresh_s=0.3)
    assert router.route("k").version == 2
    _kill(store)
    assert _wait_for(router, "fallback") < 1.5
    assert router.route("k").version == 1
    router.close()
    store.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Store, str]]:
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    policy = parse_policy(STARTER.read_text(), str(STARTER))
    state = AppState(store=store, data_dir=tmp_path, policy=policy)
    with store.session() as s:
        token, _ = access.create_token(
            s, name="router", role="viewer", created_by="t", now=SYSTEM_CLOCK.now()
        )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", store, token
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()


def test_http_router_follows_changes_and_survives_an_outage(
    server: tuple[str, Store, str], tmp_path: Path
) -> None:
    url, store, token = server
    _two_versions(store, tmp_path)
    router = watchkeeper.Router("credit-risk", url=url, token=token, refresh_s=0.2)
    assert router.route("k").version == 2
    with store.session() as s:
        service.set_canary(
            s, "credit-risk", 1, 1.0, actor="t", now=SYSTEM_CLOCK.now(), data_dir=tmp_path
        )
    _wait_for(router, "canary")
    _kill(store)
    _wait_for(router, "fallback")
    router._http.base_url = "http://127.0.0.1:9"  # server unreachable: keep last state
    time.sleep(0.25)
    assert router.route("k").role == "fallback"
    router.close()


def test_http_router_needs_a_token(server: tuple[str, Store, str]) -> None:
    url, _, _ = server
    router = watchkeeper.Router("credit-risk", url=url, refresh_s=0.2)
    with pytest.raises(Exception, match="401"):
        router.route("k")


def test_router_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one of db="):
        watchkeeper.Router("m")
