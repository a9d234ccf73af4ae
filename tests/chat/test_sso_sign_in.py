"""Single sign-on: people sign in to the agent desktop and the ops page through a real
OpenID Connect provider (authorization code + PKCE), in Chromium; roles come from the
provider's claim, mapped, and a role is refused where it has no business."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.router.app import create_app
from services.router.settings import RouterSettings
from tests.integration.conftest import redis  # noqa: F401 -- a flushed Redis per test
from tests.support.oidc import oidc_provider
from tests.support.poll import until
from tests.support.router_harness import infra_address
from tests.support.serve import free_port, ready, serve

from tests.chat.conftest import ADMIN, ADMIN_TOKEN

pytestmark = pytest.mark.chat

ACCOUNTS = {  # the provider's users: its role names, mapped below
    "ann": {"name": "Ann", "preferred_username": "ann", "roles": ["cc-agent"]},
    "sue": {"name": "Sue", "preferred_username": "sue", "roles": ["cc-supervisor"]},
    "olga": {"name": "Olga", "preferred_username": "olga", "roles": ["cc-ops"]},
    "pat": {"name": "Pat", "preferred_username": "pat", "roles": ["finance"]},
}
ROLE_MAP = {"cc-agent": "agent", "cc-supervisor": "supervisor", "cc-ops": "ops"}


@pytest.fixture
async def sso(infra, redis):  # noqa: F811
    port = free_port()
    app = create_app(RouterSettings(
        kafka_bootstrap=infra_address(infra, "kafka_bootstrap"), redis_url=infra_address(infra, "redis_url"),
        admin_token=ADMIN_TOKEN, router_group=f"test-sso-{uuid.uuid4().hex[:8]}", offset_reset="latest",
        oidc_issuer=f"http://127.0.0.1:{port}", oidc_client_id="omniroute", oidc_client_secret="sso-test-secret",
        oidc_roles=ROLE_MAP))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as http:
        client = {"client_id": "omniroute", "client_secret": "sso-test-secret",
                  "redirect_uris": [f"{url}/auth/callback"], "grant_types": ["authorization_code"]}
        async with oidc_provider(port, client, ACCOUNTS):
            await until(lambda: ready(http, "/readyz"), 30, what="router ready")
            for agent in ("ann", "sue"):
                r = await http.post("/v1/agents", headers=ADMIN, json={
                    "id": agent, "name": agent.title(), "skills": {"support": 3}, "channels": ["chat"], "capacity": 2})
                assert r.status_code == 201, r.text
            yield http


async def sign_in(page, base: str, to: str, login: str):
    """From the page's own sign-on link, through the provider's sign-in and consent."""
    await page.goto(f"{base}/{to}")
    await page.locator("#sso").click()
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill("any password: a development provider")
    await page.locator("button[type=submit]").click()
    await page.get_by_role("button", name="Continue").click()  # consent to share the profile


async def agent_state(http: httpx.AsyncClient, agent: str) -> str:
    return (await http.get(f"/v1/agents/{agent}", headers=ADMIN)).json()["state"]


async def test_an_agent_signs_in_to_the_desktop_and_is_refused_the_ops_page(sso, pages):
    base = str(sso.base_url).rstrip("/")
    page = await pages()
    await sign_in(page, base, "desktop", "ann")
    await page.locator("#app").wait_for(state="visible")
    assert "#" not in page.url  # the session token left the address at once
    await until(lambda: _is(agent_state(sso, "ann"), "available"), 10, what="ann signed in and available")
    token = await page.evaluate("JSON.parse(sessionStorage.getItem('omniroute.agent')).token")
    me = {"Authorization": f"Bearer {token}"}
    assert (await sso.get("/v1/agents/ann", headers=me)).status_code == 200
    assert (await sso.get("/v1/agents/sue", headers=me)).status_code == 403  # only her own work
    assert (await sso.get("/v1/stats", headers=me)).status_code == 401  # not a supervisor

    # The ops page: the provider knows her (no second sign-in), Omniroute refuses her role.
    answer = await page.goto(f"{base}/auth/login?to=ops")  # redirected there and back at once
    assert answer.status == 403
    assert "the ops page is for supervisors, ops and admins; your roles: agent" in await page.content()

    # Signing out ends the session: the token opens nothing any more.
    await page.goto(f"{base}/desktop")
    await page.locator("#signout").click()
    await until(lambda: _is(agent_state(sso, "ann"), "offline"), 10, what="ann signed out")
    await until(lambda: _status(sso.get("/v1/agents/ann", headers=me), 401), 10, what="session ended")


async def test_a_supervisor_opens_the_ops_page_and_ops_may_not_take_contacts(sso, pages):
    base = str(sso.base_url).rstrip("/")
    sue = await pages()
    await sign_in(sue, base, "ops", "sue")
    await sue.wait_for_function("document.body.dataset.ready === '1'")  # the live stats arrived over the socket
    assert "#" not in sue.url
    token = await sue.evaluate("localStorage.getItem('omniroute.ops.token')")
    assert (await sso.get("/v1/stats", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    assert (await sso.post("/v1/agents", headers={"Authorization": f"Bearer {token}"},
                           json={"id": "x", "name": "X", "skills": {}, "channels": ["chat"]})).status_code == 403

    olga = await pages()
    await sign_in(olga, base, "desktop", "olga")
    await olga.locator("h1", has_text="Not signed in").wait_for()
    assert "the desktop is for agents and supervisors; your roles: ops" in await olga.content()

    pat = await pages()  # a company account with no Omniroute role at all
    await sign_in(pat, base, "ops", "pat")
    await pat.locator("h1", has_text="Not signed in").wait_for()
    assert "your account has no Omniroute role" in await pat.content()


async def test_a_callback_is_used_once(sso):
    r = await sso.get("/auth/login", params={"to": "desktop"})
    assert r.status_code == 303 and "code_challenge_method=S256" in r.headers["location"]
    forged = await sso.get("/auth/callback", params={"state": "not-one-we-sent", "code": "x"})
    assert forged.status_code == 401 and "unknown or already used" in forged.text


async def _is(value, expected) -> bool:
    return await value == expected


async def _status(response, code: int) -> bool:
    return (await response).status_code == code


async def test_a_provider_that_cannot_be_reached_is_a_clear_refusal(infra, redis):  # noqa: F811
    app = create_app(RouterSettings(
        kafka_bootstrap=infra_address(infra, "kafka_bootstrap"), redis_url=infra_address(infra, "redis_url"),
        admin_token=ADMIN_TOKEN, router_group=f"test-sso-{uuid.uuid4().hex[:8]}", offset_reset="latest",
        oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="omniroute", oidc_timeout_s=2))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as http:
        r = await http.get("/auth/login", params={"to": "ops"})
        assert r.status_code == 401 and "cannot be reached" in r.text and "Sign in again" in r.text
