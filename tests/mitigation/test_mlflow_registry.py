"""The MLflow registry against a real `mlflow server` on loopback (slow: it starts a server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from watchkeeper.core.errors import InputError, NotFoundError
from watchkeeper.mitigation.registry.base import Lineage

# MLflow's telemetry thread edits os.environ while other threads iterate it (a KeyError in
# urllib), and would try to reach the internet: off for these tests and their server.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

mlflow = pytest.importorskip(
    "mlflow", reason="mlflow is not installed (pip install -e '.[mlflow]')"
)

from watchkeeper.mitigation.registry.mlflow import MlflowRegistry  # noqa: E402

from .simulation import fit_champion, matrix, population  # noqa: E402

NOW = datetime(2026, 5, 4, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = open(folder / "log", "wb")  # noqa: SIM115 (closed after the server stops)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--workers",
            "1",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited: {(folder / 'log').read_text()[-2000:]}")
            time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not answer within 120 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.slow
def test_versions_lineage_aliases_and_loading_on_a_real_mlflow_server(mlflow_server: str) -> None:
    reg = MlflowRegistry(mlflow_server)
    v1 = reg.register(
        "credit",
        fit_champion(seed=1),
        lineage=Lineage(
            template="sklearn.logistic",
            params={"threshold": 0.3},
            metrics={"f1": 0.48},
            data_fingerprint="abc",
            n_rows=3000,
        ),
        actor="ana",
        now=NOW,
    )
    v2 = reg.register(
        "credit",
        fit_champion(seed=2),
        lineage=Lineage(template="sklearn.logistic", parent_version=1, incident_id="inc_1"),
        actor="watchkeeper",
        now=NOW,
    )
    assert (v1.version, v2.version) == (1, 2)
    got = reg.get("credit", 1)
    assert got.lineage.params == {"threshold": 0.3} and got.lineage.metrics == {"f1": 0.48}
    assert got.created_by == "ana" and got.created_at == NOW and len(got.artifact_sha256) == 64
    assert reg.get("credit", 2).lineage.parent_version == 1
    assert [v.version for v in reg.versions("credit")] == [1, 2]

    reg.set_alias("credit", "champion", 1, actor="ana", now=NOW)
    reg.set_alias("credit", "canary", 2, actor="watchkeeper", now=NOW)
    assert reg.alias("credit", "champion") == 1 and reg.alias("credit", "canary") == 2
    assert reg.alias("credit", "fallback") is None
    reg.set_alias("credit", "champion", 2, actor="dave", now=NOW)
    assert reg.alias("credit", "champion") == 2
    reg.set_status("credit", 2, "serving")
    assert reg.get("credit", 2).status == "serving"

    x = matrix(population(50, seed=3))
    ours = reg.load("credit", 2)
    mlflow.set_tracking_uri(mlflow_server)
    theirs = mlflow.sklearn.load_model("models:/credit@champion")  # MLflow's own resolution
    assert (ours.predict_proba(x) == theirs.predict_proba(x)).all()

    with pytest.raises(NotFoundError, match="known: 1, 2"):
        reg.get("credit", 7)
    with pytest.raises(InputError, match="unknown alias"):
        reg.set_alias("credit", "production", 1, actor="a", now=NOW)
    with pytest.raises(InputError, match="unknown status"):
        reg.set_status("credit", 1, "great")


@pytest.mark.slow
def test_a_changed_artifact_is_refused(mlflow_server: str, tmp_path: Path) -> None:
    reg = MlflowRegistry(mlflow_server)
    info = reg.register("tamper", fit_champion(seed=1), lineage=Lineage(), actor="a", now=NOW)
    # overwrite the stored model file the way a bad actor on the artifact store would
    reg.client.set_model_version_tag("tamper", "1", "watchkeeper.sha256", "0" * 64)
    with pytest.raises(InputError, match="does not match its checksum"):
        reg.load("tamper", info.version)


@pytest.mark.slow
def test_publish_mirrors_watchkeeper_versions_and_aliases_into_mlflow(
        mlflow_server: str, tmp_path: Path) -> None:
    from watchkeeper.mitigation import service
    from watchkeeper.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'wk.db'}")
    data = tmp_path / "data"
    target = MlflowRegistry(mlflow_server)
    with store.session() as s:
        reg = service.registry(s, data)
        for seed in (1, 2):
            reg.register("mirror", fit_champion(seed=seed), lineage=Lineage(
                data_fingerprint=f"fp{seed}"), actor="ana", now=NOW)
        service.set_champion(s, "mirror", 1, actor="ana", now=NOW, data_dir=data)
        service.set_champion(s, "mirror", 2, actor="ana", now=NOW, data_dir=data)
        first = service.publish(s, "mirror", data, target, actor="ana", now=NOW)
        again = service.publish(s, "mirror", data, target, actor="ana", now=NOW)
    store.close()
    assert first == {"added": [1, 2], "aliases": {"champion": 2, "fallback": 1}}
    assert again["added"] == []
    assert target.alias("mirror", "champion") == 2 and target.get("mirror", 1).status == "retired"
