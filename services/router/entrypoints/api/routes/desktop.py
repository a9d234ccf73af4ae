"""Agent desktop: the page and its push stream (offers, contacts, messages, presence,
and the heartbeat that keeps the agent present).

Actions (accept, decline, write, complete, presence) use the ordinary /v1 endpoints,
so the desktop obeys exactly the API's rules: an agent acts only on their own work.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.router.domain import commands as c
from services.router.domain.errors import Forbidden, NotFound, Unauthorized
from services.router.messagebus import MessageBus

from ..deps import bus_for

api = APIRouter(tags=["desktop"])
pages = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parents[2] / "desktop"
ASSETS = {"desktop.js": "text/javascript", "desktop.css": "text/css"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
AUTH_TIMEOUT_S = 10
# WebSocket close codes: the reason text says why.
CLOSE_BAD_FRAME, CLOSE_BAD_TOKEN, CLOSE_FORBIDDEN, CLOSE_TIMEOUT = 4400, 4401, 4403, 4408


# -- pages ---------------------------------------------------------------------------
@pages.get("/desktop")
async def desktop_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


@pages.get("/desktop/{asset}")
async def desktop_asset(asset: str) -> FileResponse:
    if asset not in ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return FileResponse(STATIC / asset, media_type=ASSETS[asset])


# -- stream --------------------------------------------------------------------------
class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern=r"^(auth|heartbeat)$")
    token: str = Field(default="", max_length=200)


class Refused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


HEARTBEAT = Frame(type="heartbeat")
HEARTBEAT_TEXTS = {'{"type":"heartbeat"}', '{"type": "heartbeat"}'}  # what desktops send, as sent


async def _frame(ws: WebSocket) -> Frame:
    msg = await ws.receive()
    if msg["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(msg.get("code", 1000))
    text = msg.get("text") or ""
    if text in HEARTBEAT_TEXTS:  # the frame every desktop sends every few seconds
        return HEARTBEAT
    try:
        return Frame.model_validate_json(text)
    except ValidationError:
        raise Refused(CLOSE_BAD_FRAME, "expected {\"type\": \"auth\"|\"heartbeat\"}") from None


async def _open(ws: WebSocket, agent_id: str) -> tuple[MessageBus, dict]:
    """The auth frame, then the agent's snapshot (their socket now gets pushes), from the
    bus of the token's domain."""
    try:
        first = await asyncio.wait_for(_frame(ws), AUTH_TIMEOUT_S)
    except TimeoutError:
        raise Refused(CLOSE_TIMEOUT, "no auth frame") from None
    if first.type != "auth":
        raise Refused(CLOSE_BAD_FRAME, "the first frame must be auth")
    try:
        bus = bus_for(ws.app, first.token)
        return bus, await bus.handle(c.OpenDesktop(agent_id, first.token, ws))
    except (Unauthorized, NotFound) as exc:
        raise Refused(CLOSE_BAD_TOKEN, str(exc)) from None
    except Forbidden as exc:
        raise Refused(CLOSE_FORBIDDEN, str(exc)) from None


@api.websocket("/agents/{agent_id}/stream")
async def stream(ws: WebSocket, agent_id: str) -> None:
    """First frame {"type":"auth","token":...}; then {"type":"heartbeat"} keeps the
    agent present. The server pushes only this agent's offers, contacts and messages."""
    await ws.accept()
    bus: MessageBus | None = None
    try:
        bus, hello = await _open(ws, agent_id)
        await ws.send_json(hello)
        while True:
            frame = await _frame(ws)
            if frame.type != "heartbeat":
                raise Refused(CLOSE_BAD_FRAME, "already authenticated")
            result = await bus.handle(c.Heartbeat(agent_id, c.Caller(agent_id=agent_id)))
            await ws.send_json({"type": "heartbeat", "result": result})
    except Refused as exc:
        await ws.close(exc.code, exc.reason)
    except WebSocketDisconnect:
        pass
    finally:
        if bus is not None:
            await bus.handle(c.CloseDesktop(agent_id, ws))
