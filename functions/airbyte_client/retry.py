"""Bounded retries with exponential backoff and full jitter.

Time and randomness go through module-level functions so that the local engine can put them on virtual time
(``use_clock``) and tests can make sleeps instant and recorded:

    airbyte_client.retry.sleep = recorded.append

``monotonic`` measures the retry budget; ``wall_time`` is the epoch clock compared with Airbyte's job start times.
"""
from __future__ import annotations

import random as _random
import time
from dataclasses import dataclass

sleep = time.sleep
random = _random.random
monotonic = time.monotonic
wall_time = time.time


def use_clock(clock) -> None:
    """Put sleeps and both clocks on ``clock`` (an object with ``now()`` and ``sleep(seconds)``)."""
    global sleep, monotonic, wall_time
    sleep = clock.sleep
    monotonic = clock.now
    wall_time = clock.now


def use_real_time() -> None:
    global sleep, random, monotonic, wall_time
    sleep, random, monotonic, wall_time = time.sleep, _random.random, time.monotonic, time.time


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 1.0
    max_wait_seconds: float = 20.0      # cap per wait, Retry-After included
    budget_seconds: float = 120.0       # total time the retries may take, kept under the function timeout

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))] (attempt counts from 1)."""
        ceiling = min(self.max_wait_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return random() * ceiling

    def wait_before_next(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.max_wait_seconds, max(0.0, retry_after))
        return self.backoff(attempt)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is rare on APIs and treated as absent."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class Deadline:
    """The moment the retries must stop: the budget, or earlier when the Lambda is about to time out."""

    def __init__(self, budget_seconds: float, lambda_remaining_seconds: float | None = None, reserve_seconds: float = 0):
        self.started = monotonic()
        limit = budget_seconds
        if lambda_remaining_seconds is not None:
            limit = min(limit, lambda_remaining_seconds - reserve_seconds)
        self.at = self.started + max(0.0, limit)

    def allows_wait(self, seconds: float) -> bool:
        return monotonic() + seconds <= self.at
