"""Demo traffic on an injected clock: agents, arrivals with a mid-run peak, accepts,
completions, abandons and surveys, so the ops page has something to show."""

from __future__ import annotations

import random

from shared.cloudevents import new_event
from shared.events import ContactEnded, event_type
from shared.kafka import publish
from shared.survey import survey_url
from tests.support.poll import until

AGENTS = [  # id, skills, channels
    ("ada", {"support": 5, "billing": 4}, ["voice", "chat"]),
    ("ben", {"support": 3, "complaints": 4}, ["voice", "chat", "email"]),
    ("cleo", {"billing": 5, "support": 2}, ["chat", "email"]),
    ("dev", {"support": 4, "complaints": 2, "billing": 3}, ["voice", "chat"]),
    ("eli", {"support": 2}, ["email", "chat"]),
    ("fay", {"support": 4, "billing": 3, "complaints": 5}, ["voice", "chat", "email"]),
    ("gil", {"support": 3}, ["voice"]),
]
HANDLE_S = {"voice": 180, "chat": 240, "email": 420}
PATIENCE_S = {"voice": 240, "chat": 420, "email": 100_000}
STEP_S = 20


async def end_contact(h, contact_id: str) -> None:
    await publish(h.producer, new_event(event_type("contact.ended"), ContactEnded(contact_id=contact_id),
                                        source="tests", key=contact_id))


async def caught_up(h, published: int) -> None:
    """Wait until the projector has handled everything on the watched topics."""
    await until(lambda: h.ops.handled >= len(h.routing.events) + published, 20, what="stats projector catching up")


def _arrivals_per_step(minute: float) -> float:
    return 1.9 if 8 <= minute < 14 else 0.7  # a peak that builds a queue, then drains


async def _accept_offers(h, auth, waiting, working, rng, t) -> None:
    """Every agent takes what it is offered (the same tick: offers expire in 20 s)."""
    for aid in auth:
        for offer in (await h.http.get(f"/v1/agents/{aid}/offers", headers=auth[aid])).json():
            r = await h.http.post(f"/v1/offers/{offer['id']}/accept", headers=auth[aid])
            if r.status_code == 200:
                channel = waiting.pop(offer["contact"], (0, "chat"))[1]
                working[offer["contact"]] = (t + rng.expovariate(1 / HANDLE_S[channel]), aid)


async def simulate(h, clock, minutes: int = 24, seed: int = 7) -> dict:
    rng = random.Random(seed)
    auth = {}
    for aid, skills, channels in AGENTS:
        auth[aid] = await h.agent(aid, skills, channels=channels, capacity=100)
    await h.http.put("/v1/agents/gil/state", headers=auth["gil"], json={"state": "not_ready", "reason": "training"})
    waiting: dict[str, tuple[float, str]] = {}  # contact -> (gives up at, channel)
    working: dict[str, tuple[float, str]] = {}  # contact -> (done at, agent)
    published = 0
    for step in range(minutes * 60 // STEP_S):
        t = step * STEP_S
        clock.at(t)
        for _ in range(_poisson(rng, _arrivals_per_step(t / 60))):
            channel = rng.choice(["voice", "voice", "chat", "chat", "email"])
            intent = rng.choice(["general", "general", "general", "billing", "complaint"])
            cid = await h.contact(channel=channel, intent=intent)
            published += 1
            await h.routing.wait("contact.queued", contact_id=cid)
            waiting[cid] = (t + rng.expovariate(1 / PATIENCE_S[channel]), channel)
        for cid, (done_at, aid) in list(working.items()):
            if done_at <= t:
                await h.http.post(f"/v1/contacts/{cid}/complete", headers=auth[aid], json={"disposition": "solved"})
                del working[cid]
                if rng.random() < 0.5:
                    score = rng.choice([5, 5, 4, 4, 4, 3, 2, 1])
                    token = survey_url("", h.ops.settings.survey_secret.get_secret_value(), cid).split("t=")[1]
                    await h.http.post(f"/survey/{cid}", json={"t": token, "score": score, "complaint": score <= 2})
                    published += 1
        for cid, (gives_up, _) in list(waiting.items()):
            if gives_up <= t:
                await end_contact(h, cid)
                published += 1
                del waiting[cid]
        await _accept_offers(h, auth, waiting, working, rng, t)
        await caught_up(h, published)
        await h.ops.refresh()
    return {"waiting": len(waiting), "working": len(working), "published": published}


def _poisson(rng: random.Random, mean: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828459045, -mean)
    while True:
        p *= rng.random()
        if p < limit:
            return n
        n += 1
