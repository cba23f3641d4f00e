"""Bounded retries with exponential backoff and full jitter, inside one invocation's time budget.

Time and randomness go through module-level names so that the local engine can put them on its clock and tests
can make sleeps instant and recorded:

    airbyte_client.retry.sleep = recorded.append

``monotonic`` measures budgets; ``wall_time`` is the epoch clock compared with Airbyte's job start times.
"""

from __future__ import annotations

import random as _random
import time
from dataclasses import dataclass

sleep = time.sleep
random = _random.random
monotonic = time.monotonic
wall_time = time.time

# Below this, an HTTP exchange is not worth starting: it would be cut off before Airbyte could answer.
MIN_EXCHANGE_SECONDS = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 1.0
    max_wait_seconds: float = 20.0  # cap per wait, Retry-After included
    budget_seconds: float = 120.0  # total time one invocation may spend, also capped by the Lambda timeout

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


class Budget:
    """How long this invocation may keep talking to Airbyte: its own budget, and never past the moment the Lambda
    function would time out (minus a margin to return an answer). Every exchange's timeouts are clipped to it, so
    token exchange + request + retries together always fit in the function's timeout."""

    def __init__(self, seconds: float, lambda_remaining_seconds: float | None = None, margin_seconds: float = 5.0):
        limit = seconds
        if lambda_remaining_seconds is not None:
            limit = min(limit, lambda_remaining_seconds - margin_seconds)
        self.ends_at = monotonic() + max(0.0, limit)

    def left(self) -> float:
        return max(0.0, self.ends_at - monotonic())

    def allows(self, seconds: float) -> bool:
        return self.left() >= seconds

    def timeouts(self, connect: float, read: float, keep: float = 0.0) -> tuple[float, float] | None:
        """(connect, read) timeouts for one exchange that ends at least ``keep`` seconds before the budget does,
        or None when not even a short exchange fits."""
        left = self.left() - keep
        if left < MIN_EXCHANGE_SECONDS:
            return None
        connect = min(connect, left / 2)
        return connect, max(MIN_EXCHANGE_SECONDS / 2, min(read, left - connect))
