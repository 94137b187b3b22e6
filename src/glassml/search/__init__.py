"""Search space, learners and the portfolio of default configurations."""

from __future__ import annotations

from glassml.search._algorithms import (
    ALGORITHMS,
    TASKS,
    Algorithm,
    CatBoost,
    Forest,
    HistGradientBoosting,
    KNeighbors,
    LightGBM,
    Linear,
    XGBoost,
    resolve_algorithms,
)
from glassml.search._portfolio import portfolio_trials
from glassml.search._space import ALGORITHM_PARAM, algorithm_spec_from_params, suggest_config, trial_params

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_PARAM",
    "TASKS",
    "Algorithm",
    "CatBoost",
    "Forest",
    "HistGradientBoosting",
    "KNeighbors",
    "LightGBM",
    "Linear",
    "XGBoost",
    "algorithm_spec_from_params",
    "portfolio_trials",
    "resolve_algorithms",
    "suggest_config",
    "trial_params",
]
