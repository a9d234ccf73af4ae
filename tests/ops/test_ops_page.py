"""The ops page in Chromium under demo traffic: live table, plots, agents, staffing,
feedback, outbound campaigns. Saves docs/screenshots/ops.png when OMNIROUTE_UPDATE_SCREENSHOTS=1."""

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from tests.ops.traffic import simulate
from tests.support.poll import until
from tests.support.router_harness import ADMIN
from tests.support.tools import require

pytestmark = [pytest.mark.ops, pytest.mark.integration]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "ops.png"


@pytest.fixture
def chromium() -> str:
    return require(CHROMIUM, "chromium")


async def _settled(h) -> dict:
    """Stats once the projector has stopped moving (the clock stands still now)."""
    seen = []

    async def same_twice():
        seen.append((await h.http.get("/v1/stats", headers=ADMIN)).json())
        await asyncio.sleep(0.3)
        return len(seen) > 1 and seen[-1] == seen[-2] and seen[-1]
    return await until(same_twice, 20, what="stats to settle")


def _pct(x):
    return "–" if x is None else f"{100 * x:.1f} %"


async def test_ops_page_shows_live_queues_under_demo_traffic(served, clock, chromium, tmp_path):
    from playwright.async_api import async_playwright

    h = served
    r = await h.http.post("/v1/campaigns", headers=ADMIN, json={  # an email campaign, sent while the traffic runs
        "id": "spring", "name": "Spring renewals", "channel": "email", "queue": "support", "subject": "Renewal",
        "body": "Hello {name}", "targets": [{"id": "a", "email": "a@example.com"}, {"id": "b", "email": "b@example.com"}]})
    assert r.status_code == 201, r.text
    await simulate(h, clock)
    stats = await _settled(h)
    staffing = (await h.http.get("/v1/staffing", headers=ADMIN)).json()
    assert stats["center"]["today"]["offered"] > 40 and stats["center"]["today"]["surveys"] > 5
    busiest = max(stats["queues"], key=lambda q: q["today"]["offered"])
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        await page.goto(f"{h.base_url}/ops#token=test-admin-token")
        await page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        await page.wait_for_selector("#queues tr:nth-child(2)")
        expected = _pct(stats["center"]["15m"]["service_level"])
        await page.wait_for_function("t => document.getElementById('kpis').innerText.includes(t)", arg=expected,
                                     timeout=10_000)
        table = await page.inner_text("#queues")
        assert busiest["queue"] in table and str(busiest["today"]["offered"]) in table
        assert "not ready" in await page.inner_text("#agents")
        advised = [s for s in staffing["queues"] if s["erlang_c"]]
        assert advised and advised[0]["queue"] in await page.inner_text("#staffing")
        assert "Complaints" in await page.inner_text("#feedback")
        campaigns = await page.inner_text("#campaigns")
        assert "Spring renewals" in campaigns and "finished" in campaigns and "sent 2" in campaigns
        # the plots drew lines from the pushed history (not a blank canvas)
        painted = await page.evaluate("""() => {
            const c = document.getElementById('waitingPlot'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && (d[i] < 200 || d[i + 2] < 200)) n++; return n; }""")
        assert painted > 500
        shot = tmp_path / "ops.png"
        await page.screenshot(path=str(shot), full_page=True)
        await browser.close()
    if os.environ.get("OMNIROUTE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOT)
