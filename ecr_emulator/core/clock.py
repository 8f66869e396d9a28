"""The one source of time for the emulator.

`now()` reads `datetime.datetime.now`, so freezegun moves it in decorator mode. A server can move
its own clock forward with `advance()`, which lifecycle runs, token expiry and upload expiry all
see, because every one of them reads `now()`.
"""

import datetime
import threading

_lock = threading.Lock()
_offset = datetime.timedelta(0)


def now() -> datetime.datetime:
    """Return the emulator's current time, timezone-aware in UTC."""
    return datetime.datetime.now(datetime.timezone.utc) + _offset


def advance(delta: datetime.timedelta) -> datetime.datetime:
    """Move the emulator's clock forward by `delta` and return the new time."""
    global _offset
    if delta < datetime.timedelta(0):
        raise ValueError(f"the clock only moves forward; got {delta}")
    with _lock:
        _offset += delta
    return now()


def offset() -> datetime.timedelta:
    """Return how far `advance()` has moved the clock ahead of the system time."""
    return _offset


def reset() -> None:
    """Put the clock back on the system time."""
    global _offset
    with _lock:
        _offset = datetime.timedelta(0)
