"""Stats projection (pure): which aggregate changes each routing event causes, and
the contact-center figures computed from the aggregates.

Definitions (per queue and channel, over a window):
  service level  = answered within the SLA threshold / (answered + abandoned),
                   short abandons (wait < short_abandon) excluded from both
  ASA            = total wait of answered contacts / answered
  abandon rate   = abandoned / (answered + abandoned), short abandons excluded
  AHT            = total handle time / completed contacts
  occupancy      = (capacity-weighted handle time + wrap-up) / (available + wrap-up),
                   for the whole center: agents serve several queues and channels
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from . import windows as w

CAMPAIGN_TIER = "campaign"  # an outbound campaign's call (docs/campaigns.md)
CENTER = ("_", "_")  # queue/channel pair of center-wide aggregates (agent time, unknown surveys)
STAFFED_STATES = ("available", "wrapup")  # time that counts as staffed for occupancy
TIMED_STATES = ("available", "wrapup", "not_ready")


@dataclass(frozen=True)
class Config:
    sla_ms: dict[tuple[str, str], int]  # (queue, channel) -> answer-within threshold
    short_abandon_ms: int
    tz: ZoneInfo
    costs: dict[str, int]  # channel -> capacity units (of 100) one contact uses


@dataclass(frozen=True)
class Ctx:
    """What the projection needs to know besides the event, loaded by the adapter."""

    contact: dict[str, str] | None = None
    agent: dict[str, str] | None = None
    offer: dict[str, str] | None = None


# -- operations the adapter applies atomically --------------------------------------
@dataclass(frozen=True)
class Add:
    bucket: str  # "m:<minute ms>:<queue>:<channel>" or "d:<yyyymmdd>:<queue>:<channel>"
    field: str
    n: int


@dataclass(frozen=True)
class SetContact:
    contact_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Waiting:
    queue: str
    channel: str
    contact_id: str
    since_ms: int | None  # None: no longer waiting


@dataclass(frozen=True)
class Work:
    contact_id: str
    value: str | None  # json {agent, at, cost}; None: handling ended


@dataclass(frozen=True)
class SetAgent:
    agent_id: str
    state: str
    since_ms: int


@dataclass(frozen=True)
class SetOffer:
    offer_id: str
    queue: str
    channel: str
    contact_id: str = ""


Op = Add | SetContact | Waiting | Work | SetAgent | SetOffer


def keys_of(type_: str, data) -> tuple[str | None, str | None, str | None]:
    """(contact id, agent id, offer id) whose projection state an event needs."""
    noun = type_.split(".")[1]
    cid = getattr(data, "contact_id", None)
    aid = getattr(data, "agent_id", None) if noun == "agent" else None
    oid = getattr(data, "offer_id", None)
    return cid, aid, oid


def count(q: str, ch: str, at_ms: int, cfg: Config, **fields: int) -> list[Add]:
    ops = []
    for name, n in fields.items():
        if n:
            ops.append(Add(f"m:{w.minute_of(at_ms)}:{q}:{ch}", name, n))
            ops.append(Add(f"d:{w.day_of(at_ms, cfg.tz)}:{q}:{ch}", name, n))
    return ops


def spread(q: str, ch: str, start: int, end: int, name: str, cfg: Config, weight: float = 1.0) -> list[Add]:
    """Add an interval's duration (ms x weight) to every bucket it overlaps."""
    ops = [Add(f"m:{m}:{q}:{ch}", name, round(ms * weight)) for m, ms in w.split_minutes(start, end)]
    ops += [Add(f"d:{d}:{q}:{ch}", name, round(ms * weight)) for d, ms in w.split_days(start, end, cfg.tz)]
    return [op for op in ops if op.n]


def project(type_: str, data, at_ms: int, ctx: Ctx, cfg: Config) -> list[Op]:
    handler = _PROJECTIONS.get(type_.removeprefix("omniroute.").removesuffix(".v1"))
    ops = handler(data, at_ms, ctx, cfg) if handler else []
    if is_outbound(data, ctx):  # it occupies its agent (occupancy), but is no inbound service
        return [op for op in ops if isinstance(op, SetContact | Work) or (isinstance(op, Add) and op.field == "work_ms")]
    return ops


def is_outbound(d, ctx: Ctx) -> bool:
    """A campaign's call: its queued event says so (tier), later events find it noted."""
    return getattr(d, "tier", None) == CAMPAIGN_TIER or bool(ctx.contact and ctx.contact.get("outbound"))


def _queued(d, at, ctx, cfg):
    if ctx.contact:  # already known: a redelivered or repeated queued event
        return []
    outbound = {"outbound": 1} if d.tier == CAMPAIGN_TIER else {}
    return [SetContact(d.contact_id, {"queue": d.queue, "channel": d.channel, "queued_at": at, "state": "queued",
                                      **outbound}),
            Waiting(d.queue, d.channel, d.contact_id, at),
            *count(d.queue, d.channel, at, cfg, offered=1)]


def _offer_issued(d, at, ctx, cfg):
    ops = [SetOffer(d.offer_id, d.queue, d.channel, d.contact_id), *count(d.queue, d.channel, at, cfg, offers=1)]
    if ctx.contact and not ctx.contact.get("routed_at"):
        ops.append(SetContact(d.contact_id, {"routed_at": at}))
    return ops


def _offer_outcome(outcome):
    def project_outcome(d, at, ctx, cfg):
        if not ctx.offer:
            return []
        return count(ctx.offer["queue"], ctx.offer["channel"], at, cfg, **{f"offers_{outcome}": 1})
    return project_outcome


def _assigned(d, at, ctx, cfg):
    cost = cfg.costs.get(d.channel, 100)
    ops: list[Op] = [
        Waiting(d.queue, d.channel, d.contact_id, None),
        Work(d.contact_id, json.dumps({"agent": d.agent_id, "at": at, "cost": cost, "q": d.queue, "ch": d.channel})),
        SetContact(d.contact_id, {"queue": d.queue, "channel": d.channel, "state": "assigned",
                                  "assigned_at": at, "agent": d.agent_id, "answered": 1}),
    ]
    if ctx.contact and ctx.contact.get("answered"):  # re-assigned after a requeue: answered once
        return ops
    in_sla = d.wait_ms <= cfg.sla_ms.get((d.queue, d.channel), 0)
    return ops + count(d.queue, d.channel, at, cfg, answered=1, answered_sl=int(in_sla), wait_answered_ms=d.wait_ms)


def _abandoned(d, at, ctx, cfg):
    short = d.wait_ms < cfg.short_abandon_ms
    return [Waiting(d.queue, d.channel, d.contact_id, None),
            SetContact(d.contact_id, {"state": "abandoned"}),
            *count(d.queue, d.channel, at, cfg, abandoned=int(not short), abandoned_short=int(short),
                   wait_abandoned_ms=d.wait_ms)]


def _end_work(contact: dict | None, cid: str, at: int, cfg: Config) -> list[Op]:
    """Close an open handling interval: its capacity-weighted time goes to work_ms."""
    if not contact or contact.get("state") != "assigned":
        return []
    q, ch, start = contact["queue"], contact["channel"], int(contact["assigned_at"])
    return [Work(cid, None), *spread(q, ch, start, at, "work_ms", cfg, cfg.costs.get(ch, 100) / 100)]


def _completed(d, at, ctx, cfg):
    ops = _end_work(ctx.contact, d.contact_id, at, cfg)
    if not ops:  # assignment never seen (projector started later): use the event's own figures
        ops = [Work(d.contact_id, None),
               *spread(d.queue, d.channel, at - d.handle_ms, at, "work_ms", cfg, cfg.costs.get(d.channel, 100) / 100)]
    return [*ops, SetContact(d.contact_id, {"state": "completed"}),
            *count(d.queue, d.channel, at, cfg, completed=1, handle_ms=d.handle_ms)]


def _requeued(d, at, ctx, cfg):
    c = ctx.contact
    if not c or c.get("state") != "assigned":
        return []  # an offer went back: the contact never stopped waiting
    return [*_end_work(c, d.contact_id, at, cfg), SetContact(d.contact_id, {"state": "queued"}),
            Waiting(c["queue"], c["channel"], d.contact_id, int(c["queued_at"]) if c.get("queued_at") else at)]


def _transferred(d, at, ctx, cfg):
    """The agent handed it on: their handling ends; it waits again, in its new queue."""
    c = ctx.contact
    if not c or c.get("state") != "assigned":
        return []
    return [*_end_work(c, d.contact_id, at, cfg), SetContact(d.contact_id, {"state": "queued", "queue": d.queue}),
            Waiting(d.queue, d.channel, d.contact_id, int(c["queued_at"]) if c.get("queued_at") else at)]


def _agent_state(d, at, ctx, cfg):
    ops: list[Op] = [SetAgent(d.agent_id, d.state, at)]
    prev = ctx.agent
    if prev and prev["state"] in TIMED_STATES:
        ops += spread(*CENTER, int(prev["since"]), at, f"{prev['state']}_ms", cfg)
    return ops


def _survey(d, at, ctx, cfg):
    q, ch = (ctx.contact["queue"], ctx.contact["channel"]) if ctx.contact else CENTER
    return count(q, ch, at, cfg, surveys=1, csat_sum=d.score, csat_satisfied=int(d.score >= 4),
                 complaints=int(d.complaint))


def _deflection(outcome):
    def project_deflection(d, at, ctx, cfg):
        return count(d.queue, d.channel, at, cfg, **{f"deflections_{outcome}": 1})
    return project_deflection


_PROJECTIONS = {
    "contact.queued": _queued,
    "offer.issued": _offer_issued,
    "offer.accepted": _offer_outcome("accepted"),
    "offer.declined": _offer_outcome("declined"),
    "offer.expired": _offer_outcome("expired"),
    "contact.assigned": _assigned,
    "contact.abandoned": _abandoned,
    "contact.completed": _completed,
    "contact.requeued": _requeued,
    "contact.transferred": _transferred,
    "agent.state_changed": _agent_state,
    "survey.submitted": _survey,
    "deflection.offered": _deflection("offered"),
    "deflection.accepted": _deflection("accepted"),
}


# -- figures from aggregates ----------------------------------------------------------
@dataclass
class Totals:
    """Summed counters of one window; missing fields are 0."""

    values: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, 0)

    def add(self, other: dict[str, float]) -> Totals:
        for k, v in other.items():
            self.values[k] = self.values.get(k, 0) + v
        return self


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def figures(t: Totals) -> dict[str, Any]:
    handled = t["answered"] + t["abandoned"]
    asa = _ratio(t["wait_answered_ms"], t["answered"])
    aht = _ratio(t["handle_ms"], t["completed"])
    csat = _ratio(t["csat_sum"], t["surveys"])
    return {
        "offered": int(t["offered"]), "answered": int(t["answered"]), "answered_in_sla": int(t["answered_sl"]),
        "abandoned": int(t["abandoned"]), "short_abandoned": int(t["abandoned_short"]),
        "completed": int(t["completed"]),
        "service_level": _ratio(t["answered_sl"], handled),
        "asa_s": asa / 1000 if asa is not None else None,
        "abandon_rate": _ratio(t["abandoned"], handled),
        "aht_s": aht / 1000 if aht is not None else None,
        "offers": int(t["offers"]), "offers_accepted": int(t["offers_accepted"]),
        "offers_declined": int(t["offers_declined"]), "offers_expired": int(t["offers_expired"]),
        "surveys": int(t["surveys"]), "csat": csat,
        "csat_satisfied": _ratio(t["csat_satisfied"], t["surveys"]), "complaints": int(t["complaints"]),
        "deflections_offered": int(t["deflections_offered"]), "deflections_accepted": int(t["deflections_accepted"]),
        "deflection_rate": _ratio(t["deflections_accepted"], t["deflections_offered"]),
    }


def patience_s(t: Totals) -> float | None:
    """Mean patience, the maximum-likelihood estimate for exponential patience:
    total time contacts spent waiting / abandonments (answered waits are censored)."""
    gave_up = t["abandoned"] + t["abandoned_short"]
    if not gave_up:
        return None
    return (t["wait_answered_ms"] + t["wait_abandoned_ms"]) / gave_up / 1000


# -- what is open now, as aggregates ---------------------------------------------------
OPEN_WEIGHT = 100  # open intervals are weighted in hundredths: agent states 100, work its cost


@dataclass(frozen=True)
class Live:
    """Agents by state (busy: available with work) and, per kind of open interval
    (available, wrapup, work), minute of start -> (sum of weights, sum of weight x start).
    Kept up to date as intervals open and close, so a report never reads every agent."""

    agents: dict[str, int]
    open: dict[str, dict[int, tuple[int, int]]]

    def open_ms(self, kind: str, window_start: int, now_ms: int) -> float:
        """Weighted ms of the open intervals inside [window_start, now): exact because
        windows start on a minute (an interval started in an earlier minute started
        before the window)."""
        total = 0
        for minute, (n, s) in self.open.get(kind, {}).items():
            total += n * now_ms - s if minute >= window_start else n * (now_ms - window_start)
        return total / OPEN_WEIGHT


def live_of(agents: dict[str, dict], work: dict[str, dict]) -> Live:
    """The aggregates from per-agent states and open work (the definition they keep)."""
    working = {x["agent"] for x in work.values()}
    counts: dict[str, int] = {}
    opened: dict[str, dict[int, tuple[int, int]]] = {k: {} for k in ("available", "wrapup", "work")}

    def add(kind: str, start: int, weight: int) -> None:
        n, s = opened[kind].get(w.minute_of(start), (0, 0))
        opened[kind][w.minute_of(start)] = (n + weight, s + weight * start)

    for aid, a in agents.items():
        state = "busy" if a["state"] == "available" and aid in working else a["state"]
        counts[state] = counts.get(state, 0) + 1
        if a["state"] in ("available", "wrapup"):
            add(a["state"], int(a["since"]), OPEN_WEIGHT)
    for x in work.values():
        add("work", int(x["at"]), int(x["cost"]))
    return Live(agents=counts, open=opened)


def occupancy(work_ms: float, available_ms: float, wrapup_ms: float) -> float | None:
    staffed = available_ms + wrapup_ms
    return min(1.0, (work_ms + wrapup_ms) / staffed) if staffed else None
