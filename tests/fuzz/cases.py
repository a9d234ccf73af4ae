"""What the fuzzers share: the cases run per service (printed at the end of the module),
and drawing inputs from a hypothesis strategy for a test that sends them all at once."""

from collections import Counter

from hypothesis import HealthCheck, given, settings

CASES: Counter = Counter()


def drawn(strategy, n: int) -> list:
    """`n` examples of `strategy` (hypothesis generates; the caller sends them)."""
    out = []

    @given(example=strategy)
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    def draw(example):
        out.append(example)

    draw()
    return out
