"""First-response SLA for email contacts, read from the routing policy (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events import EMAIL
from shared.policy import Policy


def first_response_s(policy: Policy, intent: str, queue: str | None = None) -> float | None:
    """The queue's email SLA target in seconds, or None when the queue sets none."""
    name = queue or policy.queue_for(intent, EMAIL)
    q = policy.queues.get(name)
    sla = q.sla.get(EMAIL) if q else None
    return sla.target_s if sla else None


def humanize(seconds: float | None) -> str:
    """'within 4 hours' style text for the acknowledgement."""
    if seconds is None:
        return "as soon as possible"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size)
            return f"within {n} {unit}{'s' if n != 1 else ''}"
    n = max(1, round(seconds))
    return f"within {n} second{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Promise:
    """What the acknowledgement promises: the first-response due time (ms; None: no
    SLA), the words for it, and, outside hours, the hours and the next opening."""

    due_ms: int | None
    expected: str
    closed_note: str = ""


def promise(policy: Policy, intent: str, now: datetime) -> Promise:
    """The queue's first-response SLA, counted from its next opening when it is closed
    (the router queues the mail then)."""
    queue = policy.queue_for(intent, EMAIL)
    target_s = first_response_s(policy, intent, queue)
    closed, opens = policy.closed(queue, now)
    start = opens if closed and opens else now
    due_ms = int(start.timestamp() * 1000 + target_s * 1000) if target_s else None
    if not closed:
        return Promise(due_ms, humanize(target_s))
    hours = policy.schedule_of(queue)
    when = hours.say_when(opens) if opens else "when we reopen"
    note = f"Your message reached us outside our opening hours ({hours.describe()}). We open again {when}"
    return Promise(due_ms, f"{humanize(target_s)} of opening", note + ".")
