"""The dashboard in real headless Chromium against a real server on loopback, over a store
filled by the real loop: sign in, fleet, model page charts, an incident (acknowledge through
the form, a change by someone else arriving without a reload), the post-mortem editor.
Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import Tier
from watchkeeper.engine import access
from watchkeeper.incidents import service as incidents
from watchkeeper.store import Store
from watchkeeper.web.app import create_server_app
from web.seed import T0, policy_in, run_loop

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    policy = policy_in(tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'wk.db'}")
    clock = ManualClock(T0)
    run_loop(store, policy, tmp_path / "wkdata", clock)
    with store.session() as s:
        token, _ = access.create_token(s, name="alice", role="model_owner", models=["*"],
                                       created_by="test", now=clock.now())
        drift = incidents.list_incidents(s, model="credit-risk")[0].id
        manual = incidents.open_incident(s, model="credit-risk", tier=Tier.T2,
                                         title="Approval rate fell <b>sharply</b>",
                                         actor="test", now=clock.now()).id
    port = _free_port()
    state = AppState(store=store, data_dir=tmp_path / "wkdata", policy=policy, clock=clock,
                     base_url=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(create_server_app(state), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "drift": drift,
               "manual": manual, "store": store, "clock": clock}
    finally:
        srv.should_exit = True
        thread.join(10)
        store.close()


def test_click_path_through_an_incident(server: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = server["url"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and "/login" not in r.url else None)
        external: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(base) else external.append(r.url))

        # Sign in (redirected there from the fleet page).
        page.goto(base + "/")
        expect(page).to_have_url(base + "/login?next=/")
        page.fill("input[name=token]", "wk_wrong")
        page.click("button[type=submit]")
        expect(page.locator(".flash.error")).to_contain_text("not accepted")
        page.fill("input[name=token]", server["token"])
        page.screenshot(path=ARTIFACTS / "01-login.png")
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/")

        # Fleet: heatmap and tier bars drawn by plotly.js (svg present).
        page.wait_for_selector("#chart-heatmap .main-svg")
        page.wait_for_selector("#chart-tiers .main-svg")
        expect(page.locator("#open-incidents")).to_contain_text("Approval rate fell")
        page.screenshot(path=ARTIFACTS / "02-fleet.png", full_page=True)

        # Model page: score timeline, drift heatmap, reference-vs-current distribution.
        page.click("#models a:text('credit-risk')")
        for chart in ("score", "contributors", "drift", "distribution"):
            page.wait_for_selector(f"#chart-{chart} .main-svg")
        assert page.locator("#chart-drift .hm, #chart-drift .heatmaplayer").count() > 0
        page.select_option("select[name=feature]", "income")
        page.click("button:text-is('Show')")
        expect(page).to_have_url(re.compile(r"feature=income"))
        page.wait_for_selector("#chart-distribution .main-svg")
        page.locator("#chart-contributors").screenshot(path=ARTIFACTS / "03b-contributors.png")
        page.screenshot(path=ARTIFACTS / "03-model.png", full_page=True)

        # The drift incident the loop opened: explanation and notifications.
        page.goto(f"{base}/incidents/{server['drift']}")
        expect(page.locator("#explanation li").first).to_be_visible()
        expect(page.locator("#notified")).to_contain_text("delivered")
        expect(page.locator("#notified")).to_contain_text("PD_ROUTING_KEY is not set")
        page.screenshot(path=ARTIFACTS / "04-incident-drift.png", full_page=True)

        # The manual incident: hostile markup shown as text; acknowledge through the form.
        page.goto(f"{base}/incidents/{server['manual']}")
        expect(page.locator("#incident-title")).to_contain_text("<b>sharply</b>")
        page.click("#do-acknowledge")
        expect(page.locator(".flash")).to_have_text("Acknowledged.")
        expect(page.locator("#incident-state")).to_have_text("acknowledged")

        # Someone else comments (another process, straight through the service): the
        # timeline shows it without a reload.
        marker = page.evaluate("() => { window.__same_page = 1; return 1; }")
        with server["store"].session() as s:
            incidents.comment(s, server["manual"], actor="bob", text="rolling back the feed",
                              now=server["clock"].now())
        expect(page.locator("#timeline")).to_contain_text("rolling back the feed",
                                                          timeout=15_000)
        assert page.evaluate("() => window.__same_page") == marker  # no navigation happened
        page.screenshot(path=ARTIFACTS / "05-incident-live.png", full_page=True)

        # Resolve -> post-mortem drafted -> edit and save it.
        page.click("#do-resolve")
        expect(page.locator("#incident-state")).to_have_text("resolved")
        page.fill("textarea[name=summary]", "The income feed doubled after a unit change.")
        page.fill("textarea[name=root_cause]", "Upstream switched cents to euros.")
        page.click("#save-postmortem")
        expect(page.locator(".flash")).to_have_text("Post-mortem saved.")
        page.reload()
        expect(page.locator("textarea[name=summary]")).to_have_value(
            "The income feed doubled after a unit change.")
        page.screenshot(path=ARTIFACTS / "06-postmortem.png", full_page=True)

        metrics = page.request.get(base + "/metrics").text()
        assert 'watchkeeper_notification_failures_total{channel="ops",outcome="dead"}' in metrics
        assert 'watchkeeper_ingest_rows_total{kind="events",model="credit-risk"} 13500.0' in metrics

        page.goto(base + "/audit")
        expect(page.locator("#verify")).to_contain_text("Chain intact")
        page.screenshot(path=ARTIFACTS / "07-audit.png", full_page=True)
        browser.close()
    assert not external, f"requests left the server: {external}"
    assert not errors, errors
