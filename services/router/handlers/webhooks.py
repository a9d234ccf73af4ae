"""Webhook subscriptions (admin) and deliveries: each subscriber gets the routing events
it asked for, in order per contact, at least once; a failing subscriber is retried with
backoff, and after the last attempt the delivery is given up (dead) and logged."""

from __future__ import annotations

import asyncio
import uuid

from shared import logging as log

from ..adapters.webhooks import DELIVERIES, new_secret
from ..domain import commands as c
from ..domain.errors import Invalid, NotFound
from ..domain.webhooks import Subscription, backoff_s
from .deps import RouterDeps

logger = log.get("router.webhooks")


async def create_webhook(msg: c.CreateWebhook, deps: RouterDeps) -> dict:
    if not msg.url.startswith(("https://", "http://")):
        raise Invalid("url: must be an http(s) URL")
    sub = Subscription(id=f"wh-{uuid.uuid4().hex[:12]}", url=msg.url, types=msg.types or ["*"],
                       secret=msg.secret or new_secret(), domain=deps.domain,
                       created_ms=int(deps.store.now().timestamp() * 1000), description=msg.description)
    await deps.webhooks.add(sub)
    return sub.view() | {"secret": sub.secret}  # shown once


async def list_webhooks(msg: c.ListWebhooks, deps: RouterDeps) -> list[Subscription]:
    return await deps.webhooks.all()


async def delete_webhook(msg: c.DeleteWebhook, deps: RouterDeps) -> str:
    if not await deps.webhooks.remove(msg.webhook_id):
        raise NotFound("no such webhook")
    return "deleted"


async def get_deliveries(msg: c.GetWebhookDeliveries, deps: RouterDeps) -> list[dict]:
    if await deps.webhooks.get(msg.webhook_id) is None:
        raise NotFound("no such webhook")
    return await deps.webhooks.deliveries(msg.webhook_id)


async def deliver(msg: c.DeliverWebhook, deps: RouterDeps) -> str:
    """Blocks this subscriber's stream only: it is delivered, or dead after the last try."""
    sub = await deps.webhooks.get(msg.webhook_id)
    env = msg.event
    if sub is None or not sub.wants(env.type):
        return "skipped"
    if await deps.webhooks.delivered(sub.id, env.id):
        return "duplicate"  # Kafka redelivered it (a rebalance before the commit)
    s = deps.settings
    error = ""
    for attempt in range(1, s.webhook_max_attempts + 1):
        error = await deps.webhook_sender.send(sub, env)
        if not error:
            await deps.webhooks.mark_delivered(sub.id, env.id)
            DELIVERIES.labels(result="delivered").inc()
            await _log(deps, sub, env, "delivered", attempt)
            return "delivered"
        DELIVERIES.labels(result="failed").inc()
        if attempt < s.webhook_max_attempts:
            await asyncio.sleep(backoff_s(attempt, s.webhook_backoff_s, s.webhook_backoff_max_s))
    DELIVERIES.labels(result="dead").inc()
    logger.warning("webhook_dead", webhook_id=sub.id, event_id=env.id, type=env.type, error=error)
    await _log(deps, sub, env, "dead", s.webhook_max_attempts, error)
    return "dead"


async def _log(deps: RouterDeps, sub: Subscription, env, status: str, attempts: int, error: str = "") -> None:
    data = env.data
    await deps.webhooks.log(sub.id, {"event_id": env.id, "type": env.type, "status": status, "attempts": attempts,
                                     "contact_id": getattr(data, "contact_id", None), "error": error,
                                     "at_ms": int(deps.store.now().timestamp() * 1000)})
