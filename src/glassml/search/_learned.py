"""Portfolios read from JSON: configurations learned on other tables, tried before the search.

A portfolio file lists configurations in the order to try them:

    {"configs": [{"algorithm": "lightgbm", "tasks": ["binary", "multiclass"],
                  "params": {"n_estimators": 500, "learning_rate": 0.05, ...}}, ...]}

`tasks` is optional (every task when absent). A configuration is fitted into the search space of
the table at hand. A number outside its range is moved to the nearest bound, because the bounds
depend on the number of rows and features. A missing parameter takes the learner's default. A
configuration whose learner is not searched, or that has a parameter outside the learner's space,
is left out.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna

from glassml.errors import UserInputError
from glassml.search._algorithms import ALGORITHMS, Algorithm, check_task
from glassml.search._space import trial_params

logger = logging.getLogger(__name__)

# The portfolio learned on the benchmark tables, shipped with glassml.
LEARNED_PORTFOLIO = Path(__file__).with_name("portfolio.json")


def read_portfolio(path: Path) -> list[dict[str, Any]]:
    """Read the configurations of a portfolio file, raising UserInputError when it is malformed."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"portfolio file {str(path)!r} not found; check the path") from None
    except json.JSONDecodeError as error:
        raise UserInputError(f"portfolio file {str(path)!r} is not valid JSON: {error}") from None
    configs = document.get("configs") if isinstance(document, dict) else None
    if not isinstance(configs, list) or not all(_is_config(config) for config in configs):
        raise UserInputError(
            f'portfolio file {str(path)!r} must contain {{"configs": [...]}}, each entry an object with '
            '"algorithm" (a name) and "params" (an object), and optionally "tasks" (a list)'
        )
    return configs


def _is_config(config: Any) -> bool:
    return (
        isinstance(config, dict)
        and isinstance(config.get("algorithm"), str)
        and isinstance(config.get("params"), dict)
        and isinstance(config.get("tasks", []), list)
    )


def fit_portfolio(
    configs: Sequence[dict[str, Any]],
    algorithms: Sequence[Algorithm],
    *,
    task: str,
    n_rows: int,
    n_features: int,
) -> list[dict[str, Any]]:
    """Return the configurations for `task` as Optuna parameters inside this table's search space.

    Parameters
    ----------
    configs : sequence of dict
        Entries of a portfolio file, in the order to try them.
    algorithms : sequence of Algorithm
        The learners searched; configurations of other learners are left out.
    task : {"binary", "multiclass", "regression"}
        The task.
    n_rows, n_features : int
        Size of the training data, which sets the search space's bounds.

    Returns
    -------
    list of dict
        Parameters for ``study.enqueue_trial``, duplicates removed.
    """
    check_task(task)
    by_name = {algorithm.name: algorithm for algorithm in algorithms}
    fitted: list[dict[str, Any]] = []
    for config in configs:
        if config["algorithm"] not in ALGORITHMS:
            logger.warning(
                "portfolio configuration left out: unknown algorithm %r; valid names are %s",
                config["algorithm"],
                ", ".join(ALGORITHMS),
            )
            continue
        algorithm = by_name.get(config["algorithm"])
        if algorithm is None or task not in config.get("tasks", [task]):
            continue
        params = _fit_to_space(algorithm, config["params"], task=task, n_rows=n_rows, n_features=n_features)
        if params is not None and params not in fitted:
            fitted.append(params)
    return fitted


def _fit_to_space(
    algorithm: Algorithm, config: dict[str, Any], *, task: str, n_rows: int, n_features: int
) -> dict[str, Any] | None:
    # A parameter the configuration lacks, such as one added to the space after it was learned,
    # takes its value from the learner's first default configuration.
    default = algorithm.portfolio(task=task, n_rows=n_rows, n_features=n_features)[0]
    params = trial_params(algorithm, {**default, **config})
    trial = optuna.trial.FixedTrial(params)
    try:
        with warnings.catch_warnings():
            # FixedTrial warns about values outside a range; they are moved to the bound below.
            warnings.simplefilter("ignore", UserWarning)
            algorithm.sample(trial, task=task, n_rows=n_rows, n_features=n_features)
    except ValueError as error:  # FixedTrial raises for a parameter it was not given
        logger.warning("portfolio configuration %s left out: %s", config, error)
        return None

    distributions = trial.distributions
    unused = set(params) - set(distributions) - {"algorithm"}
    if unused:
        logger.warning("portfolio configuration %s left out: unknown parameters %s", config, sorted(unused))
        return None
    fitted: dict[str, Any] = {"algorithm": algorithm.name}
    for name, distribution in distributions.items():
        value = _nearest_value(params[name], distribution)
        if value is _INVALID:
            logger.warning("portfolio configuration %s left out: %s=%r is not a choice", config, name, params[name])
            return None
        fitted[name] = value
    return fitted


_INVALID = object()


def _nearest_value(value: Any, distribution: optuna.distributions.BaseDistribution) -> Any:
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return value if value in distribution.choices else _INVALID
    if isinstance(distribution, optuna.distributions.IntDistribution):
        return int(min(max(round(value), distribution.low), distribution.high))
    if isinstance(distribution, optuna.distributions.FloatDistribution):
        return float(min(max(value, distribution.low), distribution.high))
    return _INVALID
