"""The HTTP entrypoint on a fake store: each route builds a message, the bus handles it,
and a refusal comes back as its status code with the reason. No Redis, no Kafka."""

import httpx
import pytest

from services.router.app import create_app
from services.router.bootstrap import bootstrap
from services.router.settings import RouterSettings
from tests.routing.world import POLICY_FILE
from tests.support.fake_store import FakeStore

pytestmark = [pytest.mark.unit, pytest.mark.routing]
ADMIN = {"Authorization": "Bearer admin-secret"}


class Published(list):
    async def publish(self, event) -> None:
        self.append(event)


@pytest.fixture
async def api():
    store = FakeStore()
    settings = RouterSettings(admin_token="admin-secret", policy_file=POLICY_FILE)
    app = create_app(settings, service=bootstrap(settings, store=store, publisher=Published(), kafka=False))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router") as http:
            http.store = store
            yield http


async def agent(api, agent_id: str, **body) -> dict:
    r = await api.post("/v1/agents", headers=ADMIN, json={"id": agent_id, "name": agent_id, **body})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_callers_need_a_valid_token(api):
    assert (await api.get("/v1/agents/ann")).status_code == 401
    r = await api.get("/v1/agents/ann", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()["detail"], r.headers["www-authenticate"]) == (401, "invalid token", "Bearer")


async def test_agents_act_only_on_their_own_work(api):
    ann = await agent(api, "ann", skills={"support": 2})
    await agent(api, "bob")
    assert (await api.get("/v1/agents/bob", headers=ann)).status_code == 403
    r = await api.post("/v1/agents/ann/login", headers=ann)
    assert (r.status_code, r.json()["state"]) == (200, "available")
    api.store.add_contact("c1")
    api.store.add_offer("of-1", "c1", "bob")
    r = await api.post("/v1/offers/of-1/accept", headers=ann)
    assert (r.status_code, r.json()["detail"]) == (403, "this offer belongs to another agent")
    assert (await api.post("/v1/offers/of-9/accept", headers=ann)).status_code == 404
    assert (await api.get("/v1/contacts/c1", headers=ann)).status_code == 403


async def test_refusals_name_the_reason(api):
    r = await api.post("/v1/agents", headers=ADMIN, json={"id": "cy", "name": "Cy", "channels": ["fax"]})
    assert (r.status_code, r.json()["detail"][0]["msg"]) == (422, "channels: unknown channel(s) ['fax']")
    await agent(api, "cy")
    r = await api.post("/v1/agents", headers=ADMIN, json={"id": "cy", "name": "Cy"})
    assert (r.status_code, r.json()["detail"]) == (409, "agent 'cy' already exists")
    r = await api.put("/v1/customers/k1", headers=ADMIN, json={"tier": "gold"})
    assert r.status_code == 422 and "unknown tier 'gold'" in r.json()["detail"][0]["msg"]
    assert (await api.get("/v1/customers/k1", headers=ADMIN)).status_code == 404


async def test_the_assigned_agent_reads_and_completes_the_contact(api):
    ann = await agent(api, "ann")
    api.store.add_contact("c1", state="assigned", agent="ann", meta='{"topic": "late"}')
    r = await api.get("/v1/contacts/c1", headers=ann)
    assert r.status_code == 200 and r.json()["contact"]["metadata"] == {"topic": "late"}
    assert (await api.post("/v1/contacts/c1/complete", headers=ann)).json() == {"result": "ok"}
    r = await api.post("/v1/contacts/c1/complete", headers=ann)
    assert (r.status_code, r.json()["detail"]) == (409, "contact is not assigned")


async def test_hostile_tokens_and_ids_are_refused_in_http_terms(api):
    r = await api.get("/v1/agents/ann", headers={"Authorization": "Bearer é".encode()})
    assert r.status_code == 401  # not a 500
    assert (await api.get("/v1/stats", headers={"Authorization": "Bearer é".encode()})).status_code == 401
    r = await api.post("/v1/agents", headers=ADMIN, json={"id": "bob:offers", "name": "Bob"})
    assert r.status_code == 422 and "id" in r.text  # ":" would name another agent's keys
