"""Detection lag as a distribution: plain functions over poll times and job ends (no I/O).

A job that ends at e is seen by the first poll at or after e: lag(e) = (first poll >= e) - e, plus the end's own
state transitions (about 0 on virtual time, measured and added). For a policy whose poll times do not depend on
the job (fixed intervals, the adaptive default), one run gives every poll time, so the distribution over ends
uniform in the gap between two polls (the polling phase) is exact: uniform on (0, gap], mean gap/2, p95 0.95 gap,
max gap. For a policy that reads the job (predictive), the bench runs 20 end points per cell instead.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LagStats:
    mean: float
    p95: float
    max: float
    samples: int  # 0: exact (analytic over the polling phase)

    def to_json(self) -> dict:
        return {
            "mean": round(self.mean, 2),
            "p95": round(self.p95, 2),
            "max": round(self.max, 2),
            "samples": self.samples,
        }


def phase_lag(poll_times: list[float], nominal_end: float, end_offset: float = 0.0) -> LagStats:
    """Exact lag over ends uniform in the gap between the polls around ``nominal_end`` (the last poll before it
    and the first at or after it)."""
    polls = sorted(poll_times)
    after = bisect.bisect_left(polls, nominal_end)
    if after == 0 or after == len(polls):
        raise ValueError("the polls must surround the nominal end")
    gap = polls[after] - polls[after - 1]
    return LagStats(gap / 2 + end_offset, 0.95 * gap + end_offset, gap + end_offset, 0)


def lag_at(poll_times: list[float], end: float) -> float:
    """(first poll at or after ``end``) - ``end``."""
    polls = sorted(poll_times)
    index = bisect.bisect_left(polls, end)
    if index == len(polls):
        raise ValueError(f"no poll at or after {end}")
    return polls[index] - end


def sample_stats(lags: list[float]) -> LagStats:
    """Mean, p95 (nearest rank) and max of measured lags."""
    if not lags:
        return LagStats(math.nan, math.nan, math.nan, 0)
    ordered = sorted(lags)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return LagStats(sum(ordered) / len(ordered), ordered[rank - 1], ordered[-1], len(ordered))
