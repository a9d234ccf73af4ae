"""Cases each fuzzer ran, per service: printed at the end of the session."""

from collections import Counter

CASES: Counter = Counter()
