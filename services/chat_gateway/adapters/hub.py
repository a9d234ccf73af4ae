"""The customer sockets this replica holds, by conversation."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from starlette.websockets import WebSocket


class Hub:
    def __init__(self):
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)

    def add(self, cid: str, ws: WebSocket) -> None:
        self._sockets[cid].add(ws)

    def remove(self, cid: str, ws: WebSocket) -> bool:
        """True when that was the conversation's last socket here."""
        self._sockets[cid].discard(ws)
        if not self._sockets[cid]:
            del self._sockets[cid]
            return True
        return False

    def conversations(self) -> list[str]:
        return list(self._sockets)

    async def send(self, cid: str, frame: dict) -> None:
        for ws in list(self._sockets.get(cid, ())):
            # A socket closing right now is cleaned up by its own handler.
            with contextlib.suppress(Exception):
                await ws.send_json(frame)
