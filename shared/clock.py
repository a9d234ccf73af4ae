"""Wall-clock time in the unit events and Redis scores use."""

import time


def now_ms() -> int:
    return int(time.time() * 1000)
