from __future__ import annotations

import math
import warnings

import optuna
import pytest

from glassml.search import (
    ALGORITHM_PARAM,
    ALGORITHMS,
    TASKS,
    algorithm_spec_from_params,
    portfolio_trials,
    resolve_algorithms,
    suggest_config,
    trial_params,
)
from glassml.spec import AlgorithmSpec

PLAIN_TYPES = (int, float, str, bool, type(None))


def create_study(seed: int) -> optuna.Study:
    with warnings.catch_warnings():
        # group=True is experimental in Optuna 5.1 and warns on every sampler.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, constant_liar=True, n_startup_trials=5
        )
    return optuna.create_study(sampler=sampler)


def loss(spec: AlgorithmSpec) -> float:
    """Return a deterministic stand-in for a validation loss that depends on every numeric value."""
    numbers = [value for value in spec.params.values() if type(value) in (int, float)]
    return sum(math.log1p(abs(float(number))) for number in numbers) + len(spec.name)


def run_search(seed: int, task: str, n_trials: int, n_open: int = 2) -> list[AlgorithmSpec]:
    """Ask `n_open` trials at a time before telling them, as parallel workers do."""
    study = create_study(seed)
    algorithms = resolve_algorithms(None, None, task)
    specs = []
    while len(specs) < n_trials:
        batch = []
        for _ in range(n_open):
            trial = study.ask()
            batch.append((trial, suggest_config(trial, algorithms, task=task, n_rows=300, n_features=8)))
        for trial, spec in batch:
            study.tell(trial, loss(spec))
            specs.append(spec)
    return specs


@pytest.mark.parametrize("task", TASKS)
def test_suggest_config_reproducible_for_seed(task: str) -> None:
    first = run_search(seed=3, task=task, n_trials=16)
    second = run_search(seed=3, task=task, n_trials=16)
    other_seed = run_search(seed=4, task=task, n_trials=16)

    assert first == second
    assert first != other_seed
    assert len({spec.name for spec in first}) > 1


def test_suggest_config_prefixes_trial_params() -> None:
    study = create_study(seed=0)
    algorithms = resolve_algorithms(None, None, "binary")
    for _ in range(10):
        trial = study.ask()
        spec = suggest_config(trial, algorithms, task="binary", n_rows=300, n_features=8)
        study.tell(trial, loss(spec))

        assert trial.params[ALGORITHM_PARAM] == spec.name
        other_keys = [key for key in trial.params if key != ALGORITHM_PARAM]
        assert all(key.startswith(spec.name + ".") for key in other_keys), other_keys


def test_suggest_config_includes_fixed_params() -> None:
    trial = optuna.trial.FixedTrial(
        {
            "algorithm": "random_forest",
            "random_forest.n_estimators": 120,
            "random_forest.max_features": 0.5,
            "random_forest.min_samples_leaf": 3,
        }
    )

    spec = suggest_config(trial, [ALGORITHMS["random_forest"]], task="regression", n_rows=1000, n_features=5)

    assert spec == AlgorithmSpec(
        name="random_forest",
        params={
            "n_estimators": 120,
            "max_features": 0.5,
            "min_samples_leaf": 3,
            "criterion": "squared_error",
            "bootstrap": True,
        },
    )


def test_suggest_config_params_are_plain_python() -> None:
    for task in TASKS:
        for spec in run_search(seed=1, task=task, n_trials=10):
            for key, value in spec.params.items():
                assert type(value) in PLAIN_TYPES, (task, key, type(value))


def test_suggest_config_empty_algorithms_raises() -> None:
    trial = optuna.trial.FixedTrial({})
    with pytest.raises(ValueError, match=r"algorithms is empty: give at least one learner"):
        suggest_config(trial, [], task="binary", n_rows=100, n_features=3)


@pytest.mark.parametrize("n_rows", [20, 150, 5000, 1_000_000])
@pytest.mark.parametrize("task", TASKS)
def test_portfolio_trials_enqueue_round_trip(task: str, n_rows: int) -> None:
    algorithms = resolve_algorithms(None, None, task)
    portfolio = portfolio_trials(algorithms, task=task, n_rows=n_rows, n_features=8)
    study = create_study(seed=0)
    for params in portfolio:
        study.enqueue_trial(params)

    for params in portfolio:
        with warnings.catch_warnings():
            # Optuna warns when an enqueued value lies outside the suggested distribution.
            warnings.simplefilter("error")
            trial = study.ask()
            spec = suggest_config(trial, algorithms, task=task, n_rows=n_rows, n_features=8)
        study.tell(trial, loss(spec))

        assert trial.params == params
        assert spec == algorithm_spec_from_params(params, task=task)
        assert [type(value) for value in trial.params.values()] == [type(value) for value in params.values()]


def test_portfolio_trials_order_interleaves_learners() -> None:
    algorithms = resolve_algorithms(None, None, "binary")

    portfolio = portfolio_trials(algorithms, task="binary", n_rows=2000, n_features=8)
    names = [params[ALGORITHM_PARAM] for params in portfolio]

    assert 9 <= len(names) <= 16
    assert names[:8] == [
        "lightgbm",
        "linear",
        "xgboost",
        "catboost",
        "extra_trees",
        "random_forest",
        "hist_gradient_boosting",
        "knn",
    ]
    assert set(names) == set(ALGORITHMS)


@pytest.mark.parametrize("n_rows", [20, 150, 5000])
@pytest.mark.parametrize("task", TASKS)
def test_portfolio_trials_are_distinct(task: str, n_rows: int) -> None:
    algorithms = resolve_algorithms(None, None, task)

    portfolio = portfolio_trials(algorithms, task=task, n_rows=n_rows, n_features=3)

    assert all(portfolio.count(params) == 1 for params in portfolio)


def test_portfolio_trials_only_given_algorithms() -> None:
    algorithms = resolve_algorithms(["random_forest", "xgboost"], None, "regression")

    portfolio = portfolio_trials(algorithms, task="regression", n_rows=500, n_features=4)
    names = [params[ALGORITHM_PARAM] for params in portfolio]

    assert names == ["xgboost", "random_forest", "xgboost"]


def test_portfolio_trials_scale_with_rows() -> None:
    lightgbm = [ALGORITHMS["lightgbm"]]

    small = portfolio_trials(lightgbm, task="binary", n_rows=150, n_features=8)[0]
    large = portfolio_trials(lightgbm, task="binary", n_rows=100_000, n_features=8)[0]

    assert small["lightgbm.num_leaves"] == 15
    assert large["lightgbm.num_leaves"] == 31
    assert small["lightgbm.n_estimators"] == 200
    assert large["lightgbm.n_estimators"] == 300


def test_trial_params_prefixes_config() -> None:
    params = trial_params(ALGORITHMS["linear"], {"alpha": 0.01, "l1_ratio": 0.5})

    assert params == {"algorithm": "linear", "linear.alpha": 0.01, "linear.l1_ratio": 0.5}


def test_algorithm_spec_from_params_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match=r"invalid 'algorithm' parameter 'svm': expected one of lightgbm"):
        algorithm_spec_from_params({"algorithm": "svm"}, task="binary")
    with pytest.raises(ValueError, match=r"invalid 'algorithm' parameter None"):
        algorithm_spec_from_params({"linear.C": 1.0}, task="binary")


def test_algorithm_spec_from_params_foreign_param() -> None:
    params = {"algorithm": "linear", "linear.C": 1.0, "lightgbm.num_leaves": 31}

    with pytest.raises(ValueError, match=r"unexpected parameter 'lightgbm.num_leaves' for algorithm 'linear'"):
        algorithm_spec_from_params(params, task="binary")
