"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback: alerts posted
through the alertmanager notifier come out of its webhook receiver at our loopback server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from escalation.receivers import HttpReceiver
from escalation.samples import sample_notification
from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.notifiers import NOTIFIERS

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BINARY is None, reason="prometheus-alertmanager is not installed "
                                 "(apt-get install -y prometheus-alertmanager; .ci/run does)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: HttpReceiver) -> Iterator[str]:
    config = tmp_path / "alertmanager.yml"
    config.write_text(f"""
route:
  receiver: watchkeeper-test
  group_by: [incident]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: watchkeeper-test
    webhook_configs:
      - url: {receiver.url}/alertmanager
        send_resolved: true
""")
    port = _free_port()
    proc = subprocess.Popen(
        [str(BINARY), f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"alertmanager exited: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        else:
            pytest.fail("alertmanager did not become ready in 30 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_alerts_posted_to_alertmanager_reach_its_webhook(alertmanager: str,
                                                        receiver: HttpReceiver) -> None:
    notifier = NOTIFIERS["alertmanager"](ChannelConfig("am", "alertmanager",
                                                       settings={"url": alertmanager}), {})
    result = notifier.send(sample_notification("trigger"))
    assert result.status_code == 200
    [hook] = receiver.wait_for(1, timeout=20)
    body = hook.json
    assert hook.path == "/alertmanager" and body["status"] == "firing"
    [alert] = body["alerts"]
    assert alert["labels"]["model"] == "credit-risk"
    assert alert["labels"]["incident"] == "watchkeeper-inc_01"
    assert alert["labels"]["severity"] == "error"
    assert alert["annotations"]["dashboard"].endswith("/incidents/inc_01")
    assert "jane@example.com" not in hook.body.decode()

    notifier.send(sample_notification("resolve", key="inc_01:resolve:am"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(r.json["status"] == "resolved" for r in receiver.requests):
            break
        time.sleep(0.2)
    resolved = [r.json for r in receiver.requests if r.json["status"] == "resolved"]
    assert resolved and resolved[0]["alerts"][0]["labels"]["incident"] == "watchkeeper-inc_01"


def test_alertmanager_rejects_a_bad_alert_as_not_retryable(alertmanager: str) -> None:
    from watchkeeper.escalation.notifiers import DeliveryError

    client = httpx.Client()
    response = client.post(alertmanager + "/api/v2/alerts", json=[{"labels": {}}])
    assert response.status_code == 400  # the real server's answer to an alert without labels
    from watchkeeper.escalation.notifiers.base import check_response

    with pytest.raises(DeliveryError) as info:
        check_response("alertmanager", response)
    assert not info.value.retryable
