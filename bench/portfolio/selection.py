"""Greedy forward selection of a portfolio from a matrix of candidate scores on tasks.

The matrix gives, for each task and candidate configuration, a validation score oriented so that
higher is better (None when the trial failed or was not run) and the seconds it took. A candidate's
normalized regret on a task is ``(best - score) / (best - worst)`` over the candidates considered,
so the best candidate has regret 0 and the worst, or a failed one, has regret 1. A portfolio's regret
on a task is the smallest regret of its members, and the selection minimizes its mean over tasks,
as in the zero-shot portfolios of auto-sklearn 2 and FLAML.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from statistics import mean

# Mean regrets that differ by less than this count as equal, so that the lower cost decides.
REGRET_TOLERANCE = 1e-9


def task_regrets(scores: Mapping[str, float | None]) -> dict[str, float]:
    """Return the normalized regret of each candidate on one task.

    Parameters
    ----------
    scores : mapping of str to float or None
        Score of each candidate on the task, where higher is better, or None when it failed.

    Returns
    -------
    dict of str to float
        0 for the best candidate, 1 for the worst and for failed ones. When every finished candidate
        has the same score, each finished one gets 0. When none finished, every candidate gets 1.
    """
    finished = [score for score in scores.values() if score is not None and math.isfinite(score)]
    if not finished:
        return {candidate: 1.0 for candidate in scores}
    best, worst = max(finished), min(finished)
    spread = best - worst
    regrets = {}
    for candidate, score in scores.items():
        if score is None or not math.isfinite(score):
            regrets[candidate] = 1.0
        elif spread > 0:
            regrets[candidate] = (best - score) / spread
        else:
            regrets[candidate] = 0.0
    return regrets


def regret_table(
    scores: Mapping[str, Mapping[str, float | None]], tasks: Collection[str], candidates: Collection[str]
) -> dict[str, dict[str, float]]:
    """Return ``{task: {candidate: regret}}``, normalized over `candidates` only.

    A candidate missing from a task's scores counts as failed on that task.
    """
    return {task: task_regrets({candidate: scores[task].get(candidate) for candidate in candidates}) for task in tasks}


def portfolio_regret(regrets: Mapping[str, Mapping[str, float]], portfolio: Sequence[str]) -> float:
    """Return the mean over tasks of the portfolio's smallest regret, which is 1.0 for an empty portfolio."""
    if not regrets:
        raise ValueError("regrets is empty: give the regrets of at least one task")
    return mean(
        min((by_candidate[candidate] for candidate in portfolio), default=1.0) for by_candidate in regrets.values()
    )


def select_greedy(regrets: Mapping[str, Mapping[str, float]], costs: Mapping[str, float], size: int) -> list[str]:
    """Select up to `size` candidates by greedy forward selection, in the order they were chosen.

    Each step adds the candidate that lowers the portfolio's mean regret the most. Mean regrets equal
    within `REGRET_TOLERANCE` are decided by the lower cost, then by the candidate id. Once the mean
    regret is 0, every later step adds the cheapest candidate left.

    Parameters
    ----------
    regrets : mapping
        ``{task: {candidate: regret}}`` as `regret_table` returns it.
    costs : mapping of str to float
        Cost of each candidate, for example its mean seconds over the tasks.
    size : int
        Number of candidates to select; fewer when there are fewer candidates.
    """
    if size < 0:
        raise ValueError(f"invalid size {size!r}: expected a number of candidates >= 0")
    best_regret = {task: 1.0 for task in regrets}
    remaining = sorted(costs)
    selected: list[str] = []
    while remaining and len(selected) < size:
        chosen = min(remaining, key=lambda candidate: _step_key(candidate, best_regret, regrets, costs))
        selected.append(chosen)
        remaining.remove(chosen)
        for task in regrets:
            best_regret[task] = min(best_regret[task], regrets[task][chosen])
    return selected


def _step_key(
    candidate: str,
    best_regret: Mapping[str, float],
    regrets: Mapping[str, Mapping[str, float]],
    costs: Mapping[str, float],
) -> tuple[float, float, str]:
    regret = mean(min(best_regret[task], regrets[task][candidate]) for task in regrets)
    return (round(regret / REGRET_TOLERANCE) * REGRET_TOLERANCE, costs[candidate], candidate)
