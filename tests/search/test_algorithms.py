from __future__ import annotations

import importlib
import importlib.metadata
import warnings
from typing import Any

import numpy as np
import optuna
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from glassml.errors import UserInputError
from glassml.search import ALGORITHMS, TASKS, Algorithm, resolve_algorithms

SEED = 7
PLAIN_TYPES = (int, float, str, bool, type(None))


def load_task_data(task: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a small real dataset for `task` with labels encoded as 0..K-1, as the engine does."""
    if task == "binary":
        X, y = load_breast_cancer(return_X_y=True)
        X, y = X[:240], y[:240]
    elif task == "multiclass":
        X, y = load_iris(return_X_y=True)
    else:
        X, y = load_diabetes(return_X_y=True)
        X, y = X[:240], y[:240]
    return X.astype(np.float64), y


def build_estimator(algorithm: Algorithm, task: str, params: dict[str, Any]) -> Any:
    estimator_class = getattr(importlib.import_module(algorithm.module), algorithm.class_name(task))
    arguments = algorithm.fixed_params(task) | params
    if algorithm.seed_param is not None:
        arguments[algorithm.seed_param] = SEED
    if algorithm.threads_param is not None:
        arguments[algorithm.threads_param] = 1
    return estimator_class(**arguments)


def prepare_features(algorithm: Algorithm, X: np.ndarray) -> np.ndarray:
    """Apply what the flags promise: NaN kept for learners that handle it, scaling for linear models."""
    X = X.copy()
    if algorithm.handles_missing:
        X[::7, 0] = np.nan
    if algorithm.needs_scaling:
        X = StandardScaler().fit_transform(X)
    return X


def sampled_configs(algorithm: Algorithm, task: str, n_rows: int, n_features: int, count: int) -> list[dict[str, Any]]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=SEED))
    configs = []
    for _ in range(count):
        trial = study.ask()
        configs.append(algorithm.sample(trial, task=task, n_rows=n_rows, n_features=n_features))
        study.tell(trial, 0.0)
    return configs


def fit_without_warnings(estimator: Any, X: np.ndarray, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return estimator.fit(X, y)


def predictions(estimator: Any, X: np.ndarray, task: str) -> np.ndarray:
    return estimator.predict(X) if task == "regression" else estimator.predict_proba(X)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_algorithm_fits_without_warnings(name: str, task: str) -> None:
    algorithm = ALGORITHMS[name]
    X, y = load_task_data(task)
    X = prepare_features(algorithm, X)
    n_rows, n_features = X.shape

    configs = algorithm.portfolio(task=task, n_rows=n_rows, n_features=n_features)
    configs += sampled_configs(algorithm, task, n_rows, n_features, count=2)
    for params in configs:
        estimator = fit_without_warnings(build_estimator(algorithm, task, params), X, y)

        predicted = predictions(estimator, X, task)
        assert np.isfinite(predicted).all(), params
        if task != "regression":
            assert list(estimator.classes_) == sorted(set(y.tolist())), params


@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_algorithm_seeded_fit_is_reproducible(name: str, task: str) -> None:
    algorithm = ALGORITHMS[name]
    X, y = load_task_data(task)
    X = prepare_features(algorithm, X)
    params = algorithm.portfolio(task=task, n_rows=X.shape[0], n_features=X.shape[1])[0]

    first = predictions(build_estimator(algorithm, task, params).fit(X, y), X, task)
    second = predictions(build_estimator(algorithm, task, params).fit(X, y), X, task)

    np.testing.assert_array_equal(first, second)


def test_linear_extreme_params_converge() -> None:
    algorithm = ALGORITHMS["linear"]
    for task, params in [
        ("binary", {"C": 100.0, "class_weight": "balanced"}),
        ("multiclass", {"C": 100.0, "class_weight": None}),
        ("regression", {"alpha": 1e-5, "l1_ratio": 0.0}),
        ("regression", {"alpha": 1e-5, "l1_ratio": 1.0}),
    ]:
        X, y = load_task_data(task)
        X = prepare_features(algorithm, X)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            build_estimator(algorithm, task, params).fit(X, y)


def test_xgboost_multiclass_uses_softprob_on_codes() -> None:
    algorithm = ALGORITHMS["xgboost"]
    X, y = load_task_data("multiclass")
    params = algorithm.portfolio(task="multiclass", n_rows=X.shape[0], n_features=X.shape[1])[0]

    estimator = fit_without_warnings(build_estimator(algorithm, "multiclass", params), X, y)

    assert estimator.objective == "multi:softprob"
    assert estimator.predict_proba(X).shape == (X.shape[0], 3)
    assert set(estimator.predict(X).tolist()) <= {0, 1, 2}


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_algorithm_import_facts_resolve(name: str) -> None:
    algorithm = ALGORITHMS[name]
    module = importlib.import_module(algorithm.module)

    for task in TASKS:
        assert hasattr(module, algorithm.class_name(task)), task
    assert importlib.metadata.version(algorithm.distribution)
    assert algorithm.seed_param == "random_state"


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_algorithm_params_are_plain_python(name: str) -> None:
    algorithm = ALGORITHMS[name]
    for task in TASKS:
        configs = algorithm.portfolio(task=task, n_rows=500, n_features=12)
        configs += sampled_configs(algorithm, task, n_rows=500, n_features=12, count=5)
        configs.append(algorithm.fixed_params(task))
        for params in configs:
            for key, value in params.items():
                assert type(value) in PLAIN_TYPES, (task, key, type(value))


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_algorithm_fixed_params_not_sampled(name: str) -> None:
    algorithm = ALGORITHMS[name]
    for task in TASKS:
        sampled = sampled_configs(algorithm, task, n_rows=500, n_features=12, count=1)[0]
        fixed = algorithm.fixed_params(task)

        assert not set(sampled) & set(fixed), task
        assert algorithm.seed_param not in sampled | fixed
        assert algorithm.threads_param not in sampled | fixed


def test_algorithm_flags_match_learners() -> None:
    assert ALGORITHMS["lightgbm"].fixed_params("binary")["deterministic"] is True
    assert ALGORITHMS["lightgbm"].fixed_params("binary")["force_row_wise"] is True
    assert ALGORITHMS["xgboost"].fixed_params("regression") == {"tree_method": "hist"}
    assert ALGORITHMS["random_forest"].fixed_params("binary")["bootstrap"] is True
    assert ALGORITHMS["extra_trees"].fixed_params("binary")["bootstrap"] is False
    assert ALGORITHMS["linear"].threads_param is None
    assert ALGORITHMS["linear"].needs_scaling is True
    assert ALGORITHMS["linear"].high_cardinality_encoding == "target"
    assert [name for name, algorithm in ALGORITHMS.items() if algorithm.handles_missing] == ["lightgbm", "xgboost"]


def test_linear_names_depend_on_task() -> None:
    linear = ALGORITHMS["linear"]

    assert linear.class_name("binary") == "LogisticRegression"
    assert linear.class_name("regression") == "ElasticNet"
    assert linear.task_display_name("multiclass") == "Logistic regression"
    assert linear.task_display_name("regression") == "Elastic net"
    assert ALGORITHMS["random_forest"].task_display_name("regression") == "Random forest"


def test_algorithm_invalid_task_raises() -> None:
    with pytest.raises(ValueError, match=r"invalid task 'clustering': expected one of binary, multiclass"):
        ALGORITHMS["lightgbm"].class_name("clustering")


def test_algorithm_invalid_data_size_raises() -> None:
    trial = optuna.trial.FixedTrial({})
    with pytest.raises(ValueError, match=r"invalid n_rows 0: the search space needs at least one training row"):
        ALGORITHMS["xgboost"].sample(trial, task="binary", n_rows=0, n_features=3)
    with pytest.raises(ValueError, match=r"invalid n_features 0"):
        ALGORITHMS["xgboost"].portfolio(task="binary", n_rows=10, n_features=0)


def sampled_distributions(algorithm: Algorithm, n_rows: int, n_features: int = 10) -> dict[str, Any]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=SEED))
    trial = study.ask()
    algorithm.sample(trial, task="binary", n_rows=n_rows, n_features=n_features)
    return trial.distributions


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("lightgbm", "n_estimators"),
        ("lightgbm", "num_leaves"),
        ("lightgbm", "min_child_samples"),
        ("xgboost", "n_estimators"),
        ("xgboost", "max_depth"),
        ("xgboost", "min_child_weight"),
        ("random_forest", "min_samples_leaf"),
        ("extra_trees", "min_samples_leaf"),
    ],
)
def test_bounds_grow_with_rows(name: str, param: str) -> None:
    algorithm = ALGORITHMS[name]
    trial_param = algorithm.trial_param_name(param)

    small = sampled_distributions(algorithm, n_rows=150)[trial_param]
    large = sampled_distributions(algorithm, n_rows=100_000)[trial_param]

    assert small.high < large.high
    assert small.low == large.low


def test_bounds_for_small_data() -> None:
    lightgbm = sampled_distributions(ALGORITHMS["lightgbm"], n_rows=150)
    xgboost = sampled_distributions(ALGORITHMS["xgboost"], n_rows=150)

    assert lightgbm["lightgbm.num_leaves"].high == 15
    assert lightgbm["lightgbm.min_child_samples"].high == 7
    assert lightgbm["lightgbm.n_estimators"].high == 200
    assert xgboost["xgboost.max_depth"].high == 6


def test_feature_fraction_bound_for_few_features() -> None:
    few = sampled_distributions(ALGORITHMS["lightgbm"], n_rows=1000, n_features=2)
    many = sampled_distributions(ALGORITHMS["lightgbm"], n_rows=1000, n_features=50)

    assert few["lightgbm.colsample_bytree"].low == 1.0
    assert many["lightgbm.colsample_bytree"].low == 0.4


@pytest.mark.parametrize("n_rows", [1, 20, 10_000_000])
@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_algorithm_space_valid_at_extreme_sizes(name: str, n_rows: int) -> None:
    algorithm = ALGORITHMS[name]
    for task in TASKS:
        for n_features in (1, 1000):
            distributions = sampled_distributions(algorithm, n_rows=n_rows, n_features=n_features)
            for distribution in distributions.values():
                if isinstance(distribution, optuna.distributions.CategoricalDistribution):
                    continue
                assert distribution.low <= distribution.high, (task, n_features, distribution)


def test_resolve_algorithms_defaults_to_all() -> None:
    names = [algorithm.name for algorithm in resolve_algorithms(None, None, "binary")]

    assert names == ["lightgbm", "xgboost", "random_forest", "extra_trees", "linear"]


def test_resolve_algorithms_allowed_and_blocked() -> None:
    allowed = resolve_algorithms(["linear", "LightGBM", "extra-trees"], None, "regression")
    blocked = resolve_algorithms(None, ["xgboost", "random_forest"], "multiclass")
    both = resolve_algorithms(["linear", "lightgbm"], ["linear"], "binary")

    assert [algorithm.name for algorithm in allowed] == ["lightgbm", "extra_trees", "linear"]
    assert [algorithm.name for algorithm in blocked] == ["lightgbm", "extra_trees", "linear"]
    assert [algorithm.name for algorithm in both] == ["lightgbm"]


def test_resolve_algorithms_unknown_name_suggests() -> None:
    with pytest.raises(UserInputError, match=r"unknown algorithm 'lightgmb' in the allowed algorithms") as error:
        resolve_algorithms(["lightgmb"], None, "binary")

    assert "Valid names are lightgbm, xgboost, random_forest, extra_trees, linear" in str(error.value)
    assert "Did you mean 'lightgbm'?" in str(error.value)


def test_resolve_algorithms_unknown_blocked_name() -> None:
    with pytest.raises(UserInputError, match=r"unknown algorithm 'catboost' in the blocked algorithms"):
        resolve_algorithms(None, ["catboost"], "binary")


def test_resolve_algorithms_nothing_left() -> None:
    with pytest.raises(UserInputError, match=r"no algorithm is left to search: allowed \['linear'\], blocked"):
        resolve_algorithms(["linear"], ["linear"], "binary")
    with pytest.raises(UserInputError, match=r"no algorithm is left to search: allowed \[\], blocked all"):
        resolve_algorithms([], None, "binary")


def test_resolve_algorithms_string_instead_of_list() -> None:
    with pytest.raises(UserInputError, match=r"invalid allowed algorithms 'lightgbm': give a list of names"):
        resolve_algorithms("lightgbm", None, "binary")
