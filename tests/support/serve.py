"""Real listening servers for ASGI apps, for clients that need a socket (WebSocket,
browser, subprocess), not the in-process ASGI transport."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import uvicorn

from .poll import until


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a program that must be told its port)."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports: each socket stays bound until all are chosen (one at a
    time, the system may hand out the same port twice)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


@contextlib.asynccontextmanager
async def serve(app, lifespan: str = "auto") -> AsyncIterator[str]:
    """uvicorn serving `app` on a free port; yields its base URL. lifespan="off" when the
    caller already runs the app's lifespan."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan=lifespan, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started or task.done(), 30, what="uvicorn start")
    if task.done():
        task.result()  # raises why it did not start
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def ready(http: httpx.AsyncClient, url: str = "/readyz") -> bool:
    """Whether the service says ready; False too while it is not listening yet."""
    try:
        return (await http.get(url)).status_code == 200
    except httpx.TransportError:
        return False
