"""What the chat handlers work with: the dependency bundle bootstrap builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shared.cloudevents import Envelope
from shared.events import ContactCreated, MessagePosted, SurveySubmitted
from shared.knowledge import KnowledgeBase
from shared.policy import Policy, domain_policy
from shared.sockets import SocketHub

from ..adapters.store import ChatStore
from ..settings import ChatSettings


class Publisher(Protocol):
    """The gateway SDK's producing side (each call returns after Kafka acknowledged)."""

    async def submit_contact(self, contact: ContactCreated) -> Envelope: ...
    async def end_contact(self, contact_id: str, reason: str = "customer_left") -> Envelope: ...
    async def post_message(self, message: MessagePosted) -> Envelope: ...
    async def submit_survey(self, survey: SurveySubmitted) -> Envelope: ...
    async def emit(self, type_suffix: str, data, key: str) -> Envelope: ...


@dataclass
class ChatDeps:
    publisher: Publisher
    store: ChatStore
    hub: SocketHub
    settings: ChatSettings
    policy: Policy = field(default=None)  # read from settings.policy_file unless given
    knowledge: KnowledgeBase = field(default=None)  # the policy's articles, indexed

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = domain_policy(self.settings.policy_file, self.settings.domain)
        if self.knowledge is None:
            self.knowledge = KnowledgeBase.of(self.policy)
