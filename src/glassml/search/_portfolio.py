"""The portfolio: strong default configurations that the search tries before Bayesian optimization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glassml.search._algorithms import Algorithm, check_task
from glassml.search._space import trial_params

# Learners in the order each portfolio round visits them: LightGBM is cheap and usually strong,
# the linear model is the cheapest, and extra trees fit faster than a random forest because they
# draw split points instead of searching them. CatBoost's first configuration cost less than the
# forests on four of the five tables in tests/datasets (300 to 600 rows). Histogram gradient
# boosting comes after the forests because it grows trees as LightGBM does, and k-nearest
# neighbours comes last because it is rarely the best learner on tables. Learners not listed here
# come last.
_ROUND_ORDER: tuple[str, ...] = (
    "lightgbm",
    "linear",
    "xgboost",
    "catboost",
    "extra_trees",
    "random_forest",
    "hist_gradient_boosting",
    "knn",
)


def portfolio_trials(
    algorithms: Sequence[Algorithm],
    *,
    task: str,
    n_rows: int,
    n_features: int,
) -> list[dict[str, Any]]:
    """List the portfolio as Optuna parameters to enqueue before the search starts.

    Round k contains the k-th configuration of every learner that has one, and each learner lists its
    configurations cheapest first, so cheap strong configurations of different learners come
    first. Every configuration lies inside the space of `suggest_config`, so a trial that
    ``study.enqueue_trial(params)`` queued suggests exactly those values.

    Parameters
    ----------
    algorithms : sequence of Algorithm
        The learners to search, as given to `suggest_config`.
    task : {"binary", "multiclass", "regression"}
        The task.
    n_rows, n_features : int
        Size of the training data, as given to `suggest_config`.

    Returns
    -------
    list of dict
        Optuna parameters: the ``"algorithm"`` key and the learner's prefixed hyperparameters.

    Examples
    --------
    >>> from glassml.search import ALGORITHMS
    >>> trials = portfolio_trials(list(ALGORITHMS.values()), task="binary", n_rows=1000, n_features=10)
    >>> [params["algorithm"] for params in trials][:8]
    ['lightgbm', 'linear', 'xgboost', 'catboost', 'extra_trees', 'random_forest', 'hist_gradient_boosting', 'knn']
    >>> [params["algorithm"] for params in trials][8:]
    ['lightgbm', 'xgboost', 'catboost', 'hist_gradient_boosting', 'lightgbm']
    """
    check_task(task)
    ordered = sorted(algorithms, key=_round_position)
    configs = {
        algorithm.name: algorithm.portfolio(task=task, n_rows=n_rows, n_features=n_features) for algorithm in ordered
    }

    trials = []
    n_rounds = max((len(algorithm_configs) for algorithm_configs in configs.values()), default=0)
    for round_index in range(n_rounds):
        for algorithm in ordered:
            algorithm_configs = configs[algorithm.name]
            if round_index < len(algorithm_configs):
                trials.append(trial_params(algorithm, algorithm_configs[round_index]))
    return trials


def _round_position(algorithm: Algorithm) -> int:
    if algorithm.name in _ROUND_ORDER:
        return _ROUND_ORDER.index(algorithm.name)
    return len(_ROUND_ORDER)
