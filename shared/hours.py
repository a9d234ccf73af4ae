"""Hours of operation: a weekly schedule in a time zone with dated exceptions (holidays,
short days). Pure: validated at load with the policy, asked "open at this instant?" and
"when does it open next?".

    timezone: Europe/London
    weekly: {mon: ["09:00-17:00"], ..., sat: ["10:00-14:00"]}   # days not named: closed
    holidays:
      - {date: 2026-12-25}                         # closed all day
      - {date: 2026-12-24, hours: ["09:00-13:00"]} # these hours instead of the week's
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
LOOKAHEAD_DAYS = 400  # a schedule with no opening within this is "never opens"


def _minutes(text: str) -> tuple[int, int]:
    m = RANGE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not an opening range HH:MM-HH:MM")
    start, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
    if end > 24 * 60 or end <= start:
        raise ValueError(f"{text!r} ends before it starts (a range cannot cross midnight: split it)")
    return start, end


def _ranges(items: list[str], where: str) -> list[tuple[int, int]]:
    ranges = sorted(_minutes(r) for r in items)
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            raise ValueError(f"{where}: opening ranges overlap")
    return ranges


class Holiday(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    date: dt.date
    hours: list[str] = Field(default_factory=list, description="Open these hours that day (none: closed)")
    name: str = Field(default="", max_length=100)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = Field(description="IANA time zone, e.g. Europe/London")
    weekly: dict[Day, list[str]] = Field(default_factory=dict, description="Opening ranges per weekday")
    holidays: list[Holiday] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        return tz

    @model_validator(mode="after")
    def _ranges_valid(self) -> Schedule:
        for day, items in self.weekly.items():
            _ranges(items, day)
        seen: set[dt.date] = set()
        for h in self.holidays:
            if h.date in seen:
                raise ValueError(f"holiday {h.date} is listed twice")
            seen.add(h.date)
            _ranges(h.hours, str(h.date))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ranges_on(self, day: dt.date) -> list[tuple[int, int]]:
        """Opening ranges (minutes after local midnight) on a local date."""
        for h in self.holidays:
            if h.date == day:
                return _ranges(h.hours, str(day))
        return _ranges(self.weekly.get(DAYS[day.weekday()], []), DAYS[day.weekday()])

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.ranges_on(local.date()))

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """The first instant at or after `at` when it is open (`at` itself if open now)."""
        day0 = at.astimezone(self.zone).date()
        for offset in range(LOOKAHEAD_DAYS):
            day = day0 + dt.timedelta(days=offset)
            midnight = dt.datetime.combine(day, dt.time(), self.zone)
            for start, end in self.ranges_on(day):
                if midnight + dt.timedelta(minutes=end) > at:
                    return max(midnight + dt.timedelta(minutes=start), at).astimezone(dt.UTC)
        return None

    def say_when(self, at: dt.datetime, year: bool = True) -> str:
        """An instant as a customer reads it, in the schedule's zone: 'Monday 30 November
        2026 at 09:00 GMT' (without the year for a chat's one line)."""
        return at.astimezone(self.zone).strftime(f"%A %d %B{' %Y' if year else ''} at %H:%M %Z")

    def describe(self) -> str:
        """The week's hours for a customer: 'mon-fri 09:00-17:00; sat 10:00-14:00 (Europe/London)'."""
        groups: list[tuple[list[str], str]] = []
        for day in DAYS:
            hours = ", ".join(self.weekly.get(day, [])) or "closed"
            if groups and groups[-1][1] == hours:
                groups[-1][0].append(day)
            else:
                groups.append(([day], hours))
        parts = [f"{days[0]}{'-' + days[-1] if len(days) > 1 else ''} {hours}" for days, hours in groups
                 if hours != "closed"]
        return f"{'; '.join(parts) or 'closed'} ({self.timezone})"
