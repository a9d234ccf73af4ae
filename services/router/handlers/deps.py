"""What the router's handlers work with: the dependency bundle bootstrap builds (real
adapters in production, a fake store in handler and route tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from shared.cloudevents import Envelope
from shared.events import DEFAULT_DOMAIN
from shared.policy import Policy

if TYPE_CHECKING:  # the real adapters, named for readers and type checkers only
    from ..adapters.crm import CustomerDirectory
    from ..adapters.oidc import OidcProvider
    from ..adapters.webhooks import WebhookSender, WebhookStore
    from ..adapters.outbox import OutboxRelay
    from ..adapters.stats_board import StatsBoard
    from ..adapters.stats_store import StatsStore
    from ..adapters.store import RoutingStore
    from ..settings import RouterSettings


class Publisher(Protocol):
    """Publishes an event and returns once Kafka acknowledged it (acks=all)."""

    async def publish(self, event: Envelope) -> None: ...


class Sockets(Protocol):
    def has(self, owner: str) -> bool: ...
    def add(self, owner: str, ws: Any) -> None: ...
    def remove(self, owner: str, ws: Any) -> bool: ...
    async def send(self, owner: str, frame: dict) -> None: ...


@dataclass
class PolicyState:
    """The routing policy in force on this replica and where it came from."""

    policy: Policy
    file: Path
    version: int = 0
    file_hash: str = ""  # of the policy file installed last ("invalid": unreadable)
    file_stamp: tuple[int, int] | None = None  # mtime and size when it was read last


@dataclass
class RouterDeps:
    """What one routing domain's handlers work with (each domain has its own)."""

    settings: RouterSettings
    store: RoutingStore
    policy: PolicyState
    publisher: Publisher
    desks: Sockets
    outbox: OutboxRelay | None = None
    stats: StatsStore | None = None
    board: StatsBoard | None = None
    customers: CustomerDirectory | None = None  # local profiles and the CRM; None: local only
    webhooks: WebhookStore | None = None
    webhook_sender: WebhookSender | None = None
    sso: OidcProvider | None = None  # single sign-on; None: static tokens only
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    domain: str = DEFAULT_DOMAIN
