"""Tenancy: two routing domains with the same queue, agent and contact names, served by
one router on one Redis (or cluster) and one Kafka, route independently; a token of one
domain reaches nothing of the other (403, or 404 where the name means nothing there)."""

from __future__ import annotations

import uuid

import pytest

from services.router.adapters.keys import key
from shared import topics
from shared.cloudevents import new_event
from shared.events import ContactCreated, Customer, event_type
from shared.kafka import publish
from tests.integration.conftest import redis  # noqa: F401  (fixture)
from tests.support.domains import policy_per_domain
from tests.support.poll import until
from tests.support.router_harness import ADMIN, running_router

pytestmark = pytest.mark.integration

TOKENS = {"acme": {"admin": "acme-admin", "ops": "acme-ops"}, "globex": {"admin": "globex-admin"}}


def bearer(token: str, domain: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    return headers | ({"Omniroute-Domain": domain} if domain else {})


@pytest.fixture
def policies(tmp_path):
    """The default policy twice, once per domain: the same queues and skills."""
    return policy_per_domain(tmp_path, ("acme", "globex"))


async def contact(h, domain: str, cid: str) -> None:
    data = ContactCreated(id=cid, channel="chat", intent="general", customer=Customer(id=f"cust-{cid}", address="x"))
    await publish(h.producer, new_event(event_type("contact.created"), data, source="tests", key=cid, domain=domain))


def offers_in(h, domain: str, cid: str):
    return [e for e in h.routing.of("offer.issued", contact_id=cid) if e.routing_domain == domain]


async def test_two_domains_with_the_same_names_route_apart_and_tokens_stay_in_their_domain(infra, redis, policies):  # noqa: F811
    async with running_router(infra, policy_file=policies, domain_tokens=TOKENS) as h:
        # The same agent name in both domains (a scoped admin token needs no header; the
        # deployment-wide one names the domain).
        made = {}
        for domain, admin, name in (("acme", bearer("acme-admin"), "Ann Acme"),
                                    ("globex", bearer("test-admin-token", "globex"), "Ann Globex")):
            r = await h.http.post("/v1/agents", headers=admin, json={
                "id": "ann", "name": name, "skills": {"support": 1}, "channels": ["chat"], "capacity": 100})
            assert r.status_code == 201, r.text
            made[domain] = bearer(r.json()["token"])
            assert r.json()["token"].startswith(f"{domain}.")
            assert (await h.http.post("/v1/agents/ann/login", headers=made[domain])).status_code == 200
        assert (await h.http.get("/v1/agents/ann", headers=made["acme"])).json()["name"] == "Ann Acme"
        assert (await h.http.get("/v1/agents/ann", headers=made["globex"])).json()["name"] == "Ann Globex"
        assert await h.redis.hget(key("agent", "ann", domain="acme"), "name") == b"Ann Acme"
        assert await h.redis.hget(key("agent", "ann", domain="globex"), "name") == b"Ann Globex"

        # The same contact id in both domains: two contacts, each offered to its own Ann.
        cid = f"c-{uuid.uuid4().hex[:8]}"
        await contact(h, "acme", cid)
        await contact(h, "globex", cid)
        await until(lambda: offers_in(h, "acme", cid) and offers_in(h, "globex", cid), 20, what="an offer per domain")
        acme_offer, globex_offer = offers_in(h, "acme", cid)[0], offers_in(h, "globex", cid)[0]
        r = await h.http.post(f"/v1/offers/{acme_offer.data.offer_id}/accept", headers=made["acme"])
        assert r.status_code == 200, r.text
        acme_view = (await h.http.get(f"/v1/contacts/{cid}", headers=made["acme"])).json()
        assert acme_view["state"] == "assigned"
        globex_view = (await h.http.get(f"/v1/contacts/{cid}", headers=bearer("globex-admin"))).json()
        assert globex_view["state"] == "offered"  # untouched by the accept in acme

        # An acme token aimed at globex: refused on everything, whatever the name.
        for token in (made["acme"], bearer("acme-admin")):
            other = token | {"Omniroute-Domain": "globex"}
            for method, path in (("GET", "/v1/agents/ann"), ("GET", f"/v1/contacts/{cid}"),
                                 ("POST", f"/v1/offers/{globex_offer.data.offer_id}/accept"),
                                 ("GET", "/v1/queues"), ("GET", "/v1/policy"), ("POST", "/v1/agents/ann/logout")):
                r = await h.http.request(method, path, headers=other)
                assert r.status_code == 403, (method, path, r.status_code, r.text)
        for path in ("/v1/stats", "/v1/stats/history", "/v1/staffing"):
            assert (await h.http.get(path, headers=bearer("acme-ops", "globex"))).status_code == 403
        # A contact only globex has is not found from acme; an unknown domain is a 404.
        only_globex = f"c-{uuid.uuid4().hex[:8]}"
        await contact(h, "globex", only_globex)
        await h.routing.wait("offer.issued", contact_id=only_globex)
        assert (await h.http.get(f"/v1/contacts/{only_globex}", headers=bearer("acme-admin"))).status_code == 404
        assert (await h.http.get("/v1/agents/ann", headers=bearer("test-admin-token", "nowhere"))).status_code == 404
        # A globex policy may not be installed over acme's.
        doc = (await h.http.get("/v1/policy", headers=bearer("acme-admin"))).json()["policy"]
        r = await h.http.put("/v1/policy", headers=bearer("acme-admin"), json={**doc, "domain": "globex"})
        assert r.status_code == 422, r.text

        # Each domain's ops figures count its own agents: acme has a second one.
        r = await h.http.post("/v1/agents", headers=bearer("acme-admin"), json={
            "id": "bob", "name": "Bob", "skills": {"support": 1}, "channels": ["chat"], "capacity": 100})
        assert (await h.http.post("/v1/agents/bob/login", headers=bearer(r.json()["token"]))).status_code == 200

        async def logged_in(headers: dict) -> int:
            snap = (await h.http.get("/v1/stats", headers=headers)).json()
            return sum(n for state, n in snap["center"]["agents"].items() if state != "offline")

        async def counted(headers: dict, expected: int) -> bool:
            return await logged_in(headers) == expected

        await until(lambda: counted(bearer("acme-ops"), 2), 20, what="acme's report: two agents")
        await until(lambda: counted(bearer("test-admin-token", "globex"), 1), 20, what="globex's: one")
        # On /metrics too, by domain (at the next report): Ann of acme holds the contact
        # (busy), Bob is free; Ann of globex has only an offer.
        expected = ('omniroute_agents{domain="acme",state="busy"} 1.0', 'omniroute_agents{domain="acme",state="available"} 1.0',
                    'omniroute_agents{domain="globex",state="available"} 1.0')

        async def exported() -> bool:
            metrics = (await h.http.get("/metrics")).text
            return all(line in metrics for line in expected)

        await until(exported, 20, what="per-domain agent gauges")


async def test_an_event_of_an_unknown_domain_is_dead_lettered_with_the_reason(infra, redis, policies):  # noqa: F811
    async with running_router(infra, policy_file=policies) as h:
        cid = f"c-{uuid.uuid4().hex[:8]}"
        await contact(h, "initech", cid)
        await until(lambda: [r for r in h.deadletter.raw if (r.key or b"").decode() == cid], 20, what="dead letter")
        record = next(r for r in h.deadletter.raw if (r.key or b"").decode() == cid)
        assert b"no routing domain 'initech'" in dict(record.headers)["omniroute_dlq_reason"]
        assert record.topic == topics.DEADLETTER
        # Only acme and globex are served: a request for the default domain finds nothing.
        assert (await h.http.get("/v1/queues", headers=ADMIN)).status_code == 404
