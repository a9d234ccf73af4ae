"""A policy whose queues are closed now and open in a few minutes (real time), for the
gateways' closed-hours tests: the router's clock is then moved to the opening."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from shared.policy import DEFAULT_POLICY_FILE


@dataclass(frozen=True)
class ClosedPolicy:
    file: Path
    opens_at: dt.datetime  # UTC

    @property
    def opens_at_ms(self) -> int:
        return int(self.opens_at.timestamp() * 1000)


def closed_policy(folder: Path, base: Path = DEFAULT_POLICY_FILE, opens_in_min: int = 10) -> ClosedPolicy:
    """`base` with every queue on a daily schedule (UTC) that opens `opens_in_min` minutes
    from now, for an hour (to midnight at most)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    opens = now + dt.timedelta(minutes=opens_in_min + 1)
    start = opens.hour * 60 + opens.minute
    end = min(start + 60, 24 * 60)
    hours = [f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"]
    doc = yaml.safe_load(base.read_text())
    doc["schedules"] = {"office": {"timezone": "UTC", "weekly": {d: hours for d in
                                                                 ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}}
    for queue in doc["queues"].values():
        queue["schedule"] = "office"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "closed.yaml"
    file.write_text(yaml.safe_dump(doc))
    return ClosedPolicy(file, opens)
