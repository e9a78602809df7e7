"""One deadline per webhook request: every wait (lock, database lock, a duplicate) comes out of it."""
from __future__ import annotations

import time

MIN_WAIT_S = 0.05   # a wait shorter than this cannot succeed anyway


class Deadline:
    """Seconds left until the request must be answered (monotonic, so clock moves don't count)."""

    def __init__(self, seconds: float | None):
        self.ends = None if seconds is None else time.monotonic() + float(seconds)

    def left(self, cap: float | None = None) -> float:
        """Seconds left (at least MIN_WAIT_S), no more than `cap`."""
        if self.ends is None:
            return cap if cap is not None else 3600.0
        left = max(MIN_WAIT_S, self.ends - time.monotonic())
        return min(left, cap) if cap is not None else left

    def passed(self) -> bool:
        """Whether the request's time is up."""
        return self.ends is not None and time.monotonic() >= self.ends


NO_DEADLINE = Deadline(None)
