"""The WebSockets one service replica holds, by the id they belong to (an agent's
desktop, a customer's conversation). Frames go only to that id's own sockets."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from starlette.websockets import WebSocket


class SocketHub:
    def __init__(self):
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)

    def add(self, owner: str, ws: WebSocket) -> None:
        self._sockets[owner].add(ws)

    def remove(self, owner: str, ws: WebSocket) -> bool:
        """True when that was the owner's last socket here."""
        self._sockets[owner].discard(ws)
        if not self._sockets[owner]:
            del self._sockets[owner]
            return True
        return False

    def has(self, owner: str) -> bool:
        return owner in self._sockets

    def owners(self) -> list[str]:
        return list(self._sockets)

    async def send(self, owner: str, frame: dict) -> None:
        for ws in list(self._sockets.get(owner, ())):
            # A socket closing right now is cleaned up by its own handler.
            with contextlib.suppress(Exception):
                await ws.send_json(frame)
