"""Agent desktop: the page, its push stream (offers, contacts, messages, presence, and
the heartbeat that keeps the agent present), transcripts and customer context.

Actions (accept, decline, write, complete, presence) use the ordinary /v1 endpoints,
so the desktop obeys exactly the API's rules: an agent acts only on their own work.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi import (
    APIRouter,
    FastAPI,
    HTTPException,
    Request,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.router.bootstrap import Router
from services.router.entrypoints.desktop_feed import Desk, DesktopFeed, history_key

from ..deps import PrincipalDep, RouterDep
from .contacts import assigned_contact

router = APIRouter(tags=["desktop"])
pages = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parents[2] / "desktop"
ASSETS = {"desktop.js": "text/javascript", "desktop.css": "text/css"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
AUTH_TIMEOUT_S = 10
# WebSocket close codes: the reason text says why.
CLOSE_BAD_FRAME, CLOSE_BAD_TOKEN, CLOSE_FORBIDDEN, CLOSE_TIMEOUT = 4400, 4401, 4403, 4408


async def start_feed(app: FastAPI, r: Router) -> DesktopFeed:
    feed = DesktopFeed(r)
    await feed.start()
    app.state.desktop = feed
    return feed


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


async def _frame(ws: WebSocket) -> Frame:
    msg = await ws.receive()
    if msg["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(msg.get("code", 1000))
    try:
        return Frame.model_validate_json(msg.get("text") or "")
    except ValidationError:
        raise Refused(CLOSE_BAD_FRAME, "expected {\"type\": \"auth\"|\"heartbeat\"}") from None


async def _authenticate(ws: WebSocket, r: Router, agent_id: str) -> None:
    try:
        first = await asyncio.wait_for(_frame(ws), AUTH_TIMEOUT_S)
    except TimeoutError:
        raise Refused(CLOSE_TIMEOUT, "no auth frame") from None
    if first.type != "auth":
        raise Refused(CLOSE_BAD_FRAME, "the first frame must be auth")
    owner = await r.state.agent_for_token(first.token)
    if owner is None:
        raise Refused(CLOSE_BAD_TOKEN, "invalid agent token")
    if owner != agent_id:
        raise Refused(CLOSE_FORBIDDEN, "agents can open only their own stream")


async def snapshot(desk: Desk, agent_id: str) -> dict:
    r = desk.router
    a = await r.state.get_agent(agent_id) or {}
    now = await r.state.server_time_ms()
    offers = [{"type": "offer", "offer_id": o["id"], "contact_id": o["contact"], "channel": o["channel"],
               "queue": o["queue"], "ttl_ms": max(0, int(o["expires_at"]) - now),
               "contact": await desk.contact_summary(o["contact"])} for o in await r.state.pending_offers(agent_id)]
    contacts = [await desk.contact_summary(c) for c in await r.state.agent_contacts(agent_id)]
    return {"type": "hello", "agent": {"id": agent_id, "name": a.get("name", agent_id), "state": a.get("state"),
                                       "reason": a.get("reason", ""), "capacity": int(a.get("capacity", 0)),
                                       "load": int(a.get("load", 0))},
            "offers": offers, "contacts": [c for c in contacts if c]}


@router.websocket("/agents/{agent_id}/stream")
async def stream(ws: WebSocket, agent_id: str) -> None:
    """First frame {"type":"auth","token":...}; then {"type":"heartbeat"} keeps the
    agent present. The server pushes only this agent's offers, contacts and messages."""
    r: Router = ws.app.state.router
    desk: Desk = ws.app.state.desktop.desk
    await ws.accept()
    joined = False
    try:
        await _authenticate(ws, r, agent_id)
        desk.hub.add(agent_id, ws)
        joined = True
        await ws.send_json(await snapshot(desk, agent_id))
        while True:
            frame = await _frame(ws)
            if frame.type != "heartbeat":
                raise Refused(CLOSE_BAD_FRAME, "already authenticated")
            result = await r.state.heartbeat(agent_id)
            await ws.send_json({"type": "heartbeat", "result": result})
    except Refused as exc:
        await ws.close(exc.code, exc.reason)
    except WebSocketDisconnect:
        pass
    finally:
        if joined:
            desk.hub.remove(agent_id, ws)


# -- contact views for the assigned agent --------------------------------------------
@router.get("/contacts/{contact_id}/transcript")
async def transcript(contact_id: str, request: Request, router_: RouterDep, who: PrincipalDep) -> list[dict]:
    """The conversation so far, including what the customer wrote while waiting."""
    c = await assigned_contact(router_.state, contact_id, who)
    conversation = json.loads(c["data"]).get("conversation_id") or contact_id
    return await request.app.state.desktop.desk.transcripts.read(conversation)


@router.get("/contacts/{contact_id}/context")
async def context(contact_id: str, router_: RouterDep, who: PrincipalDep) -> dict:
    """Who the customer is: tier, identity and their previous contacts."""
    c = await assigned_contact(router_.state, contact_id, who)
    data = json.loads(c["data"])
    customer_id = c["customer"]
    profile = await router_.state.get_customer(customer_id) or {}
    history = await router_.redis.zrevrange(history_key(customer_id), 0, 10, withscores=True)
    earlier = [(m.decode(), at) for m, at in history if m.decode() != contact_id]
    found = await router_.state.get_contacts([pid for pid, _ in earlier])  # one round trip
    previous = [{"id": pid, "channel": p["channel"], "queue": p["queue"], "state": p["state"],
                 "disposition": p.get("disposition", ""), "at": at}
                for (pid, at), p in zip(earlier, found, strict=True) if p]
    return {"customer": data["customer"], "tier": c["tier"], "crm": profile, "intent": c["intent"],
            "queue": c["queue"], "channel": c["channel"], "metadata": data.get("metadata", {}),
            "previous": previous[:10]}
