"""The routing policy: read it, replace it for every replica, pick up changes; the
durable timers and the outbox relay that every replica runs."""

from __future__ import annotations

import yaml

from shared import logging as log
from shared.policy import read_policy_file

from ..domain import commands as c
from ..domain.errors import Invalid, PolicyConflict
from .deps import PolicyState, RouterDeps

logger = log.get("router.policy")


async def get_queues(msg: c.GetQueues, deps: RouterDeps) -> dict:
    return deps.policy.policy.model_dump()


async def get_queue_hours(msg: c.GetQueueHours, deps: RouterDeps) -> list[dict]:
    policy, now = deps.policy.policy, deps.store.now()
    return [{"queue": name, **policy.hours_of(name, now)} for name in policy.queues]


async def get_policy(msg: c.GetPolicy, deps: RouterDeps) -> tuple[int, object]:
    active = await deps.store.active_policy()
    return active if active is not None else (deps.policy.version, deps.policy.policy)


async def apply_policy(msg: c.ApplyPolicy, deps: RouterDeps) -> int:
    """Install a validated policy for every replica and move agents to the pools it
    defines. Returns the new version (0: `source` is the file installed already)."""
    if msg.policy.domain != deps.domain:
        raise Invalid(f"domain: this policy names routing domain {msg.policy.domain!r}, not {deps.domain!r}")
    # Refused (PolicyConflict) inside the install itself when contacts still wait in a
    # queue, step or channel it drops: one atomic step, no window for a late arrival.
    version = await deps.store.install_policy(msg.policy, msg.source)
    if version:
        await deps.store.requalify_agents(msg.policy)
    if version and msg.source is None:  # from the API: in force here at once
        deps.policy.policy, deps.policy.version = msg.policy, version
    return version


async def sync_policy(msg: c.SyncPolicy, deps: RouterDeps) -> int:
    """An edited policy file is installed for all replicas when it differs from the file
    installed last; a newer version in Redis (PUT /v1/policy anywhere) is taken up here.
    Returns the version in force."""
    state = deps.policy
    if _file_changed(state):
        await _install_file(state, deps)
    if await deps.store.policy_version() != state.version:  # one GET; the doc only when new
        active = await deps.store.active_policy()
        if active and active[0] != state.version:
            state.version, state.policy = active
            logger.info("policy_loaded", version=state.version)
    return state.version


def _file_changed(state: PolicyState) -> bool:
    """Whether the policy file may differ from what was read last (mtime and size)."""
    try:
        st = state.file.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    changed = stamp != state.file_stamp or stamp is None
    state.file_stamp = stamp
    return changed


async def _install_file(state: PolicyState, deps: RouterDeps) -> None:
    try:
        digest, from_file = read_policy_file(state.file)
    except (OSError, ValueError, yaml.YAMLError) as exc:  # a bad edit keeps the policy in force
        if state.file_hash != "invalid":
            logger.error("policy_file_invalid", path=str(state.file), error=str(exc))
        state.file_hash = "invalid"
        return
    if digest != state.file_hash:
        try:
            await apply_policy(c.ApplyPolicy(from_file, source=digest), deps)
            state.file_hash = digest
        except (PolicyConflict, Invalid) as exc:
            logger.error("policy_file_refused", path=str(state.file), error=str(exc))


async def due_timers(msg: c.DueTimers, deps: RouterDeps) -> list[str]:
    now = await deps.store.server_time_ms()
    return await deps.store.due_timers(now, msg.limit)


async def fire_timer(msg: c.FireTimer, deps: RouterDeps) -> str:
    return await deps.store.fire_timer(msg.member)


async def relay_outbox(msg: c.RelayOutbox, deps: RouterDeps) -> int:
    if msg.claim_abandoned:
        await deps.outbox.claim_abandoned()
    return await deps.outbox.run_once()
