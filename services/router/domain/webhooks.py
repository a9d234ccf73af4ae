"""Webhook subscriptions: which routing events a subscriber gets, and how long to wait
before trying a failed delivery again. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    types: list[str]  # "contact.assigned" style names, or ["*"]: every routing event
    secret: str  # Standard Webhooks secret, whsec_<base64>
    domain: str
    created_ms: int
    description: str = ""
    extra: dict = field(default_factory=dict)

    def wants(self, event_type: str) -> bool:
        """`event_type`: omniroute.<noun>.<verb>.v1."""
        name = event_type.removeprefix("omniroute.").rsplit(".", 1)[0]
        return "*" in self.types or name in self.types

    def covers(self, at: datetime) -> bool:
        """Did the event happen (its transition's time) from the subscription on?"""
        return at.timestamp() * 1000 >= self.created_ms

    def view(self) -> dict:
        """What the API shows (never the secret)."""
        return {"id": self.id, "url": self.url, "types": self.types, "description": self.description,
                "created_ms": self.created_ms}


def backoff_s(attempt: int, first_s: float, most_s: float) -> float:
    """Wait before attempt `attempt` + 1 (attempt counts from 1): doubling, capped."""
    return min(most_s, first_s * 2 ** (attempt - 1))
