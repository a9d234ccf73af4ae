"""Ending dropped chats when Kafka refuses the contact.ended: the conversations claimed
but not ended go back on the schedule (the loop retries them), none is lost. Fakes for
the store and the gateway here: the handler's own logic only."""

from dataclasses import dataclass, field

import pytest
from aiokafka.errors import KafkaTimeoutError

from services.chat_gateway.handlers import conversations
from services.chat_gateway.handlers.deps import ChatDeps
from services.chat_gateway.settings import ChatSettings
from shared.sockets import SocketHub

pytestmark = [pytest.mark.unit, pytest.mark.chat]


@dataclass
class Store:
    due: list[str]
    convs: dict[str, dict] = field(default_factory=dict)
    scheduled: list[str] = field(default_factory=list)

    async def claim_due_abandons(self, now_ms: int) -> list[str]:
        claimed, self.due = self.due, []
        return claimed

    async def schedule_abandon(self, cid: str, due_ms: int) -> None:
        self.scheduled.append(cid)

    async def get(self, cid: str) -> dict | None:
        return self.convs.get(cid)

    async def update(self, cid: str, **fields) -> bool:
        self.convs[cid].update(fields)
        return True

    async def unwait(self, cid: str, queue: str) -> None:
        return None


@dataclass
class Gateway:
    away_from: str  # Kafka goes away when this contact's contact.ended is sent
    ended: list[str] = field(default_factory=list)

    async def end_contact(self, cid: str, reason: str = "customer_left"):
        if cid == self.away_from:
            raise KafkaTimeoutError()
        self.ended.append(cid)


async def test_claimed_abandons_kafka_refused_go_back_on_the_schedule():
    store = Store(due=["c1", "c2", "c3"], convs={c: {"state": "queued", "queue": "support"} for c in ("c1", "c2", "c3")})
    gateway = Gateway(away_from="c2")
    deps = ChatDeps(publisher=gateway, store=store, hub=SocketHub(), settings=ChatSettings())
    with pytest.raises(KafkaTimeoutError):
        await conversations.end_dropped(deps)
    assert gateway.ended == ["c1"] and store.scheduled == ["c2", "c3"]  # nothing claimed is lost
    assert store.convs["c2"]["state"] == "queued"
