"""The time budget: a run ends within its time limit, counted from the start of the process."""

from __future__ import annotations

import time

import psutil

# Seconds kept at the end for writing the leaderboard, stopping workers and exiting.
EXIT_RESERVE_SECONDS = 1.5


def process_start_time() -> float:
    """Return the `time.time()` at which this process started."""
    return psutil.Process().create_time()


class Budget:
    """The deadline of a run and how much of it the search may use.

    The search stops early enough to refit the best candidate: the refit reserve comes from the
    measured fit time of the best trial so far.
    """

    def __init__(self, started_at: float, time_limit: float | None) -> None:
        self.started_at = started_at
        self.time_limit = time_limit
        self.refit_reserve = 0.0

    @property
    def deadline(self) -> float:
        """The wall-clock time (`time.time()`) by which the run must have ended, or infinity."""
        if self.time_limit is None:
            return float("inf")
        return self.started_at + self.time_limit

    @property
    def search_deadline(self) -> float:
        return self.deadline - EXIT_RESERVE_SECONDS - self.refit_reserve

    def elapsed(self) -> float:
        return time.time() - self.started_at

    def search_time_left(self) -> float:
        return self.search_deadline - time.time()

    def time_left(self) -> float:
        return self.deadline - EXIT_RESERVE_SECONDS - time.time()

    def reserve_refit(self, fit_seconds: float, fits_per_trial: float, extra_seconds: float = 0.0) -> None:
        """Keep time to refit a candidate whose trial took `fit_seconds` over `fits_per_trial` fits.

        `extra_seconds` covers what a refit costs beyond the fit, such as preparing the data again.
        """
        one_fit = fit_seconds / max(fits_per_trial, 1.0)
        self.refit_reserve = 1.5 * one_fit + 1.0 + extra_seconds
