"""Trial costs measured during a run, to leave out configurations that cannot finish in time.

A trial's cost is taken as proportional to its size: the number of boosting rounds or trees (for
boosters, the upper bound of rounds that early stopping may use), or 1 for learners without one.
The cost per unit of size is measured on each learner's trials of the same run, so the table,
the validation scheme and the machine are the ones the next trial will see.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

# Parameters that set a learner's size, in the order they are looked up.
SIZE_PARAMS = ("n_estimators", "max_iter")


def trial_size(params: dict[str, Any]) -> float:
    """Return the size of a configuration: its rounds or trees, or 1 when it has neither."""
    for name in SIZE_PARAMS:
        value = params.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    return 1.0


class CostModel:
    """Seconds per unit of size for each learner, from the trials of this run."""

    def __init__(self) -> None:
        self._unit_seconds: dict[str, list[float]] = defaultdict(list)

    def observe(self, algorithm: str, size: float, seconds: float) -> None:
        """Record that a trial of `algorithm` whose `trial_size` is `size` took `seconds`.

        A trial that timed out is recorded with its timeout, a lower bound of its cost.
        """
        self._unit_seconds[algorithm].append(seconds / size)

    def predict(self, algorithm: str, size: float) -> float | None:
        """Return the estimated seconds of a trial, or None before any trial of `algorithm` ended."""
        measured = self._unit_seconds.get(algorithm)
        if not measured:
            return None
        return statistics.median(measured) * size
