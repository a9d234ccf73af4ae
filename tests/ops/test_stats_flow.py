"""Known traffic through the real router; stats checked against hand-computed figures.

Queue support / chat: SLA 80 % within 60 s (policy.yaml), short abandon 5 s (default).
One agent, ann, with room for one chat. Times are seconds after T0 (injected clock):

  c1  arrives 0,   offered at once, accepted 10    -> answered, wait 10  (in SLA)
  c2  arrives 20,  queued; offered 130, accepted 135 -> answered, wait 115 (missed)
  c3  arrives 30,  leaves 100                       -> abandoned, wait 70
  c4  arrives 40,  leaves 42                        -> short abandon, wait 2 (excluded)
  c1 completed at 130 (handle 120), c2 completed at 165 (handle 30)

  service level = 1 / (2 answered + 1 abandoned) = 1/3    ASA = (10 + 115) / 2 = 62.5 s
  abandon rate  = 1 / 3                                    AHT = (120 + 30) / 2 = 75 s
  occupancy at 180 = 0.34 (chat cost) x (120 + 30) / 180 s available = 51 / 180
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import websockets
import yaml

from services.router.adapters.stats_store import OFFSETS
from services.router.domain.ops import erlang
from shared.survey import survey_url
from tests.support.poll import until
from tests.support.router_harness import ADMIN

pytestmark = [pytest.mark.ops, pytest.mark.integration]


ROOT = Path(__file__).resolve().parents[2]


def _family(name: str) -> str:
    return re.sub(r"_(total|bucket|sum|count|created)$", "", name)


def _dashboard_and_rule_metrics() -> set[str]:
    dash = json.loads((ROOT / "deploy/grafana/dashboards/omniroute.json").read_text())
    groups = yaml.safe_load((ROOT / "deploy/prometheus/rules/omniroute.yml").read_text())["groups"]
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]] + [r["expr"] for g in groups for r in g["rules"]]
    return {_family(n) for n in re.findall(r"(?<![:\w])(omniroute_[a-z_]+)(?![:\w])", " ".join(exprs))}


async def _row(h, queue="support", channel="chat") -> dict:
    r = await h.http.get("/v1/stats", headers=ADMIN)
    assert r.status_code == 200, r.text
    return next(q for q in r.json()["queues"] if q["queue"] == queue and q["channel"] == channel)


async def _projected(h, check):
    """Poll until the projector has taken every routing event seen so far (events of
    different contacts travel on different partitions) and `check(stats)` holds."""
    async def ok():
        if not await _caught_up(h):
            return None
        r = (await h.http.get("/v1/stats", headers=ADMIN)).json()
        return r if check(r) else None
    return await until(ok, 20, what="stats projection")


async def _caught_up(h) -> bool:
    marks = {k.decode(): int(v) for k, v in (await h.redis.hgetall(OFFSETS)).items()}
    return all(marks.get(f"{r.topic}:{r.partition}", -1) >= r.offset for r in list(h.routing.raw))


def _support_chat(r):
    return next(q for q in r["queues"] if q["queue"] == "support" and q["channel"] == "chat")


async def _scenario(h, clock):
    ann = await h.agent("ann", {"support": 3}, channels=["chat"], capacity=34)
    c1 = await h.contact(channel="chat")
    offer1 = await h.routing.wait("offer.issued", contact_id=c1)
    clock.at(10)
    assert (await h.http.post(f"/v1/offers/{offer1.data.offer_id}/accept", headers=ann)).status_code == 200
    ids = {}
    for name, at in (("c2", 20), ("c3", 30), ("c4", 40)):
        clock.at(at)
        ids[name] = await h.contact(channel="chat")
        await h.routing.wait("contact.queued", contact_id=ids[name])
    clock.at(42)
    await h.end(ids["c4"])
    await h.routing.wait("contact.abandoned", contact_id=ids["c4"])
    clock.at(50)
    mid = await _projected(h, lambda r: _support_chat(r)["15m"]["short_abandoned"] == 1)
    row = _support_chat(mid)
    assert (row["waiting"], row["longest_wait_s"]) == (2, 30.0)  # c2 since 20, c3 since 30
    assert row["agents"] == {"staffed": 1, "available": 0}  # ann is full
    clock.at(100)
    await h.end(ids["c3"])
    await h.routing.wait("contact.abandoned", contact_id=ids["c3"])
    clock.at(130)
    assert (await h.http.post(f"/v1/contacts/{c1}/complete", headers=ann, json={})).status_code == 200
    offer2 = await h.routing.wait("offer.issued", contact_id=ids["c2"])
    clock.at(135)
    assert (await h.http.post(f"/v1/offers/{offer2.data.offer_id}/accept", headers=ann)).status_code == 200
    clock.at(165)
    assert (await h.http.post(f"/v1/contacts/{ids['c2']}/complete", headers=ann, json={})).status_code == 200
    await h.routing.wait("contact.completed", contact_id=ids["c2"])
    clock.at(180)
    return c1, ids


async def _end(h, contact_id):
    from shared.cloudevents import new_event
    from shared.events import ContactEnded, event_type
    from shared.kafka import publish
    await publish(h.producer, new_event(event_type("contact.ended"), ContactEnded(contact_id=contact_id),
                                        source="tests", key=contact_id))


@pytest.fixture
def h(ops_harness):
    ops_harness.end = lambda cid: _end(ops_harness, cid)
    return ops_harness


async def test_service_level_asa_abandon_rate_aht_occupancy_exactly(h, clock):
    await _scenario(h, clock)
    r = await _projected(h, lambda r: _support_chat(r)["15m"]["completed"] == 2)
    row = _support_chat(r)
    for window in ("15m", "today"):
        f = row[window]
        assert (f["offered"], f["answered"], f["answered_in_sla"], f["abandoned"], f["short_abandoned"]) == (4, 2, 1, 1, 1)
        assert f["service_level"] == pytest.approx(1 / 3)
        assert f["asa_s"] == 62.5
        assert f["abandon_rate"] == pytest.approx(1 / 3)
        assert f["aht_s"] == 75.0
        assert (f["offers"], f["offers_accepted"]) == (2, 2)
    assert (row["waiting"], row["longest_wait_s"]) == (0, 0)
    assert row["sla"] == {"threshold_s": 60.0, "percent": 80.0}
    center = r["center"]
    assert center["15m"]["occupancy"] == pytest.approx(51 / 180)
    assert center["agents"]["available"] == 1
    others = [q for q in r["queues"] if (q["queue"], q["channel"]) != ("support", "chat")]
    assert all(q["today"]["offered"] == 0 for q in others)


async def test_staffing_advice_uses_the_observed_load(h, clock):
    await _scenario(h, clock)
    await _projected(h, lambda r: _support_chat(r)["15m"]["completed"] == 2)
    r = await h.http.get("/v1/staffing", headers=ADMIN)
    assert r.status_code == 200
    s = next(q for q in r.json()["queues"] if (q["queue"], q["channel"]) == ("support", "chat"))
    # 4 arrivals over the 14 whole minutes of the window (it ends on a minute edge)
    assert s["arrivals_per_hour"] == round(4 / 840 * 3600, 2)
    assert s["aht_s"] == 75.0
    assert s["patience_s"] == pytest.approx((10 + 115 + 70 + 2) / 2)  # waits / abandonments
    expected = erlang.needed(round(4 / 840 * 75, 3), 75.0, 60.0, 80.0)
    assert s["erlang_c"]["agents"] == expected.agents == 2
    assert s["erlang_a"]["agents"] >= 1
    assert s["staffed"] == 1


async def test_metrics_are_valid_prometheus_and_count_the_scenario(h, clock):
    await _scenario(h, clock)
    await _projected(h, lambda r: _support_chat(r)["15m"]["completed"] == 2)
    await h.ops.refresh()

    async def scraped():  # consumer lag is recorded by the report loop, once a fetch has seen the high watermark
        text = (await h.http.get("/metrics", follow_redirects=True)).text
        return text if 'omniroute_kafka_consumer_lag{group="' + h.ops.group + '"' in text else None
    text = await until(scraped, 20, what="consumer lag in /metrics")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()
    assert 'omniroute_contacts_waiting{channel="chat",domain="default",queue="support"} 0.0' in text
    assert 'omniroute_sla_target_ratio{channel="chat",domain="default",queue="support"} 0.8' in text
    assert 'omniroute_agents{domain="default",state="available"} 1.0' in text
    assert ('omniroute_contact_wait_seconds_bucket{channel="chat",domain="default",le="60.0",outcome="answered",'
            'queue="support"}') in text
    typed = {_family(n) for n in re.findall(r"^# TYPE (\S+)", text, re.M)}
    assert _dashboard_and_rule_metrics() <= typed, _dashboard_and_rule_metrics() - typed
    for needle in ("contact", "cust-", "ann"):  # no ids as label values
        assert not [ln for ln in text.splitlines() if not ln.startswith("#") and f'"{needle}' in ln]


async def test_surveys_and_complaints_count_per_queue(h, clock):
    c1, ids = await _scenario(h, clock)
    secret = h.ops.settings.survey_secret.get_secret_value()
    link = survey_url("http://router", secret, c1)
    page = await h.http.get(link)
    assert page.status_code == 200 and 'name="score"' in page.text
    token = link.split("t=")[1]
    r = await h.http.post(f"/survey/{c1}", data={"t": token, "score": "4", "comment": "quick and kind"})
    assert r.status_code == 201 and "Thank you" in r.text
    again = await h.http.post(f"/survey/{c1}", data={"t": token, "score": "1"})
    assert again.status_code == 409
    c2 = ids["c2"]
    t2 = survey_url("http://router", secret, c2).split("t=")[1]
    r = await h.http.post(f"/survey/{c2}", json={"t": t2, "score": 2, "comment": "slow", "complaint": True})
    assert r.status_code == 201
    # a token for one contact does not open another's survey; a bad score is named
    assert (await h.http.post(f"/survey/{ids['c3']}", json={"t": t2, "score": 5})).status_code == 403
    bad = await h.http.post(f"/survey/{ids['c3']}", json={"t": survey_url("x", secret, ids["c3"]).split("t=")[1], "score": 9})
    assert bad.status_code == 422 and "score" in bad.text
    r = await _projected(h, lambda r: _support_chat(r)["today"]["surveys"] == 2)
    f = _support_chat(r)["today"]
    assert (f["csat"], f["csat_satisfied"], f["complaints"]) == (3.0, 0.5, 1)


async def test_websocket_pushes_reports_after_the_token(served, clock):
    h = served
    url = h.base_url.replace("http", "ws") + "/v1/stats/stream"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"token": "wrong"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 1008
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"token": "test-admin-token"}))
        assert json.loads(await ws.recv())["type"] == "history"
        first = json.loads(await ws.recv())
        assert first["type"] == "report" and "queues" in first
        await h.agent("bea", {"support": 1}, channels=["chat"], capacity=34)
        cid = await h.contact(channel="chat")
        await h.routing.wait("offer.issued", contact_id=cid)

        async def pushed():
            msg = json.loads(await ws.recv())
            return msg if _support_chat(msg)["today"]["offers"] == 1 else None
        report = await until(pushed, 20, what="a pushed report with the offer")
        assert report["center"]["agents"]["busy"] == 0  # offered, not yet answered


async def test_stats_need_a_supervisor_token(h):
    assert (await h.http.get("/v1/stats")).status_code == 401
    agent = await h.agent("cy", {"support": 1}, login=False)
    assert (await h.http.get("/v1/staffing", headers=agent)).status_code == 401
