"""The agent desktop sockets this router replica holds, by agent."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from starlette.websockets import WebSocket


class AgentHub:
    def __init__(self):
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)

    def add(self, agent_id: str, ws: WebSocket) -> None:
        self._sockets[agent_id].add(ws)

    def remove(self, agent_id: str, ws: WebSocket) -> None:
        self._sockets[agent_id].discard(ws)
        if not self._sockets[agent_id]:
            del self._sockets[agent_id]

    async def send(self, agent_id: str, frame: dict) -> None:
        """Only ever to that agent's own sockets."""
        for ws in list(self._sockets.get(agent_id, ())):
            with contextlib.suppress(Exception):  # a closing socket cleans up after itself
                await ws.send_json(frame)
