"""Poll for an effect with a deadline instead of sleeping and hoping."""

import asyncio
import time


async def until(check, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Await `check()` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def service_ready(service) -> bool:
    """A service object's own readiness (what its /readyz answers)."""
    return bool((await service.readiness()).get("ready"))
