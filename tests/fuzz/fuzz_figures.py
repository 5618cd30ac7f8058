"""Requests the fuzzer sent, per operation, for the figures printed at the end of the run."""

from collections import Counter

SENT: Counter[str] = Counter()
