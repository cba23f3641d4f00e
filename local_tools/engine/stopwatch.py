"""How long something took on the engine clock: real time, plus on a VirtualClock the virtual time its thread slept.

A handler that sleeps 45 virtual seconds and makes HTTP calls for 0.2 real seconds took 45.2 s: that is what a Lambda
function's Timeout and a Task's TimeoutSeconds are measured against. Only the sleeps made in the measuring thread
count (a Lambda invocation and the Task that makes it run in one thread), so another execution's Wait that advances
the shared VirtualClock meanwhile is not charged to this handler.
"""

from __future__ import annotations

import threading
import time


class _ThreadLedger(threading.local):
    """Per thread: virtual seconds slept, minus time credited back (see Stopwatch.credit)."""

    seconds: float = 0.0


_ledger = _ThreadLedger()


def record_virtual_sleep(seconds: float) -> None:
    """A sleep on a VirtualClock made by this thread (real sleeps are measured as real time already)."""
    if seconds > 0:
        _ledger.seconds += seconds


class Stopwatch:
    """Started at construction; `elapsed()` is the engine-clock time this thread spent since then."""

    def __init__(self) -> None:
        self._started_real = time.perf_counter()
        self._started_ledger = _ledger.seconds

    def elapsed(self) -> float:
        return (time.perf_counter() - self._started_real) + (_ledger.seconds - self._started_ledger)

    @staticmethod
    def credit(seconds: float) -> None:
        """Take `seconds` back from this thread's time: a Lambda function stopped at its Timeout did not run the
        rest of what the in-process handler (which cannot be killed) went on to do, so an enclosing Task's
        TimeoutSeconds must not count it."""
        _ledger.seconds -= seconds
