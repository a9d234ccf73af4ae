"""What the email handlers work with: the dependency bundle bootstrap builds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaProducer

from shared.events import ContactCreated, ContactUpdated, MessagePosted
from shared.knowledge import KnowledgeBase
from shared.policy import Policy

from ..adapters.cases import CaseStore
from ..adapters.smtp_relay import SmtpRelay
from ..settings import EmailSettings


class Publisher(Protocol):
    """What handlers need of the gateway: each call returns once Kafka acknowledged."""

    producer: AIOKafkaProducer  # for the dead-letter topic

    async def submit_contact(self, contact: ContactCreated): ...
    async def update_contact(self, update: ContactUpdated): ...
    async def post_message(self, message: MessagePosted): ...
    async def emit(self, type_suffix: str, data, key: str): ...


@dataclass
class EmailDeps:
    settings: EmailSettings
    cases: CaseStore
    policy: Policy
    publisher: Publisher
    smtp_relay: SmtpRelay
    spawn: Callable[[Coroutine], object] = field(default=asyncio.ensure_future)
    knowledge: KnowledgeBase = field(default=None)  # the policy's articles, for acknowledgements

    def __post_init__(self) -> None:
        if self.knowledge is None:
            self.knowledge = KnowledgeBase.of(self.policy)
