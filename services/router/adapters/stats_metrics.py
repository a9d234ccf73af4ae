"""Prometheus side of ops: counters from projected events (shared/metrics.py) and a
collector exporting the latest stats snapshot as gauges."""

from __future__ import annotations

from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from shared import metrics as m

from ..domain.ops.stats import Config, Ctx, is_outbound


def observe(domain: str, type_: str, d, at_ms: int, ctx: Ctx, cfg: Config) -> None:
    """Count a newly projected event of `domain` (duplicates never reach here)."""
    kind = type_.removeprefix("omniroute.").removesuffix(".v1")
    if kind == "campaign.attempt_ended":
        m.CAMPAIGN_ATTEMPTS.labels(domain, d.campaign_id, d.channel, d.outcome).inc()
    elif is_outbound(d, ctx):
        return  # a campaign's call: counted by its campaign, not as inbound service
    elif kind == "contact.created":
        m.CONTACTS_RECEIVED.labels(channel=d.channel).inc()
    elif kind == "contact.queued" and not ctx.contact:
        m.ROUTING_DECISIONS.labels(domain, d.queue, d.channel, "queued").inc()
    elif kind == "contact.requeued" and ctx.contact:
        m.ROUTING_DECISIONS.labels(domain, d.queue, ctx.contact.get("channel", "unknown"), "requeued").inc()
    elif kind == "offer.issued":
        m.ROUTING_DECISIONS.labels(domain, d.queue, d.channel, "offered").inc()
        m.OFFERS_ISSUED.labels(domain, d.queue, d.channel).inc()
        if ctx.contact and not ctx.contact.get("routed_at"):
            m.TIME_TO_ROUTE.labels(domain, d.queue, d.channel).observe((at_ms - int(ctx.contact["queued_at"])) / 1000)
    elif kind.startswith("offer."):
        m.OFFER_OUTCOMES.labels(outcome=kind.split(".")[1]).inc()
    elif kind == "contact.assigned" and not (ctx.contact and ctx.contact.get("answered")):
        m.CONTACT_WAIT.labels(domain, d.queue, d.channel, "answered").observe(d.wait_ms / 1000)
        met = d.wait_ms <= cfg.sla_ms.get((d.queue, d.channel), 0)
        m.SLA_CONTACTS.labels(domain, d.queue, d.channel, "met" if met else "missed").inc()
    elif kind == "contact.abandoned":
        short = d.wait_ms < cfg.short_abandon_ms
        m.CONTACT_WAIT.labels(domain, d.queue, d.channel, "abandoned").observe(d.wait_ms / 1000)
        m.ABANDONED.labels(domain, d.queue, d.channel, str(short).lower()).inc()
        if not short:
            m.SLA_CONTACTS.labels(domain, d.queue, d.channel, "missed").inc()
    elif kind == "contact.completed":
        m.HANDLE_TIME.labels(domain, d.queue, d.channel).observe(d.handle_ms / 1000)
    elif kind.startswith("deflection."):
        m.DEFLECTIONS.labels(domain, d.queue, d.channel, kind.split(".")[1]).inc()
    elif kind == "survey.submitted":
        q, ch = (ctx.contact["queue"], ctx.contact["channel"]) if ctx.contact else ("unknown", "unknown")
        m.SURVEYS.labels(domain, q, ch).observe(d.score)
        if d.complaint:
            m.COMPLAINTS.labels(domain, q, ch).inc()


class SnapshotCollector(Collector):
    """Gauges straight from each domain's last snapshot, so /metrics and /v1/stats agree."""

    def __init__(self):
        self.snapshots: dict[str, dict] = {}  # domain -> its latest report

    def post(self, domain: str, snapshot: dict) -> None:
        self.snapshots[domain] = snapshot

    def collect(self):
        if not self.snapshots:
            return
        fams = {
            "waiting": GaugeMetricFamily("omniroute_contacts_waiting", "Contacts waiting for an agent", labels=["domain", "queue", "channel"]),
            "longest": GaugeMetricFamily("omniroute_contact_longest_wait_seconds", "Wait of the longest waiting contact", labels=["domain", "queue", "channel"]),
            "staffed": GaugeMetricFamily("omniroute_queue_agents_staffed", "Logged-in agents eligible for the queue and channel", labels=["domain", "queue", "channel"]),
            "available": GaugeMetricFamily("omniroute_queue_agents_available", "Eligible agents able to take a contact now", labels=["domain", "queue", "channel"]),
            "target": GaugeMetricFamily("omniroute_sla_target_ratio", "Service level target", labels=["domain", "queue", "channel"]),
            "threshold": GaugeMetricFamily("omniroute_sla_threshold_seconds", "Answer-within threshold of the SLA", labels=["domain", "queue", "channel"]),
            "sl": GaugeMetricFamily("omniroute_service_level_ratio", "Service level as /v1/stats reports it", labels=["domain", "queue", "channel", "window"]),
        }
        agents = GaugeMetricFamily("omniroute_agents", "Agents by state (busy: available with work)",
                                   labels=["domain", "state"])
        for domain, s in sorted(self.snapshots.items()):
            self._add(fams, agents, domain, s)
        yield from fams.values()
        yield agents

    @staticmethod
    def _add(fams: dict, agents: GaugeMetricFamily, domain: str, s: dict) -> None:
        for row in s["queues"]:
            lbl = [domain, row["queue"], row["channel"]]
            fams["waiting"].add_metric(lbl, row["waiting"])
            fams["longest"].add_metric(lbl, row["longest_wait_s"])
            fams["staffed"].add_metric(lbl, row["agents"]["staffed"])
            fams["available"].add_metric(lbl, row["agents"]["available"])
            fams["target"].add_metric(lbl, row["sla"]["percent"] / 100)
            fams["threshold"].add_metric(lbl, row["sla"]["threshold_s"])
            for window in ("15m", "today"):
                if row[window]["service_level"] is not None:
                    fams["sl"].add_metric([*lbl, window], row[window]["service_level"])
        for state, n in s["center"]["agents"].items():
            agents.add_metric([domain, state], n)


COLLECTOR = SnapshotCollector()
REGISTRY.register(COLLECTOR)
