"""Takes up policy changes without a restart: an edited policy file, or a version
another replica installed (PUT /v1/policy)."""

from __future__ import annotations

from shared.loops import Loop

from ..domain.commands import SyncPolicy
from ..messagebus import MessageBus, named


def policy_watch(bus: MessageBus, poll_ms: int) -> Loop:
    return Loop(named("policy", bus), lambda: bus.handle(SyncPolicy()), pause_s=poll_ms / 1000, pause_first=True)
