"""The playground over real sockets: Playwright driving Debian's Chromium headless through the
page, and a bounded load test (10 sessions × 20 s). Servers bind 127.0.0.1 on a free port."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from deepdyn.app import create_app
from deepdyn.app._load import background_server, measure, rss_bytes

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery" / "playground.png"


@pytest.fixture(scope="module")
def server_url():
    with background_server(create_app(max_sessions=12)) as url:
        yield url


def _canvas(page, cid: str) -> str:
    return str(page.evaluate(f"document.getElementById('{cid}').toDataURL()"))


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt)")
def test_browser_end_to_end(server_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server_url + "/")
        page.wait_for_function("window.playground.frame !== null", timeout=20_000)
        # choose settings: each change reconfigures the session
        page.select_option("select[name=dataset]", "rings")
        page.select_option("select[name=architecture]", "resnet")
        page.fill("input[name=width]", "3")
        page.fill("input[name=depth]", "8")
        page.dispatch_event("input[name=depth]", "change")
        page.fill("input[name=lr]", "0.05")
        page.dispatch_event("input[name=lr]", "change")
        page.wait_for_function(
            "window.playground.setup && window.playground.setup.depth === 8 "
            "&& window.playground.setup.settings.lr === 0.05 && window.playground.frame.step === 0",
            timeout=20_000,
        )
        before = _canvas(page, "levels")
        page.click("#start")
        page.wait_for_function(
            "(() => { const l = window.playground.frame.loss.train;"
            " return l.length > 5 && l[l.length - 1] < 0.7 * l[0]; })()",
            timeout=60_000,
        )
        page.click("#pause")
        page.wait_for_selector("text=paused", timeout=10_000)
        assert _canvas(page, "levels") != before  # the level sets moved
        assert page.inner_text("#layer-label") == "8 / 8"
        grid_end = _canvas(page, "grid")
        page.eval_on_selector(
            "#layer", "e => { e.value = 0; e.dispatchEvent(new Event('input')); }"
        )
        assert page.inner_text("#layer-label") == "0 / 8"
        assert _canvas(page, "grid") != grid_end  # layer 0 is the undeformed grid
        page.eval_on_selector(
            "#layer", "e => { e.value = 4; e.dispatchEvent(new Event('input')); }"
        )
        page.click("#play")  # the layers play from 0 to L
        page.wait_for_function("document.getElementById('layer-label').textContent === '8 / 8'")
        page.wait_for_function(  # and the play stops at L
            "document.getElementById('play').textContent.startsWith('▶')", timeout=5_000
        )
        page.click("#export")
        page.wait_for_function("document.getElementById('exported').textContent.length > 0")
        assert "deepdyn run train" in page.inner_text("#exported")
        shot = tmp_path / "playground.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("DEEPDYN_UPDATE_GALLERY") == "1":  # refresh the README's picture
            shutil.copyfile(shot, GALLERY)
        # the scrubber replays the first snapshot, τ = 0
        page.eval_on_selector(
            "#scrub", "e => { e.value = 0; e.dispatchEvent(new Event('input')); }"
        )
        page.wait_for_function(
            "window.playground.frame.replay && window.playground.frame.step === 0"
        )
        page.click("#reset")
        page.wait_for_function(
            "window.playground.frame.step === 0 && !window.playground.frame.replay"
        )
        assert page.inner_text("#step-label") == "0"
        assert errors == []
        browser.close()


@pytest.mark.slow
def test_ten_sessions_for_twenty_seconds(server_url):
    settings = {"dataset": "rings", "architecture": "resnet", "width": 2, "depth": 20,
                "points": 1000}  # fmt: skip
    measure(server_url, settings, sessions=1, seconds=2)  # warm up
    rss0 = rss_bytes()
    results = measure(server_url, settings, sessions=10, seconds=20)
    rss1 = rss_bytes()
    for r in results:
        assert r["errors"] == [] and r["frames"] >= 20, r  # ≥ 1 update/s to every session
        assert r["max_gap"] < 5.0, r
    assert rss1 - rss0 < 500 * 2**20  # 10 × 8 MiB snapshots and the rest stay bounded
    deadline = time.monotonic() + 10
    while (health := httpx.get(server_url + "/api/health").json())["tasks"] and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert health["sessions"] == 0 and health["tasks"] == 0  # every task ended with its socket
    assert httpx.get(server_url + "/api/options").status_code == 200  # still serving
