"""Live stats and staffing advice for supervisors (admin or ops token), plus a
WebSocket that pushes every new report."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from services.router.domain import commands as c
from services.router.domain.errors import RoutingError

from ..deps import SupervisorDep, bus_for
from ..schemas import Staffing, StatsReport, StatsSample

api = APIRouter(tags=["stats"])
AUTH_TIMEOUT_S = 10


@api.get("/stats")
async def get_stats(bus: SupervisorDep) -> StatsReport:
    """Per queue and channel and for the center, over the last 15 minutes and today."""
    snap = await bus.handle(c.GetStats())
    return StatsReport.model_validate({k: v for k, v in snap.items() if k != "staffing"})


@api.get("/stats/history")
async def get_history(bus: SupervisorDep) -> list[StatsSample]:
    """Samples of waiting contacts, service level and agents by state for plots."""
    return [StatsSample.model_validate(s) for s in await bus.handle(c.GetStatsHistory())]


@api.get("/staffing")
async def get_staffing(bus: SupervisorDep) -> Staffing:
    """Agents needed per queue and channel: Erlang C and, with observed patience, Erlang A."""
    snap = await bus.handle(c.GetStats())
    return Staffing(now_ms=snap["now_ms"], queues=snap["staffing"])


@api.websocket("/stats/stream")
async def stream(ws: WebSocket) -> None:
    """Send {"token": "...", "domain": "..." (optional)} first (a token in the URL would end
    up in access logs); then every report arrives as a JSON message, the first one at once."""
    await ws.accept()
    try:
        hello = await asyncio.wait_for(ws.receive_json(), AUTH_TIMEOUT_S)
    except (TimeoutError, ValueError, WebSocketDisconnect):
        await ws.close(code=1008, reason="send {\"token\": ...} first")
        return
    hello = hello if isinstance(hello, dict) else {}
    token, domain = hello.get("token"), hello.get("domain")
    try:
        bus = bus_for(ws.app, token if isinstance(token, str) else None, domain if isinstance(domain, str) else None)
        supervisor = await bus.handle(c.IsSupervisor(token if isinstance(token, str) else None))
    except RoutingError as exc:
        await ws.close(code=1008, reason=str(exc))
        return
    if not supervisor:
        await ws.close(code=1008, reason="admin or ops token required")
        return
    reports = await bus.handle(c.SubscribeStats())
    try:
        await ws.send_json({"type": "history", "samples": await bus.handle(c.GetStatsHistory())})
        await ws.send_json({"type": "report", **(await bus.handle(c.GetStats(fresh=False)))})
        while True:
            await ws.send_json({"type": "report", **(await reports.get())})
    except WebSocketDisconnect:
        pass
    finally:
        await bus.handle(c.UnsubscribeStats(reports))
