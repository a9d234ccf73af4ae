"""Chat e2e: a real router and chat gateway (uvicorn on free ports) on the real Kafka
and Redis of the `infra` fixture, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass

import httpx
import pytest

from services.chat_gateway.app import create_app as create_chat_app
from services.chat_gateway.settings import ChatSettings
from services.router.app import create_app as create_router_app
from services.router.settings import RouterSettings
from shared import topics
from tests.integration.conftest import redis  # noqa: F401 -- a flushed Redis per test
from tests.support.kafka_watch import Watch
from tests.support.poll import until
from tests.support.router_harness import infra_address, positioned, positioned_all
from tests.support.serve import ready, serve
from tests.support.tools import require

ADMIN_TOKEN = "chat-test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHROMIUM = os.environ.get("OMNIROUTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
CONNECT_RATE = 40


@dataclass
class Stack:
    router_url: str
    chat_url: str
    http: httpx.AsyncClient
    routing: Watch
    contacts: Watch

    admin = ADMIN  # the router's admin token header

    @property
    def ws_url(self) -> str:
        return self.chat_url.replace("http://", "ws://") + "/ws"

    async def agent(self, agent_id: str, name: str, skills=None, capacity: int = 100, login: bool = False) -> str:
        r = await self.http.post(f"{self.router_url}/v1/agents", headers=ADMIN, json={
            "id": agent_id, "name": name, "skills": skills or {"support": 3}, "channels": ["chat"],
            "capacity": capacity})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        if login:
            r = await self.http.post(f"{self.router_url}/v1/agents/{agent_id}/login",
                                     headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
        return token


@pytest.fixture
def stack_policy() -> dict:
    """The routing policy both services read: a module overrides it ({"policy_file": ...})."""
    return {}


@pytest.fixture
async def stack(infra, redis, stack_policy):  # noqa: F811 -- redis: a clean routing and chat state per test
    kafka, redis_url = infra_address(infra, "kafka_bootstrap"), infra_address(infra, "redis_url")
    group = f"test-chat-router-{uuid.uuid4().hex[:8]}"
    router_app = create_router_app(RouterSettings(
        kafka_bootstrap=kafka, redis_url=redis_url, admin_token=ADMIN_TOKEN, router_group=group,
        offset_reset="latest", timer_interval_ms=50, **stack_policy))
    chat_app = create_chat_app(ChatSettings(
        kafka_bootstrap=kafka, redis_url=redis_url, chat_secret="chat-test-secret", chat_abandon_grace_s=5.0,
        chat_connect_rate_per_min=CONNECT_RATE, replica=group, **stack_policy))  # its own consumer group
    async with (
        serve(router_app) as router_url,
        serve(chat_app) as chat_url,
        Watch(kafka, topics.ROUTING, topics.AGENTS) as routing,
        Watch(kafka, topics.CONTACTS, topics.MESSAGES) as contacts,
        httpx.AsyncClient(timeout=10, trust_env=False) as http,
    ):
        await positioned_all(router_app.state.service)  # the stats consumer too: surveys see every contact
        await positioned(chat_app.state.service.gateway.consumer, "chat gateway partition assignment")
        await until(lambda: ready(http, f"{chat_url}/readyz"), 30, what="chat gateway ready")
        await until(lambda: ready(http, f"{router_url}/readyz"), 30, what="router ready")
        yield Stack(router_url=router_url, chat_url=chat_url, http=http, routing=routing, contacts=contacts)


@pytest.fixture(scope="session")
async def browser():
    require(CHROMIUM, "chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def pages(browser):
    """New isolated browser contexts; every page records dialogs (none may fire)."""
    contexts, dialogs = [], []

    async def new_page(context=None, width: int = 1280, height: int = 800):
        if context is None:
            context = await browser.new_context(viewport={"width": width, "height": height})
            contexts.append(context)
        page = await context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
        return page

    new_page.dialogs = dialogs
    yield new_page
    for c in contexts:
        await c.close()
