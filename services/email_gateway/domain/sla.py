"""First-response SLA for email contacts, read from the routing policy (read-only)."""

from __future__ import annotations

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
