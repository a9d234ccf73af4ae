"""Staffing advice per queue and channel from observed load (pure)."""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache

from . import erlang
from .stats import Totals, patience_s


@lru_cache(maxsize=512)
def _needed(traffic: float, aht_s: float, target_s: float, percent: float, patience: float | None):
    return erlang.needed(traffic, aht_s, target_s, percent, patience)


def _view(s: erlang.Staffing | None) -> dict | None:
    if s is None:
        return None
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(s).items()}


def advise(recent: Totals, today: Totals, span_s: float, target_s: float, percent: float) -> dict:
    """Agents needed for `percent` within `target_s` at the arrival rate of the recent
    window; handle time and patience from the recent window, else from today."""
    rate = recent["offered"] / span_s if span_s > 0 else 0.0
    src = recent if recent["completed"] else today
    aht = src["handle_ms"] / src["completed"] / 1000 if src["completed"] else None
    patience = patience_s(recent) or patience_s(today)
    traffic = rate * aht if aht else 0.0
    # Rounded inputs: the same load gives the same (cached) answer on every tick.
    key = (round(traffic, 3), round(aht or 0, 1), target_s, percent)
    c = _needed(*key, None) if traffic else None
    a = _needed(*key, round(patience, 1)) if traffic and patience else None
    return {
        "arrivals_per_hour": round(rate * 3600, 2), "aht_s": aht, "traffic_erlang": round(traffic, 3),
        "patience_s": patience, "target_s": target_s, "percent": percent,
        "erlang_c": _view(c), "erlang_a": _view(a),
    }
