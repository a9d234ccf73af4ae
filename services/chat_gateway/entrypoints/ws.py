"""The customer's WebSocket: the first frame starts or resumes a conversation, then
messages flow both ways. Bad input closes the socket with a 44xx code and a reason."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from shared import logging as log

from ..adapters import metrics
from ..domain.chat import (
    CLOSE_BAD_FRAME,
    CLOSE_NORMAL,
    CLOSE_RATE_LIMITED,
    CLOSE_TIMEOUT,
    Leave,
    Ping,
    ProtocolError,
    Resume,
    Say,
    Start,
    Survey,
    parse_frame,
)
from ..handlers import conversations
from ..handlers.deps import ChatDeps

api = APIRouter()
logger = log.get("chat.ws")
FIRST_FRAME_TIMEOUT_S = 30


def client_ip(ws) -> str:
    return ws.client.host if ws.client else "unknown"


async def _receive(ws: WebSocket):
    msg = await ws.receive()
    if msg["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(msg.get("code", 1000))
    return parse_frame(msg.get("text"))  # None for a binary frame


@api.websocket("/ws")
async def chat_socket(ws: WebSocket) -> None:
    deps: ChatDeps = ws.app.state.service.deps
    await ws.accept()
    cid, left = None, False
    metrics.OPEN_SOCKETS.inc()
    try:
        if not await deps.store.allow(f"connect:{client_ip(ws)}", deps.settings.chat_connect_rate_per_min):
            raise ProtocolError(CLOSE_RATE_LIMITED, "too many chats from this address; try again in a minute")
        try:
            first = await asyncio.wait_for(_receive(ws), FIRST_FRAME_TIMEOUT_S)
        except TimeoutError:
            raise ProtocolError(CLOSE_TIMEOUT, "no start or resume frame") from None
        if isinstance(first, Start):
            cid = conversations.new_id()
            deps.hub.add(cid, ws)  # before the contact exists, so no queue update is missed
            frames = await conversations.start(deps, cid, first)
            metrics.CHATS_STARTED.inc()
        elif isinstance(first, Resume):
            cid, frames = await conversations.resume(deps, first)
            metrics.CHATS_RESUMED.inc()
            deps.hub.add(cid, ws)
        else:
            raise ProtocolError(CLOSE_BAD_FRAME, "the first frame must be start or resume")
        for frame in frames:
            await ws.send_json(frame)
        left = await _converse(ws, deps, cid)
    except ProtocolError as exc:
        logger.info("chat_socket_refused", code=exc.code, reason=exc.reason)
        metrics.SOCKETS_REFUSED.labels(code=str(exc.code)).inc()
        await ws.close(exc.code, exc.reason)
    except WebSocketDisconnect:
        pass
    finally:
        metrics.OPEN_SOCKETS.dec()
        if cid and deps.hub.remove(cid, ws) and not left:
            await conversations.dropped(deps, cid)


async def _converse(ws: WebSocket, deps: ChatDeps, cid: str) -> bool:
    """Until the customer leaves (True) or the socket drops (WebSocketDisconnect)."""
    while True:
        frame = await _receive(ws)
        if isinstance(frame, Say):
            if not await deps.store.allow(f"msg:{cid}", deps.settings.chat_message_rate_per_min):
                await ws.send_json({"type": "error", "code": "rate_limited", "detail": "slow down: message not sent"})
                continue
            conv = await deps.store.get(cid)
            if conv and conv.get("state") == "ended":
                await ws.send_json({"type": "error", "code": "ended", "detail": "this chat has ended"})
                continue
            await conversations.say(deps, cid, frame.text)
            metrics.CUSTOMER_MESSAGES.inc()
        elif isinstance(frame, Leave):
            await conversations.leave(deps, cid, "customer_left")
            await ws.send_json({"type": "ended", "reason": "customer_left"})
            await ws.close(CLOSE_NORMAL, "goodbye")
            return True
        elif isinstance(frame, Ping):
            await ws.send_json({"type": "pong"})
        elif isinstance(frame, Survey):
            await ws.send_json(await conversations.answer_survey(deps, cid, frame))
        else:
            raise ProtocolError(CLOSE_BAD_FRAME, f"unexpected {frame.type} frame in a conversation")
