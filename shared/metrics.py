"""Prometheus metrics shared by every service (no contact, agent or customer ids as labels).
Queue figures carry the routing domain (`domain`) beside queue and channel: two domains
may name their queues alike.

Naming: `omniroute_` prefix, base units (seconds, ratios), `_total` for counters.
Wait histograms have an edge at each default SLA threshold (policy.yaml: 20 s, 30 s,
60 s, 2 h, 4 h), so "answered within target" is an exact bucket.
"""

from prometheus_client import Counter, Gauge, Histogram

SLA_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600,
               7200, 14400, 28800, 86400)

EVENTS_CONSUMED = Counter(
    "omniroute_events_consumed_total", "CloudEvents handled, by service and type", ["service", "type"]
)
DEADLETTERED = Counter(
    "omniroute_deadlettered_events_total", "Events sent to the dead-letter topic", ["service"]
)
CONTACTS_RECEIVED = Counter(
    "omniroute_contacts_received_total", "Contacts created by the gateways, by channel", ["channel"]
)
ROUTING_DECISIONS = Counter(
    "omniroute_routing_decisions_total", "Routing decisions: queued, offered, requeued",
    ["domain", "queue", "channel", "decision"],
)
TIME_TO_ROUTE = Histogram(
    "omniroute_time_to_route_seconds", "From queued to the first offer", ["domain", "queue", "channel"], buckets=SLA_BUCKETS
)
CONTACT_WAIT = Histogram(
    "omniroute_contact_wait_seconds", "Wait until answered or abandoned", ["domain", "queue", "channel", "outcome"],
    buckets=SLA_BUCKETS,
)
HANDLE_TIME = Histogram(
    "omniroute_contact_handle_seconds", "Handle time of completed contacts", ["domain", "queue", "channel"],
    buckets=SLA_BUCKETS,
)
OFFERS_ISSUED = Counter("omniroute_offers_issued_total", "Offers made to agents", ["domain", "queue", "channel"])
OFFER_OUTCOMES = Counter(
    "omniroute_offer_outcomes_total", "Offer outcomes: accepted, declined, expired", ["outcome"]
)
ABANDONED = Counter(
    "omniroute_contacts_abandoned_total", "Contacts abandoned while waiting (short: under the short-abandon time)",
    ["domain", "queue", "channel", "short"],
)
SLA_CONTACTS = Counter(
    "omniroute_sla_contacts_total", "Contacts that met or missed the SLA threshold (short abandons excluded)",
    ["domain", "queue", "channel", "result"],
)
SURVEYS = Histogram(
    "omniroute_survey_score", "CSAT scores (1-5) of post-contact surveys", ["domain", "queue", "channel"],
    buckets=(1, 2, 3, 4, 5),
)
COMPLAINTS = Counter("omniroute_complaints_total", "Surveys flagged as complaints", ["domain", "queue", "channel"])
CAMPAIGN_ATTEMPTS = Counter("omniroute_campaign_attempts_total",
                            "Outbound campaign attempts ended, per outcome (completed, busy, no_answer, ...)",
                            ["domain", "campaign", "channel", "outcome"])
DEFLECTIONS = Counter("omniroute_deflections_total",
                      "Self-service articles shown before a contact (offered) and that solved it (accepted)",
                      ["domain", "queue", "channel", "outcome"])
HANDLER_PAUSES = Counter(
    "omniroute_handler_pauses_total", "Event handling paused by a transient infrastructure failure, then retried",
    ["loop"])
CONSUMER_LAG = Gauge(
    "omniroute_kafka_consumer_lag", "Messages not yet consumed, summed over assigned partitions",
    ["service", "group", "topic"],
)


async def record_consumer_lag(consumer, service: str, group: str) -> None:
    """Set CONSUMER_LAG from an aiokafka consumer's positions and high watermarks."""
    lag: dict[str, int] = {}
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            continue
        lag[tp.topic] = lag.get(tp.topic, 0) + max(0, high - await consumer.position(tp))
    for topic, n in lag.items():
        CONSUMER_LAG.labels(service=service, group=group, topic=topic).set(n)
