"""The invariant checker's rules, on hand-made logs and states (the fault suite runs
them on real ones)."""

import pytest

from services.router.domain.invariants import (
    AgentState,
    ContactState,
    Logged,
    Snapshot,
    audit,
)

pytestmark = pytest.mark.unit


def ev(n: int, type_: str, cid: str, agent: str = "") -> Logged:
    return Logged(id=f"e{n}", type=type_, contact_id=cid, agent_id=agent, at_ms=n)


def ann(capacity=2, load=0, held=()) -> dict:
    return {"ann": AgentState("ann", capacity, load, frozenset(held))}


def test_a_contact_served_and_a_contact_waiting_in_its_queue_are_fine():
    log = [ev(1, "contact.queued", "c1"), ev(2, "contact.assigned", "c1", "ann"), ev(3, "contact.completed", "c1", "ann"),
           ev(4, "contact.queued", "c2")]
    state = Snapshot({"c1": ContactState("c1", "completed"), "c2": ContactState("c2", "queued", reachable=True)}, ann())
    report = audit(log + log[:1], state, {"c1", "c2"})  # a redelivered event counts once
    assert report.ok, report
    assert (report.contacts, report.finished, report.events) == (2, 1, 4)


@pytest.mark.parametrize("now", [None, ContactState("c1", "queued", reachable=False), ContactState("c1", "completed")])
def test_a_contact_never_finished_and_not_reachable_is_lost(now):
    report = audit([ev(1, "contact.queued", "c1")], Snapshot({"c1": now}, {}), {"c1"})
    assert [f.split(":")[0] for f in report.lost] == ["c1"]


def test_a_contact_the_router_dead_lettered_is_rejected_not_lost():
    report = audit([], Snapshot({"c1": None}, {}), {"c1"}, rejected={"c1"})
    assert report.ok and report.rejected == 1


def test_two_assignments_without_a_requeue_between_are_a_double_assignment():
    log = [ev(1, "contact.assigned", "c1", "ann"), ev(2, "contact.assigned", "c1", "bob"),
           ev(3, "contact.completed", "c1", "bob")]
    assert audit(log, Snapshot({"c1": ContactState("c1", "completed")}, {}), {"c1"}).double_assigned
    requeued = log[:1] + [ev(5, "contact.requeued", "c1")] + log[1:]
    assert audit(requeued, Snapshot({"c1": ContactState("c1", "completed")}, {}), {"c1"}).ok


def test_an_agent_holding_more_than_capacity_at_any_moment_of_the_log_is_over_capacity():
    log = [ev(1, "contact.assigned", "c1", "ann"), ev(2, "contact.assigned", "c2", "ann"),
           ev(3, "contact.completed", "c1", "ann"), ev(4, "contact.completed", "c2", "ann")]
    contacts = {c: ContactState(c, "completed", cost=1) for c in ("c1", "c2")}
    assert audit(log, Snapshot(contacts, ann(capacity=1)), {"c1", "c2"}).over_capacity
    sequential = [ev(1, "contact.assigned", "c1", "ann"), ev(2, "contact.completed", "c1", "ann"),
                  ev(2, "contact.assigned", "c2", "ann"), ev(4, "contact.completed", "c2", "ann")]
    sequential[2] = Logged("e3", "contact.assigned", "c2", "ann", at_ms=2)  # same ms as the release: it goes first
    assert audit(sequential, Snapshot(contacts, ann(capacity=1)), {"c1", "c2"}).ok


def test_state_that_disagrees_with_the_log_is_reported():
    log = [ev(1, "contact.assigned", "c1", "ann")]
    held_by_bob = ContactState("c1", "assigned", agent="bob", cost=1, reachable=True)
    report = audit(log, Snapshot({"c1": held_by_bob}, ann(load=1, held=["c1"])), {"c1"})
    assert any("bob" in d for d in report.disagreements)
    leaked = audit([], Snapshot({}, ann(load=1)), set())  # load with nothing held or offered
    assert leaked.disagreements and not leaked.ok
    assert not audit([], Snapshot({}, {}, outbox_pending=3), set()).ok


def test_a_transfer_releases_the_first_agent_and_a_contact_closed_on_arrival_is_finished():
    log = [ev(1, "contact.assigned", "c1", "ann"), ev(2, "contact.transferred", "c1", "ann"),
           ev(3, "contact.assigned", "c1", "bob"), ev(4, "contact.deferred", "c2")]
    state = Snapshot({"c1": ContactState("c1", "assigned", agent="bob", reachable=True),
                      "c2": ContactState("c2", "closed")}, {})
    report = audit(log, state, {"c1", "c2"})
    assert report.ok, report
    assert report.finished == 1  # c2: told the hours, over
    waiting = Snapshot({"c2": ContactState("c2", "scheduled", reachable=False)}, {})
    assert audit(log[3:], waiting, {"c2"}).lost  # scheduled, but its opening timer is gone
