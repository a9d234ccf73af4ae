"""Live stats and staffing advice for supervisors (admin or ops token), plus a
WebSocket that pushes every new report."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Request,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fastapi.security import HTTPAuthorizationCredentials

from services.router.ops.projector import Ops

from ..deps import bearer

router = APIRouter(tags=["stats"])
AUTH_TIMEOUT_S = 10


def get_ops(request: Request) -> Ops:
    return request.app.state.ops


def is_supervisor(ops: Ops, token: str | None) -> bool:
    allowed = [ops.router.settings.admin_token, ops.settings.ops_token]
    return bool(token) and any(t and hmac.compare_digest(token, t) for t in allowed)


def require_supervisor(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Ops:
    ops = get_ops(request)
    if not is_supervisor(ops, creds.credentials if creds else None):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "admin or ops token required",
                            headers={"WWW-Authenticate": "Bearer"})
    return ops


OpsDep = Annotated[Ops, Depends(require_supervisor)]


@router.get("/stats")
async def get_stats(ops: OpsDep) -> dict:
    """Per queue and channel and for the center, over the last 15 minutes and today."""
    snap = await ops.report()
    return {k: v for k, v in snap.items() if k != "staffing"}


@router.get("/stats/history")
async def get_history(ops: OpsDep) -> list[dict]:
    """Samples of waiting contacts, service level and agents by state for plots."""
    return list(ops.history)


@router.get("/staffing")
async def get_staffing(ops: OpsDep) -> dict:
    """Agents needed per queue and channel: Erlang C and, with observed patience, Erlang A."""
    snap = await ops.report()
    return {"now_ms": snap["now_ms"], "queues": snap["staffing"]}


@router.websocket("/stats/stream")
async def stream(ws: WebSocket) -> None:
    """Send {"token": "..."} first (a token in the URL would end up in access logs);
    then every report arrives as a JSON message, the first one at once."""
    ops = get_ops(ws)
    await ws.accept()
    try:
        hello = await asyncio.wait_for(ws.receive_json(), AUTH_TIMEOUT_S)
    except (TimeoutError, ValueError, WebSocketDisconnect):
        await ws.close(code=1008, reason="send {\"token\": ...} first")
        return
    if not is_supervisor(ops, hello.get("token") if isinstance(hello, dict) else None):
        await ws.close(code=1008, reason="admin or ops token required")
        return
    queue = ops.subscribe()
    try:
        await ws.send_json({"type": "history", "samples": list(ops.history)})
        await ws.send_json({"type": "report", **(ops.latest or await ops.report())})
        while True:
            await ws.send_json({"type": "report", **(await queue.get())})
    except WebSocketDisconnect:
        pass
    finally:
        ops.unsubscribe(queue)
