"""Clocks shared by the local engine, the Airbyte emulator and the handlers' retry sleeps.

On a VirtualClock, waiting advances time instead of passing it, so a 24 h sync runs in seconds while every
component still agrees on what time it is.
"""

from __future__ import annotations

import threading
import time


class RealClock:
    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Starts at the real time; sleep() advances it instantly and records the interval."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds
