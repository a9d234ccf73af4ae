"""Channel gateway SDK: what a developer subclasses to add a channel.

A gateway turns its protocol's contacts into `contact.created` events, acknowledges the
customer only after Kafka acknowledged the event (docs/architecture.md: reliability), and reacts to routing
and message events for its contacts.

    class SmsGateway(ChannelGateway):
        channel = "sms"

        async def handle(self, event):          # routing/message events, optional
            if event.type == event_type("contact.assigned"): ...

    gw = SmsGateway(CommonSettings())
    await gw.start()
    await gw.submit_contact(ContactCreated(id=..., channel="sms", customer=...))
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from shared import consumer_loop, topics
from shared.cloudevents import Envelope, new_event
from shared.events import (
    DEFAULT_DOMAIN,
    ContactCreated,
    ContactEnded,
    ContactUpdated,
    MessagePosted,
    SurveySubmitted,
    event_type,
)
from shared.kafka import joined, make_consumer, make_producer, publish
from shared.lifecycle import cancel_tasks, stop_within
from shared.settings import CommonSettings


class ChannelGateway:
    channel: str = ""
    # Topics whose events reach `handle`; empty means the gateway only produces.
    subscribes: tuple[str, ...] = (topics.ROUTING, topics.MESSAGES)

    def __init__(self, settings: CommonSettings, *, group: str | None = None, offset_reset: str = "latest"):
        if not self.channel:
            raise TypeError("set `channel` on the gateway subclass")
        self.settings = settings
        self.domain = getattr(settings, "domain", DEFAULT_DOMAIN)
        self.source = f"omniroute/{self.channel}-gateway"
        self.producer = make_producer(settings.kafka_bootstrap, request_timeout_ms=settings.kafka_request_timeout_ms)
        self.consumer: AIOKafkaConsumer | None = None
        if self.subscribes:
            # Each gateway replica reacts to events for contacts it holds; a shared
            # group would split them, so every replica has its own, named after the
            # replica: a restart resumes at its committed offset (nothing missed, no orphans).
            group = group or f"omniroute-{self.channel}-gateway-{settings.replica}"
            self.consumer = make_consumer(settings.kafka_bootstrap, group, *self.subscribes, auto_offset_reset=offset_reset)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.producer.start()
        if self.consumer:
            await self.consumer.start()
            self._task = asyncio.create_task(consumer_loop.run(self.consumer, self.producer, self._handle, self.source))

    async def stop(self) -> None:
        await cancel_tasks([self._task])
        if self.consumer:
            await stop_within(self.consumer.stop(), f"{self.channel} gateway consumer")
        await stop_within(self.producer.stop(), f"{self.channel} gateway producer")

    def dead_loops(self) -> list[str]:
        return [f"{self.channel}-gateway-consumer"] if self._task is not None and self._task.done() else []

    def ready(self) -> bool:
        return self._task is None or (not self._task.done() and joined(self.consumer))

    async def _handle(self, event: Envelope) -> None:
        if event.routing_domain == self.domain:  # another domain's contacts are not ours
            await self.handle(event)

    async def handle(self, event: Envelope) -> None:
        """Override to react to routing and message events (of this gateway's domain)."""

    # -- producing: each returns once Kafka has acknowledged (acks=all) -----------
    async def emit(self, type_suffix: str, data, key: str) -> Envelope:
        event = new_event(event_type(type_suffix), data, source=self.source, key=key, domain=self.domain)
        await publish(self.producer, event)
        return event

    async def submit_contact(self, contact: ContactCreated) -> Envelope:
        if contact.channel != self.channel:
            raise ValueError(f"{self.channel} gateway cannot submit a {contact.channel} contact")
        return await self.emit("contact.created", contact, key=contact.id)

    async def update_contact(self, update: ContactUpdated) -> Envelope:
        return await self.emit("contact.updated", update, key=update.contact_id)

    async def end_contact(self, contact_id: str, reason: str = "customer_left") -> Envelope:
        return await self.emit("contact.ended", ContactEnded(contact_id=contact_id, reason=reason), key=contact_id)

    async def post_message(self, message: MessagePosted) -> Envelope:
        return await self.emit("message.posted", message, key=message.conversation_id)

    async def submit_survey(self, survey: SurveySubmitted) -> Envelope:
        return await self.emit("survey.submitted", survey, key=survey.contact_id)
