"""Helpers for the voice e2e tests."""

from tests.support.poll import until
from tests.support.router_harness import ADMIN


async def phone_agent(harness, agent_id: str, skills: dict, sip_uri: str) -> dict:
    """An agent with a desk phone (sip_uri), logged in; returns their auth header."""
    r = await harness.http.post("/v1/agents", headers=ADMIN, json={
        "id": agent_id, "name": agent_id.title(), "skills": skills, "channels": ["voice", "chat", "email"],
        "capacity": 100, "sip_uri": sip_uri})
    assert r.status_code == 201, r.text
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await harness.http.post(f"/v1/agents/{agent_id}/login", headers=auth)
    assert r.status_code == 200, r.text
    return auth


async def created_for(contacts_topic, caller: str, timeout: float = 30):
    """The contact.created the gateway published for this caller number."""
    found = await until(lambda: [e for e in contacts_topic.of("contact.created") if e.data.customer.id == caller],
                        timeout, what=f"contact.created for {caller}")
    return found[0]
