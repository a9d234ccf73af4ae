"""`python -m services.router.demo`: demo agents and generated contacts for `make up`.

Creates a few agents through the router's API, keeps them present (heartbeats), has
them accept offers and complete contacts after a plausible handle time, and produces
a steady stream of chat, email and voice contacts. One agent, `you`, is left for a
human: its token is printed so the agent desktop can sign in with it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import logging as log
from shared.cloudevents import new_event
from shared.events import ContactCreated, Customer, event_type
from shared.kafka import make_producer, publish
from shared.settings import DEV_ADMIN_TOKEN, CommonSettings, secret

AGENTS = [
    ("ada", {"support": 5, "billing": 4}),
    ("ben", {"support": 3, "complaints": 4}),
    ("cleo", {"billing": 5, "support": 2}),
    ("dev", {"support": 4, "complaints": 2, "billing": 3}),
    ("eli", {"support": 2}),
    ("fay", {"support": 4, "billing": 3, "complaints": 5}),
]
INTENTS = ["general", "general", "billing", "complaint"]
CHANNELS = ["chat", "chat", "email", "voice"]
logger = log.get("demo")


class DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_DEMO_", extra="ignore")

    agents: int = 6
    contacts_per_minute: float = 20
    handle_seconds: float = 25
    router_url: str = "http://127.0.0.1:8080"


class AdminToken(CommonSettings):
    admin_token: secret(DEV_ADMIN_TOKEN) = DEV_ADMIN_TOKEN


async def ensure_agent(http: httpx.AsyncClient, admin: dict, agent_id: str, skills: dict) -> dict | None:
    r = await http.post("/v1/agents", headers=admin, json={"id": agent_id, "name": agent_id.title(), "skills": skills})
    if r.status_code == 409:
        return None  # exists from an earlier run; its token was printed then
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def work_as(http: httpx.AsyncClient, agent_id: str, auth: dict, handle_s: float) -> None:
    """A simulated agent: present, accepts what it's offered, completes after a while."""
    await http.post(f"/v1/agents/{agent_id}/login", headers=auth)
    busy: set[str] = set()

    async def handle(contact_id: str) -> None:
        await asyncio.sleep(random.expovariate(1 / handle_s))
        await http.post(f"/v1/contacts/{contact_id}/complete", headers=auth, json={"disposition": "demo"})
        busy.discard(contact_id)

    while True:
        try:
            await http.post(f"/v1/agents/{agent_id}/heartbeat", headers=auth)
            for offer in (await http.get(f"/v1/agents/{agent_id}/offers", headers=auth)).json():
                await asyncio.sleep(random.uniform(0.5, 4))
                if random.random() < 0.1:
                    await http.post(f"/v1/offers/{offer['id']}/decline", headers=auth, json={"reason": "demo"})
                    continue
                r = await http.post(f"/v1/offers/{offer['id']}/accept", headers=auth)
                if r.status_code == 200 and offer["contact"] not in busy:
                    busy.add(offer["contact"])
                    asyncio.create_task(handle(offer["contact"]))
        except httpx.HTTPError as exc:
            logger.warning("demo_agent_error", agent=agent_id, error=repr(exc))
        await asyncio.sleep(1)


async def traffic(settings: DemoSettings, common: CommonSettings) -> None:
    producer = make_producer(common.kafka_bootstrap)
    await producer.start()
    try:
        while True:
            channel, intent = random.choice(CHANNELS), random.choice(INTENTS)
            n = random.randint(1, 60)
            cid = f"demo-{uuid.uuid4().hex[:10]}"
            contact = ContactCreated(id=cid, channel=channel, intent=intent,
                                     customer=Customer(id=f"cust-{n}", address=f"customer{n}@example.com"))
            await publish(producer, new_event(event_type("contact.created"), contact, source="omniroute/demo", key=cid))
            await asyncio.sleep(random.expovariate(settings.contacts_per_minute / 60))
    finally:
        await producer.stop()


async def main() -> None:
    settings, common = DemoSettings(), AdminToken()
    log.configure(common.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the token line
    admin = {"Authorization": f"Bearer {common.admin_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=settings.router_url, timeout=10) as http:
        for n in range(1, 61, 7):  # a few premium and enhanced customers
            tier = "premium" if n % 2 else "enhanced"
            await http.put(f"/v1/customers/cust-{n}", headers=admin, json={"tier": tier})
        you = await ensure_agent(http, admin, "you", {"support": 4, "billing": 4, "complaints": 3})
        if you:
            print(f"agent desktop: sign in as 'you' with token {you['Authorization'].split()[1]}", flush=True)
        workers = []
        for agent_id, skills in AGENTS[: settings.agents]:
            await ensure_agent(http, admin, agent_id, skills)
            # Simulated agents act with the admin token, so a restart finds them again.
            workers.append(work_as(http, agent_id, admin, settings.handle_seconds))
        await asyncio.gather(traffic(settings, common), *workers)


if __name__ == "__main__":
    asyncio.run(main())
