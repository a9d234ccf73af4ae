"""Webhook subscriptions in Redis (one domain's, under its hash tag) and the delivery of
one routing event to one subscriber: a CloudEvent in structured mode, signed the
Standard Webhooks way (HMAC-SHA256 of id, timestamp and body), over httpx."""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime

import httpx
from prometheus_client import Counter, Histogram
from redis.asyncio import Redis
from standardwebhooks import Webhook

from shared.cloudevents import Envelope, structured

from ..domain.webhooks import Subscription
from . import keys

LOG_KEEP = 200  # deliveries remembered per subscription
SENT_TTL_S = 86_400  # how long a delivered event id is remembered (redeliveries come within seconds)
DELIVERIES = Counter("omniroute_webhook_deliveries_total", "Webhook delivery attempts, by result: "
                     "delivered, failed (to be retried), dead (given up)", ["result"])
LATENCY = Histogram("omniroute_webhook_delivery_seconds", "Subscriber answer time (answered or not)",
                    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookStore:
    def __init__(self, redis: Redis, domain: str):
        self.redis, self.domain = redis, domain

    def _key(self, name: str, *parts: object) -> str:
        return keys.key(name, *parts, domain=self.domain)

    async def add(self, sub: Subscription) -> None:
        doc = {"url": sub.url, "types": sub.types, "secret": sub.secret, "created_ms": sub.created_ms,
               "description": sub.description}
        await self.redis.set(self._key("webhook", sub.id), json.dumps(doc))
        await self.redis.sadd(keys.constant("webhooks", self.domain), sub.id)

    async def all(self) -> list[Subscription]:
        ids = sorted(m.decode() for m in await self.redis.smembers(keys.constant("webhooks", self.domain)))
        docs = [await self.redis.get(self._key("webhook", i)) for i in ids]
        return [self._sub(i, json.loads(d)) for i, d in zip(ids, docs, strict=True) if d]

    async def get(self, sub_id: str) -> Subscription | None:
        doc = await self.redis.get(self._key("webhook", sub_id))
        return self._sub(sub_id, json.loads(doc)) if doc else None

    async def remove(self, sub_id: str) -> bool:
        await self.redis.srem(keys.constant("webhooks", self.domain), sub_id)
        return bool(await self.redis.delete(self._key("webhook", sub_id), self._key("webhook_log", sub_id)))

    async def delivered(self, sub_id: str, event_id: str) -> bool:
        return bool(await self.redis.exists(self._key("webhook_sent", sub_id, event_id)))

    async def mark_delivered(self, sub_id: str, event_id: str) -> None:
        await self.redis.set(self._key("webhook_sent", sub_id, event_id), "1", ex=SENT_TTL_S)

    async def log(self, sub_id: str, entry: dict) -> None:
        key = self._key("webhook_log", sub_id)
        await self.redis.lpush(key, json.dumps(entry))
        await self.redis.ltrim(key, 0, LOG_KEEP - 1)

    async def deliveries(self, sub_id: str) -> list[dict]:
        return [json.loads(e) for e in await self.redis.lrange(self._key("webhook_log", sub_id), 0, LOG_KEEP - 1)]

    def _sub(self, sub_id: str, doc: dict) -> Subscription:
        return Subscription(id=sub_id, url=doc["url"], types=doc["types"], secret=doc["secret"], domain=self.domain,
                            created_ms=int(doc["created_ms"]), description=doc.get("description", ""))


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, timeout_s: float):
        self.client, self.timeout_s = client, timeout_s

    async def send(self, sub: Subscription, event: Envelope) -> str:
        """One attempt: "" when the subscriber took it (2xx), else why not."""
        body = json.dumps(structured(event), separators=(",", ":"))
        now = datetime.now(UTC)
        headers = {"content-type": "application/cloudevents+json", "webhook-id": event.id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(sub.secret).sign(event.id, now, body)}
        started = time.perf_counter()
        try:
            r = await self.client.post(sub.url, content=body.encode(), headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        finally:
            LATENCY.observe(time.perf_counter() - started)
        return "" if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"
