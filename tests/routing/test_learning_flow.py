"""best_outcome learns live from events: a customer's answer on the survey page becomes
survey.submitted on Kafka, the router's routing consumer takes it, and the next
decision uses it. Real Kafka and Redis via the integration harness."""

import pytest

from shared.survey import survey_url
from tests.integration.conftest import harness, redis  # noqa: F401  (fixtures)
from tests.support.poll import until
from tests.support.router_harness import ADMIN

pytestmark = [pytest.mark.routing, pytest.mark.integration]


async def learning_support(h) -> None:
    doc = (await h.http.get("/v1/policy", headers=ADMIN)).json()["policy"]
    doc["queues"]["support"].update(strategy="best_outcome", preferred_agent_s=0)
    r = await h.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 200, r.text


async def serve_and_survey(h, agent_id: str, auth: dict, score: int) -> str:
    cid = await h.contact(channel="chat", intent="refund")
    offer = await h.routing.wait("offer.issued", contact_id=cid)
    assert offer.data.agent_id == agent_id
    assert (await h.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=auth)).status_code == 200
    r = await h.http.post(f"/v1/contacts/{cid}/complete", headers=auth, json={"disposition": "resolved"})
    assert r.status_code == 200, r.text
    token = survey_url("http://router", h.service.settings.survey_secret.get_secret_value(), cid).split("t=")[1]
    assert (await h.http.post(f"/survey/{cid}", json={"t": token, "score": score})).status_code == 201
    return cid


async def outcome(h, agent_id: str, auth: dict) -> dict:
    r = await h.http.get(f"/v1/agents/{agent_id}/outcomes", headers=auth)
    assert r.status_code == 200, r.text
    return next((o for o in r.json() if (o["intent"], o["channel"]) == ("refund", "chat")), {})


async def test_survey_answers_reach_the_router_and_shape_the_next_decision(harness):
    h = harness
    await learning_support(h)
    ann = await h.agent("ann", {"support": 1}, channels=["chat"], capacity=34)
    bob = await h.agent("bob", {"support": 1}, channels=["chat"], capacity=34, login=False)
    for _ in range(12):
        await serve_and_survey(h, "ann", ann, 1)
    learnt = await until(lambda: _surveys(h, "ann", ann, 12), what="ann's answers learnt")
    assert learnt["csat"] == 1.0 and learnt["completed"] == 12

    # An agent reads only their own; an unknown agent is named.
    assert (await h.http.get("/v1/agents/ann/outcomes", headers=bob)).status_code == 403
    assert (await h.http.get("/v1/agents/nobody/outcomes", headers=ADMIN)).status_code == 404

    # Bob, with no answers yet (the prior, 4.0), is now expected to do far better than Ann
    # (1.6, from twelve answers of 1 and the prior): both free, he gets the refund chats.
    assert (await h.http.post("/v1/agents/bob/login", headers=bob)).status_code == 200
    for _ in range(3):
        cid = await h.contact(channel="chat", intent="refund")
        offer = await h.routing.wait("offer.issued", contact_id=cid)
        assert offer.data.agent_id == "bob"
        assert (await h.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=bob)).status_code == 200
        r = await h.http.post(f"/v1/contacts/{cid}/complete", headers=bob, json={"disposition": "resolved"})
        assert r.status_code == 200, r.text


async def _surveys(h, agent_id: str, auth: dict, n: int) -> dict | None:
    o = await outcome(h, agent_id, auth)
    return o if o.get("surveys") == n else None
