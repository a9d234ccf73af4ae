"""A progressive outbound campaign end to end: the router offers each target to a free
agent first; once the agent accepts, the voice gateway dials the customer through the
trunk (sipp plays every customer: numbers ending in 9 are busy, the others answer and
are REFERred to the agent's phone, another sipp). Busy targets are tried again after the
campaign's wait, up to its attempts; a number on the do-not-contact list is never dialled;
there are never more calls than agents reserved for them."""

import asyncio
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.router.domain.commands import RefreshStats

from tests.support.poll import until
from tests.support.router_harness import ADMIN
from tests.voice import sipp
from tests.voice.conftest import voice_gateway
from tests.voice.support import phone_agent

pytestmark = pytest.mark.voice

ANSWERING = ["+15550201", "+15550202", "+15550203", "+15550204"]
BUSY = ["+15550209", "+15550219"]
BARRED = "+15550205"
CALLS = len(ANSWERING) + 2 * len(BUSY)  # busy ones twice: max_attempts 2


class Desk:
    """The agents at their desks: accept every campaign offer at once, and complete each
    call once the customer is through to their phone."""

    def __init__(self, harness, voice, auth: dict[str, dict]):
        self.h, self.voice, self.auth = harness, voice, auth
        self.done: set[str] = set()
        self.most_dialling = 0  # calls being dialled at once, at most
        self.most_reserved = 0  # agents holding a campaign contact at once, at most
        self.overdialled: list[tuple[int, int]] = []

    async def work(self) -> None:
        while True:
            await self.sample()
            for offer in self.h.routing.of("offer.issued"):
                o = offer.data
                if o.contact_id.startswith("cmp-") and o.offer_id not in self.done:
                    self.done.add(o.offer_id)
                    await self.h.http.post(f"/v1/offers/{o.offer_id}/accept", headers=self.auth[o.agent_id])
            for cid, live in list(self.voice.deps.by_contact.items()):
                if cid.startswith("cmp-") and live.call.phase == "connected" and cid not in self.done:
                    self.done.add(cid)
                    agent = next(e.data.agent_id for e in self.h.routing.of("contact.assigned", contact_id=cid))
                    await self.h.http.post(f"/v1/contacts/{cid}/complete", headers=self.auth[agent])
            await asyncio.sleep(0.01)

    async def sample(self) -> None:
        dialling = len(self.voice.deps.dialing)
        reserved = sum([len([c for c in await self.h.service.deps.store.agent_contacts(a) if c.startswith("cmp-")])
                        for a in self.auth])
        self.most_dialling, self.most_reserved = max(self.most_dialling, dialling), max(self.most_reserved, reserved)
        if dialling > reserved:
            self.overdialled.append((dialling, reserved))


async def test_a_campaign_dials_only_for_reserved_agents_and_retries_per_its_rules(harness, tmp_path):
    trunk_port, ann_port, bob_port = sipp.free_ports(3)
    async with voice_gateway(harness, voice_trunk=f"127.0.0.1:{trunk_port}", voice_callback_ring_s=5) as voice:
        customers = await sipp.run("campaign_customers.xml", 0, tmp_path / "customers", uas=True, calls=CALLS,
                                   local_port=trunk_port, keys={"gw_host": "127.0.0.1", "gw_port": voice.sip.port})
        phones = [await sipp.run("sn:uas", 0, tmp_path / name, uas=True, local_port=port, calls=100)
                  for name, port in (("ann", ann_port), ("bob", bob_port))]
        auth = {"ann": await phone_agent(harness, "ann", {"support": 1}, f"sip:ann@127.0.0.1:{ann_port}"),
                "bob": await phone_agent(harness, "bob", {"support": 1}, f"sip:bob@127.0.0.1:{bob_port}")}
        r = await harness.http.post("/v1/do-not-contact", headers=ADMIN, json={"addresses": [BARRED]})
        assert r.status_code == 204, r.text
        targets = [{"id": f"t{n[-2:]}", "number": n} for n in [*ANSWERING, BARRED, *BUSY]]
        r = await harness.http.post("/v1/campaigns", headers=ADMIN, json={
            "id": "renewals", "channel": "voice", "queue": "support", "max_attempts": 2, "agent_share": 1.0,
            "retry_s": {"busy": 1, "no_answer": 1, "failed": 1}, "targets": targets})
        assert r.status_code == 201, r.text

        desk = Desk(harness, voice, auth)
        working = asyncio.create_task(desk.work())
        try:
            finished = await until(lambda: _finished(harness), 120, interval=0.2, what="the campaign finished")
        finally:
            working.cancel()
        await customers.done()
        for phone in phones:
            phone.proc.kill()
            await phone.proc.wait()

    assert customers.ok, customers.explain()
    assert desk.overdialled == [] and desk.most_dialling <= 2, (desk.overdialled, desk.most_dialling)
    assert desk.most_reserved == 2  # both agents were used at once
    assert (finished["done"], finished["exhausted"], finished["attempts"]) == (7, 2, CALLS)
    assert finished["outcomes"] == {"completed": 4, "busy": 4, "do_not_contact": 1}

    called = re.findall(r"CALLED sip:(\+\d+)@\S+ AT (\d+)", customers.files("logs"))
    numbers = [n for n, _ in called]
    assert sorted(set(numbers)) == sorted([*ANSWERING, *BUSY]) and BARRED not in numbers
    assert all(numbers.count(n) == 2 for n in BUSY) and all(numbers.count(n) == 1 for n in ANSWERING)
    for n in BUSY:  # the second call waited the campaign's retry (1 s) after the first
        first, second = sorted(int(t) for m, t in called if m == n)
        assert second - first >= 1000, (n, first, second)
    ends = harness.routing.of("campaign.attempt_ended")
    assert {(e.data.target_id, e.data.attempt, e.data.outcome) for e in ends if e.data.outcome == "busy"} == {
        (f"t{n[-2:]}", k, "busy") for n in BUSY for k in (0, 1)}

    # Its progress is in the stats report (the ops page's) and in Prometheus.
    reported = await until(lambda: _reported(harness), 20, what="the campaign in the stats report")
    assert reported["outcomes"] == finished["outcomes"] and reported["state"] == "finished"
    assert await until(lambda: _counted(harness, {"completed": 4, "busy": 4, "do_not_contact": 1}), 20,
                       what="omniroute_campaign_attempts_total")


async def _reported(harness) -> dict | None:
    await harness.service.bus.handle(RefreshStats())
    report = (await harness.http.get("/v1/stats", headers=ADMIN)).json()
    return next((c for c in report["campaigns"] if c["id"] == "renewals" and c["state"] == "finished"), None)


async def _counted(harness, expected: dict[str, int]) -> bool:
    text = (await harness.http.get("/metrics", follow_redirects=True)).text
    return expected == {s.labels["outcome"]: int(s.value) for family in text_string_to_metric_families(text)
                        for s in family.samples
                        if s.name == "omniroute_campaign_attempts_total" and s.labels.get("campaign") == "renewals"}


async def _finished(harness) -> dict | None:
    r = await harness.http.get("/v1/campaigns/renewals", headers=ADMIN)
    return r.json() if r.status_code == 200 and r.json()["state"] == "finished" else None
