"""The live stats report (pure): per queue and channel and for the whole center,
over the last 15 minutes and today, from aggregates read by the adapter."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from . import staffing, windows
from .stats import CENTER, Live, Totals, figures, occupancy

Pair = tuple[str, str]


def agents_by_state(live: Live) -> dict[str, int]:
    out = {"available": 0, "busy": 0, "wrapup": 0, "not_ready": 0, "offline": 0}
    for state, n in live.agents.items():
        if n > 0:
            out[state] = n
    return out


def _occupancy(totals: Totals, live: Live, start: int, now: int) -> float | None:
    busy = totals["work_ms"] + live.open_ms("work", start, now)
    return occupancy(busy, totals["available_ms"] + live.open_ms("available", start, now),
                     totals["wrapup_ms"] + live.open_ms("wrapup", start, now))


def build(now: int, tz: ZoneInfo, sla: dict[Pair, tuple[float, float]], buckets: dict[Pair, tuple[Totals, Totals]],
          waiting: dict[Pair, tuple[int, int | None]], live: Live, eligible: dict[Pair, dict[str, int]]) -> dict:
    """`sla`: (threshold s, percent) per pair; `buckets`: (15 min, today) totals per pair."""
    recent_span_s = (now - windows.recent_start(now)) / 1000
    rows, advice = [], []
    center = (Totals(), Totals())
    for pair, (recent, today) in buckets.items():
        center[0].add(recent.values)
        center[1].add(today.values)
        if pair == CENTER:
            continue
        q, ch = pair
        n, head = waiting.get(pair, (0, None))
        threshold_s, percent = sla[pair]
        rows.append({
            "queue": q, "channel": ch, "sla": {"threshold_s": threshold_s, "percent": percent},
            "waiting": n, "longest_wait_s": max(0, now - head) / 1000 if head is not None else 0,
            "agents": eligible.get(pair, {"staffed": 0, "available": 0}),
            "15m": figures(recent), "today": figures(today),
        })
        advice.append({"queue": q, "channel": ch, "staffed": eligible.get(pair, {}).get("staffed", 0),
                       **staffing.advise(recent, today, recent_span_s, threshold_s, percent)})
    starts = {"15m": windows.recent_start(now), "today": windows.day_start(now, tz)}
    return {
        "now_ms": now,
        "windows": {k: {"start_ms": v, "end_ms": now} for k, v in starts.items()},
        "queues": rows,
        "center": {
            "agents": agents_by_state(live),
            "waiting": sum(r["waiting"] for r in rows),
            "15m": {**figures(center[0]), "occupancy": _occupancy(center[0], live, starts["15m"], now)},
            "today": {**figures(center[1]), "occupancy": _occupancy(center[1], live, starts["today"], now)},
        },
        "staffing": advice,
    }
