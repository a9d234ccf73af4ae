"""Bounded shutdown. A service that can't stop is worse than one that stops untidily:
stopping several aiokafka consumers at once can hang in the group heartbeat routine
(aio-libs/aiokafka#773), so no shutdown step may wait forever."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable

from shared import logging as log

logger = log.get("lifecycle")


async def cancel_tasks(tasks: Iterable[asyncio.Task], seconds: float = 5.0) -> None:
    """Cancel background loops and wait for them, but not longer than `seconds`.

    A cancellation that lands while a library converts it (e.g. a Redis call's own
    timeout firing at the same moment) can be lost, and the loop runs on; so it is
    repeated until the task ends."""
    pending = {t for t in tasks if t is not None and not t.done()}
    deadline = asyncio.get_running_loop().time() + seconds
    while pending and asyncio.get_running_loop().time() < deadline:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
    for t in pending:
        logger.warning("task_did_not_stop", task=t.get_name(), seconds=seconds)


async def stop_within(step: Awaitable, what: str, seconds: float = 10.0) -> None:
    """Run one shutdown step (a consumer's or producer's stop) with a deadline."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        logger.warning("stop_timed_out", what=what, seconds=seconds)
        task.cancel()
    elif not task.cancelled() and task.exception() is not None:
        logger.warning("stop_failed", what=what, error=repr(task.exception()))
