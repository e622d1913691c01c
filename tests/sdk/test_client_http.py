"""The SDK Client over real HTTP (uvicorn on loopback): Arrow IPC batches, the same BatchResult
as embedded mode, quarantined rows named, errors as the embedded client raises them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import uvicorn

import watchkeeper
from watchkeeper.api.app import create_app
from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.core.errors import NotFoundError, PermissionDenied
from watchkeeper.engine import access
from watchkeeper.ingest import BatchResult, IngestService
from watchkeeper.policy import parse_policy
from watchkeeper.store import Store

STARTER = Path(watchkeeper.policy.__file__).with_name("starter.yaml")


def frame(n: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(start)
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(start, start + n)],
        "timestamp": pd.date_range(end=pd.Timestamp(SYSTEM_CLOCK.now()).floor("h"), periods=n,
                                   freq="s"),
        "income": rng.gamma(2.0, 20_000.0, n),
        "age": rng.integers(18, 90, n).astype(float),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "probability": rng.random(n),
    })


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, AppState, dict[str, str]]]:
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    policy = parse_policy(STARTER.read_text(), str(STARTER))
    state = AppState(store=store, data_dir=tmp_path / "data", policy=policy)
    tokens = {}
    with store.session() as s:
        for name, role in (("pipeline", "model_owner"), ("viewer", "viewer")):
            tokens[name], _ = access.create_token(s, name=name, role=role, created_by="t",
                                                  now=SYSTEM_CLOCK.now())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", state, tokens
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()


def test_http_client_returns_what_the_embedded_client_returns(
        server: tuple[str, AppState, dict[str, str]], tmp_path: Path) -> None:
    url, state, tokens = server
    df = frame(2000)
    df.loc[5, "age"] = 7.0  # below the schema's min of 18
    with watchkeeper.Client(url=url, token=tokens["pipeline"]) as wk:
        result = wk.log_predictions("credit-risk", df)
        again = wk.log_predictions("credit-risk", df.head(10))
        labels = wk.log_labels("credit-risk", [{"event_id": "e1", "label": 1}])
    assert isinstance(result, BatchResult)
    assert (result.n_rows, result.n_new, result.n_quarantined) == (2000, 1999, 1)
    assert (result.problems[0].row, result.problems[0].field) == (6, "age")
    assert (again.n_new, again.n_duplicates) == (0, 9)
    assert labels.n_new == 1
    stored = IngestService(state.store, state.policy, state.data_dir).read_events(
        "credit-risk", with_labels=False)
    assert stored.num_rows == 1999
    embedded = watchkeeper.Client(db=f"sqlite:///{tmp_path}/other.db", policy=state.policy,
                                  data_dir=tmp_path / "other")
    local = embedded.log_predictions("credit-risk", df)
    embedded.close()
    assert (local.n_rows, local.n_new, local.n_quarantined) == (2000, 1999, 1)
    assert [str(p) for p in local.problems] == [str(p) for p in result.problems]


def test_http_client_errors(server: tuple[str, AppState, dict[str, str]]) -> None:
    url, _, tokens = server
    with (watchkeeper.Client(url=url, token=tokens["viewer"]) as wk,
          pytest.raises(PermissionDenied, match=r"HTTP 403.*operate")):
        wk.log_predictions("credit-risk", frame(3))
    with (watchkeeper.Client(url=url, token="wk_forged") as wk,
          pytest.raises(PermissionDenied, match="HTTP 401")):
        wk.log_predictions("credit-risk", frame(3))
    with watchkeeper.Client(url=url, token=tokens["pipeline"]) as wk:
        with pytest.raises(NotFoundError, match="credit-risk"):
            wk.log_predictions("no-such-model", frame(3))
        with pytest.raises(Exception, match="embedded"):
            wk.read_events("credit-risk")
