"""What must hold between the event log and the routing state, whatever failed on the way
(tools/check_invariants.py reads both; the fault suite runs it after every fault).

- no contact is lost: every contact the log says was created is finished in the log, or
  is live in the state and reachable (waiting in its queue's set, offered on a pending
  offer, or held by its agent);
- no contact is assigned twice: each assignment after the first follows a requeue;
- no agent is over capacity, neither in the state nor at any moment the log describes;
- the state agrees with the log: finished contacts are not live, held contacts are held by
  the agent the log last assigned, an agent's load is what it holds and is offered.

Pure: the log and the state come in as plain records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

TERMINAL = {"contact.completed", "contact.abandoned", "contact.overflowed"}
# What gives an assigned contact's capacity back (a transfer or a retry, or its end).
RELEASES = TERMINAL | {"contact.requeued", "contact.transferred"}
LIVE = {"queued", "offered", "assigned", "scheduled"}


@dataclass(frozen=True)
class Logged:
    """One routing event, deduplicated by its id (delivery is at least once)."""
    id: str
    type: str  # "contact.assigned", without the omniroute. prefix and version
    contact_id: str
    agent_id: str = ""
    at_ms: int = 0


@dataclass(frozen=True)
class ContactState:
    id: str
    state: str
    agent: str = ""
    cost: int = 0
    reachable: bool = False  # in its wait set / on a pending offer / in its agent's set


@dataclass(frozen=True)
class AgentState:
    id: str
    capacity: int
    load: int
    held: frozenset[str] = frozenset()  # contacts in the agent's assigned set
    offered_cost: int = 0  # capacity reserved by the agent's pending offers


@dataclass
class Snapshot:
    contacts: dict[str, ContactState | None]  # None: no record in the state
    agents: dict[str, AgentState]
    outbox_pending: int = 0  # events committed in Redis, not yet on Kafka


@dataclass
class Report:
    contacts: int = 0
    events: int = 0
    finished: int = 0
    rejected: int = 0  # created, then dead-lettered with a reason: not lost
    lost: list[str] = field(default_factory=list)
    double_assigned: list[str] = field(default_factory=list)
    over_capacity: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.double_assigned or self.over_capacity or self.disagreements)

    @classmethod
    def combined(cls, reports: dict[str, Report]) -> Report:
        """Several domains' reports as one, each finding named by its domain."""
        out = cls()
        for domain, r in reports.items():
            out.contacts, out.events = out.contacts + r.contacts, out.events + r.events
            out.finished, out.rejected = out.finished + r.finished, out.rejected + r.rejected
            for kind in ("lost", "double_assigned", "over_capacity", "disagreements"):
                getattr(out, kind).extend(f"{domain}: {finding}" for finding in getattr(r, kind))
        return out

    def summary(self) -> str:
        return (f"{self.contacts} contacts ({self.finished} finished, {self.rejected} rejected), "
                f"{self.events} events: {len(self.lost)} lost, {len(self.double_assigned)} double-assigned, "
                f"{len(self.over_capacity)} over capacity, {len(self.disagreements)} disagreements")


def audit(log: list[Logged], state: Snapshot, created: set[str], rejected: set[str] = frozenset()) -> Report:
    unique = list({e.id: e for e in log}.values())
    by_contact: dict[str, list[Logged]] = defaultdict(list)
    for e in unique:
        by_contact[e.contact_id].append(e)
    report = Report(contacts=len(created), events=len(unique), rejected=len(created & set(rejected)))
    for cid in sorted(created):
        events = sorted(by_contact.get(cid, []), key=lambda e: e.at_ms)
        _check_contact(cid, events, state.contacts.get(cid), cid in rejected, report)
    _check_agents(unique, state, report)
    if state.outbox_pending:
        report.disagreements.append(f"{state.outbox_pending} events still in the outbox")
    return report


def _check_contact(cid: str, events: list[Logged], now: ContactState | None, rejected: bool, report: Report) -> None:
    kinds = Counter(e.type for e in events)
    released = kinds["contact.requeued"] + kinds["contact.transferred"]
    if kinds["contact.assigned"] > released + 1:
        report.double_assigned.append(f"{cid}: assigned {kinds['contact.assigned']} times, "
                                      f"requeued or transferred {released}")
    closed = kinds["contact.deferred"] and now is not None and now.state == "closed"  # arrived while closed
    if closed or any(e.type in TERMINAL for e in events):
        report.finished += 1
        if now is not None and now.state in LIVE:
            report.disagreements.append(f"{cid}: finished in the log, {now.state} in the state")
        return
    if rejected:
        return
    if now is None or now.state not in LIVE or not now.reachable:
        where = "no record" if now is None else f"{now.state}{'' if now.reachable else ', unreachable'}"
        report.lost.append(f"{cid}: never finished in the log; state: {where}")
        return
    holder = _holder(events)
    if now.state == "assigned" and holder and now.agent != holder:
        report.disagreements.append(f"{cid}: held by {now.agent} in the state, {holder} in the log")


def _holder(events: list[Logged]) -> str:
    """The agent the log last assigned the contact to, unless released since."""
    agent = ""
    for e in events:
        if e.type == "contact.assigned":
            agent = e.agent_id
        elif e.type in RELEASES:
            agent = ""
    return agent


def _check_agents(log: list[Logged], state: Snapshot, report: Report) -> None:
    for a in state.agents.values():
        if a.load > a.capacity:
            report.over_capacity.append(f"{a.id}: load {a.load} > capacity {a.capacity} in the state")
        costs = sum(c.cost for cid in a.held if (c := state.contacts.get(cid)) is not None)
        unknown = [cid for cid in a.held if cid not in state.contacts]
        if not unknown and a.load != costs + a.offered_cost:
            report.disagreements.append(f"{a.id}: load {a.load}, but holds {costs} and is offered "
                                        f"{a.offered_cost}")
        for cid in a.held:
            c = state.contacts.get(cid)
            if c is not None and (c.state != "assigned" or c.agent != a.id):
                report.disagreements.append(f"{a.id} holds {cid}, which is {c.state} for {c.agent or 'nobody'}")
    _check_log_capacity(log, state, report)


def _check_log_capacity(log: list[Logged], state: Snapshot, report: Report) -> None:
    """Replay assignments and releases in time order: at no moment does an agent hold
    more than its capacity (each contact at the cost it reserved)."""
    steps = sorted((e for e in log if e.type == "contact.assigned" or e.type in RELEASES),
                   key=lambda e: (e.at_ms, e.type == "contact.assigned"))  # releases first on a tie
    held: dict[str, dict[str, int]] = defaultdict(dict)  # agent -> contact -> cost
    holder: dict[str, str] = {}
    flagged: set[str] = set()
    for e in steps:
        if e.type == "contact.assigned":
            c = state.contacts.get(e.contact_id)
            holder[e.contact_id] = e.agent_id
            held[e.agent_id][e.contact_id] = c.cost if c and c.cost else 1
            agent = state.agents.get(e.agent_id)
            total = sum(held[e.agent_id].values())
            if agent and total > agent.capacity and e.agent_id not in flagged:
                flagged.add(e.agent_id)
                report.over_capacity.append(f"{e.agent_id}: held {total} > capacity {agent.capacity} "
                                            f"at {e.at_ms} (log)")
        elif e.contact_id in holder:
            held[holder.pop(e.contact_id)].pop(e.contact_id, None)
