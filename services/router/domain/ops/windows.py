"""Time buckets for the two stats windows: minute buckets (the last 15 minutes) and
local-day buckets (today). Intervals (agent states, handle time) are split across
buckets so each window sees exactly the part that falls inside it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000
RECENT_MINUTES = 15
MINUTE_TTL_S = 2 * 3600  # minute buckets only serve the 15-minute window
DAY_TTL_S = 8 * 86400


def minute_of(ms: int) -> int:
    return ms - ms % MINUTE_MS


def day_of(ms: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%Y%m%d")


def day_start(ms: int, tz: ZoneInfo) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz)
    return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)


def next_day_start(ms: int, tz: ZoneInfo) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz).date() + timedelta(days=1)
    return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)


def recent_minutes(now_ms: int) -> list[int]:
    """The minute buckets of the 15-minute window (the current minute included)."""
    last = minute_of(now_ms)
    return [last - i * MINUTE_MS for i in range(RECENT_MINUTES)]


def recent_start(now_ms: int) -> int:
    return recent_minutes(now_ms)[-1]


def split_minutes(start: int, end: int) -> Iterator[tuple[int, int]]:
    """(minute bucket, ms inside it) for [start, end); older than the minute TTL is dropped."""
    cur = max(start, end - MINUTE_TTL_S * 1000)
    while cur < end:
        bucket = minute_of(cur)
        stop = min(end, bucket + MINUTE_MS)
        yield bucket, stop - cur
        cur = stop


def split_days(start: int, end: int, tz: ZoneInfo) -> Iterator[tuple[str, int]]:
    cur = max(start, end - DAY_TTL_S * 1000)
    while cur < end:
        stop = min(end, next_day_start(cur, tz))
        yield day_of(cur, tz), stop - cur
        cur = stop
