"""Prometheus metrics shared by every service (no contact, agent or customer ids as labels)."""

from prometheus_client import Counter

EVENTS_CONSUMED = Counter(
    "omniroute_events_consumed_total", "CloudEvents handled, by service and type", ["service", "type"]
)
DEADLETTERED = Counter(
    "omniroute_deadlettered_events_total", "Events sent to the dead-letter topic", ["service"]
)
