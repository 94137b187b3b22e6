"""The leaderboard: trials ranked by the primary metric, failed ones last."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from glassml.metrics import METRICS

if TYPE_CHECKING:
    from glassml.engine._search import TrialRecord


def leaderboard_entries(trials: list[TrialRecord], metric: str) -> list[dict[str, Any]]:
    """Return one entry per trial, ordered by rank."""
    rows = [
        {
            "run_id": trial.run_id,
            "trial": trial.number,
            "algorithm": trial.algorithm,
            "status": trial.status,
            "metrics": trial.metrics or {},
            "fit_seconds": trial.fit_seconds,
            "error": trial.error,
        }
        for trial in trials
    ]
    return rank_entries(rows, metric)


def rank_entries(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Order entries by the primary metric (finished first, then by trial number) and number them."""
    direction = METRICS[metric]

    def key(row: dict[str, Any]) -> tuple[int, float, int]:
        value = row["metrics"].get(metric)
        if row["status"] != "finished" or value is None or not math.isfinite(value):
            return (1, 0.0, row["trial"])
        return (0, direction.loss(value), row["trial"])

    ranked = sorted(rows, key=key)
    return [{"rank": rank, **row} for rank, row in enumerate(ranked, start=1)]
