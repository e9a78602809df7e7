"""Time: stored in UTC, shown in the configured zone; injected so tests can move it."""
from datetime import datetime, timedelta, timezone
from threading import Lock

UTC = timezone.utc


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        """Returns the current time, timezone-aware, in UTC."""
        return datetime.now(UTC)

    def timestamp(self) -> int:
        """Returns the current Unix time in seconds."""
        return int(self.now().timestamp())


class FrozenClock(Clock):
    """A clock that only moves when told to (tests, replay)."""

    def __init__(self, start: datetime | None = None):
        self._now = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta) -> datetime:
        """Moves the clock forward by a timedelta's keyword arguments."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, when: datetime) -> None:
        """Puts the clock at a given aware time."""
        with self._lock:
            self._now = when.astimezone(UTC)
