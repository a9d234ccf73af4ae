"""The stats projection and figures as pure functions (no Redis, no Kafka)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.router.domain.ops import report, windows
from services.router.domain.ops.stats import (
    Add,
    Config,
    Ctx,
    Totals,
    figures,
    SetContact,
    Waiting,
    Work,
    live_of,
    occupancy,
    patience_s,
    project,
)
from shared.events import (
    AgentStateChanged,
    ContactAbandoned,
    ContactAssigned,
    ContactCompleted,
    ContactQueued,
    ContactTransferred,
    SurveySubmitted,
)

pytestmark = [pytest.mark.ops, pytest.mark.unit]
UTC_TZ = ZoneInfo("UTC")
CFG = Config(sla_ms={("support", "voice"): 20_000}, short_abandon_ms=5_000, tz=UTC_TZ, costs={"voice": 100, "chat": 34})
T = int(datetime(2025, 3, 14, 23, 59, 30, tzinfo=UTC).timestamp() * 1000)  # 30 s before midnight


def adds(ops) -> dict[str, int]:
    out: dict[str, int] = {}
    for op in ops:
        if isinstance(op, Add):
            out[f"{op.bucket}|{op.field}"] = out.get(f"{op.bucket}|{op.field}", 0) + op.n
    return out


def assigned(wait_ms, cid="c1"):
    return ContactAssigned(contact_id=cid, agent_id="a1", queue="support", channel="voice", wait_ms=wait_ms)


def test_answer_at_the_threshold_meets_the_sla_and_just_after_misses_it():
    met = adds(project("omniroute.contact.assigned.v1", assigned(20_000), T, Ctx(), CFG))
    missed = adds(project("omniroute.contact.assigned.v1", assigned(20_001), T, Ctx(), CFG))
    minute = windows.minute_of(T)
    assert met[f"m:{minute}:support:voice|answered_sl"] == 1
    assert f"m:{minute}:support:voice|answered_sl" not in missed
    assert met["d:20250314:support:voice|wait_answered_ms"] == 20_000


def test_a_contact_answered_again_after_a_requeue_counts_once():
    ctx = Ctx(contact={"queue": "support", "channel": "voice", "answered": "1", "state": "queued"})
    again = adds(project("omniroute.contact.assigned.v1", assigned(50_000), T, ctx, CFG))
    assert not [k for k in again if k.endswith("|answered")]


def test_a_transfer_ends_the_handling_and_the_contact_waits_in_its_new_queue():
    ctx = Ctx(contact={"queue": "support", "channel": "voice", "answered": "1", "state": "assigned",
                       "assigned_at": str(T - 60_000), "queued_at": str(T - 90_000)})
    moved = ContactTransferred(contact_id="c1", channel="voice", from_agent="a1", from_queue="support",
                               queue="billing", kind="queue")
    ops = project("omniroute.contact.transferred.v1", moved, T, ctx, CFG)
    assert Work("c1", None) in ops and Waiting("billing", "voice", "c1", T - 90_000) in ops
    assert SetContact("c1", {"state": "queued", "queue": "billing"}) in ops
    assert adds(ops)["d:20250314:support:voice|work_ms"] == 60_000  # a1's handling time, in the old queue
    assert project("omniroute.contact.transferred.v1", moved, T, Ctx(), CFG) == []  # never seen assigned


def test_abandons_shorter_than_the_short_abandon_time_are_set_apart():
    def ab(wait):
        return adds(project("omniroute.contact.abandoned.v1", ContactAbandoned(
            contact_id="c", queue="support", channel="voice", wait_ms=wait), T, Ctx(), CFG))
    assert "d:20250314:support:voice|abandoned_short" in ab(4_999)
    assert "d:20250314:support:voice|abandoned" in ab(5_000)


def test_handle_time_is_split_across_minutes_and_the_midnight_edge():
    ctx = Ctx(contact={"queue": "support", "channel": "chat", "state": "assigned", "assigned_at": str(T - 30_000)})
    done = ContactCompleted(contact_id="c", agent_id="a", queue="support", channel="chat", handle_ms=90_000)
    got = adds(project("omniroute.contact.completed.v1", done, T + 60_000, ctx, CFG))
    # 60 s before midnight + 30 s after, weighted by the chat cost 34/100
    assert got["d:20250314:support:chat|work_ms"] == round(60_000 * 0.34)
    assert got["d:20250315:support:chat|work_ms"] == round(30_000 * 0.34)
    minutes = {k: v for k, v in got.items() if k.startswith("m:") and k.endswith("|work_ms")}
    assert sum(minutes.values()) == round(60_000 * 0.34) + round(30_000 * 0.34) and len(minutes) == 2
    assert got["d:20250315:support:chat|handle_ms"] == 90_000  # AHT counts when the contact ends


def test_agent_time_goes_to_the_state_it_was_in():
    ctx = Ctx(agent={"state": "available", "since": T - 10_000})
    got = adds(project("omniroute.agent.state_changed.v1", AgentStateChanged(agent_id="a", state="not_ready"), T, ctx, CFG))
    assert got["d:20250314:_:_|available_ms"] == 10_000


def test_repeated_queued_event_is_ignored_and_unknown_survey_goes_to_the_center():
    q = ContactQueued(contact_id="c", queue="support", channel="voice", tier="basic", customer_id="x", required_skills=[])
    assert project("omniroute.contact.queued.v1", q, T, Ctx(contact={"queue": "support"}), CFG) == []
    s = adds(project("omniroute.survey.submitted.v1", SurveySubmitted(contact_id="zz", score=2, complaint=True), T, Ctx(), CFG))
    assert s["d:20250314:_:_|complaints"] == 1 and s["d:20250314:_:_|csat_sum"] == 2


def test_figures_and_patience():
    t = Totals({"offered": 5, "answered": 3, "answered_sl": 2, "abandoned": 1, "abandoned_short": 1,
                "wait_answered_ms": 30_000, "wait_abandoned_ms": 42_000, "completed": 2, "handle_ms": 300_000})
    f = figures(t)
    assert f["service_level"] == 0.5 and f["abandon_rate"] == 0.25 and f["asa_s"] == 10 and f["aht_s"] == 150
    assert patience_s(t) == 36.0  # (30 + 42) s of waiting / 2 abandonments
    assert figures(Totals())["service_level"] is None
    assert occupancy(30, 100, 0) == 0.3 and occupancy(0, 0, 0) is None


def test_report_counts_open_intervals_inside_the_window():
    now = T
    agents = {"a": {"state": "available", "since": now - 60_000}, "b": {"state": "not_ready", "since": now - 1}}
    work = {"c": {"agent": "a", "at": now - 30_000, "cost": 100}}
    r = report.build(now, UTC_TZ, {("support", "voice"): (20.0, 80.0)},
                     {("support", "voice"): (Totals(), Totals()), ("_", "_"): (Totals(), Totals())},
                     {("support", "voice"): (1, now - 12_000)}, live_of(agents, work), {})
    assert r["center"]["15m"]["occupancy"] == 0.5
    assert r["center"]["agents"] == {"available": 0, "busy": 1, "wrapup": 0, "not_ready": 1, "offline": 0}
    assert r["queues"][0]["longest_wait_s"] == 12.0


def test_a_campaign_call_occupies_its_agent_but_is_no_inbound_service():
    queued = ContactQueued(contact_id="cmp-x-t1-0", queue="support", channel="voice", tier="campaign",
                           customer_id="+15550101", required_skills=[])
    ops = project("omniroute.contact.queued.v1", queued, T, Ctx(), CFG)
    assert ops == [SetContact("cmp-x-t1-0", {"queue": "support", "channel": "voice", "queued_at": T,
                                             "state": "queued", "outbound": 1})]  # not offered, not waiting
    noted = Ctx(contact={"queue": "support", "channel": "voice", "queued_at": str(T), "state": "queued", "outbound": 1})
    ops = project("omniroute.contact.assigned.v1", assigned(40_000, cid="cmp-x-t1-0"), T, noted, CFG)
    assert adds(ops) == {} and any(isinstance(op, Work) for op in ops)  # no answer, no SLA miss; the agent works
    working = Ctx(contact={**noted.contact, "state": "assigned", "assigned_at": str(T - 60_000)})
    done = ContactCompleted(contact_id="cmp-x-t1-0", agent_id="a1", queue="support", channel="voice",
                            handle_ms=60_000, disposition="sold")
    assert set(f.split("|")[1] for f in adds(project("omniroute.contact.completed.v1", done, T, working, CFG))) == {
        "work_ms"}  # occupancy counts the call; the queue's completed and AHT do not
