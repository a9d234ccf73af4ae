"""Ops: live service levels, staffing advice and feedback, projected from events.

Kept apart from routing internals on purpose: the projector reads the events the
router publishes (omniroute.routing, .agents, .contacts) with its own consumer group
and keeps its own aggregates in Redis under `st:`.
"""
