"""The joint search space: the learner first, then that learner's hyperparameters (define-by-run).

A trial's parameters are the ``"algorithm"`` choice plus the chosen learner's hyperparameters under
prefixed names (``"lightgbm.num_leaves"``), so the conditional spaces of different learners never
share a name. The bounds depend on the number of training rows and features, so every trial of one
study must be given the same `n_rows` and `n_features`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from glassml.search._algorithms import ALGORITHMS, Algorithm, check_task
from glassml.spec import AlgorithmSpec

ALGORITHM_PARAM = "algorithm"


def suggest_config(
    trial: optuna.trial.BaseTrial,
    algorithms: Sequence[Algorithm],
    *,
    task: str,
    n_rows: int,
    n_features: int,
) -> AlgorithmSpec:
    """Suggest a learner and its hyperparameters on `trial`.

    Parameters
    ----------
    trial : optuna.trial.BaseTrial
        The trial to suggest on, for example the result of ``study.ask()``.
    algorithms : sequence of Algorithm
        The learners to choose from, in the same order for every trial of the study.
    task : {"binary", "multiclass", "regression"}
        The task.
    n_rows, n_features : int
        Size of the training data, which sets the data-dependent bounds.

    Returns
    -------
    AlgorithmSpec
        The learner's registry name and its constructor parameters: the sampled ones followed by
        the fixed ones. The seed and the thread count are not included.

    Examples
    --------
    >>> trial = optuna.trial.FixedTrial({"algorithm": "linear", "linear.C": 0.5, "linear.class_weight": None})
    >>> spec = suggest_config(trial, [ALGORITHMS["linear"]], task="binary", n_rows=100, n_features=3)
    >>> spec.name
    'linear'
    >>> spec.params
    {'C': 0.5, 'class_weight': None, 'l1_ratio': 0.0, 'solver': 'lbfgs', 'max_iter': 1000}
    """
    check_task(task)
    if not algorithms:
        raise ValueError("algorithms is empty: give at least one learner, for example from resolve_algorithms()")

    by_name = {algorithm.name: algorithm for algorithm in algorithms}
    name = trial.suggest_categorical(ALGORITHM_PARAM, list(by_name))
    algorithm = by_name[name]

    sampled = algorithm.sample(trial, task=task, n_rows=n_rows, n_features=n_features)
    return _algorithm_spec(algorithm, sampled, task)


def algorithm_spec_from_params(params: Mapping[str, Any], *, task: str) -> AlgorithmSpec:
    """Rebuild the `AlgorithmSpec` of a trial from its Optuna parameters.

    Parameters
    ----------
    params : mapping
        The trial's parameters, such as ``FrozenTrial.params`` or an entry of `portfolio_trials`.
    task : {"binary", "multiclass", "regression"}
        The task the trial was suggested for.

    Returns
    -------
    AlgorithmSpec
        The same spec that `suggest_config` returned for the trial.
    """
    check_task(task)
    name = params.get(ALGORITHM_PARAM)
    if name not in ALGORITHMS:
        raise ValueError(f"invalid {ALGORITHM_PARAM!r} parameter {name!r}: expected one of {', '.join(ALGORITHMS)}")
    algorithm = ALGORITHMS[name]

    prefix = algorithm.trial_param_name("")
    sampled = {}
    for key, value in params.items():
        if key == ALGORITHM_PARAM:
            continue
        if not key.startswith(prefix):
            raise ValueError(f"unexpected parameter {key!r} for algorithm {name!r}: expected names starting {prefix!r}")
        sampled[key.removeprefix(prefix)] = value
    return _algorithm_spec(algorithm, sampled, task)


def trial_params(algorithm: Algorithm, config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the Optuna parameters that make a trial suggest `config` for `algorithm`.

    The result suits ``study.enqueue_trial``.
    """
    params: dict[str, Any] = {ALGORITHM_PARAM: algorithm.name}
    for key, value in config.items():
        params[algorithm.trial_param_name(key)] = value
    return params


def _algorithm_spec(algorithm: Algorithm, sampled: Mapping[str, Any], task: str) -> AlgorithmSpec:
    return AlgorithmSpec(name=algorithm.name, params={**sampled, **algorithm.fixed_params(task)})
