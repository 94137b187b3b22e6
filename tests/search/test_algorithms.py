from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import optuna
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from glassml.errors import UserInputError
from glassml.search import ALGORITHMS, TASKS, Algorithm, resolve_algorithms

SEED = 7
PLAIN_TYPES = (int, float, str, bool, type(None))


@pytest.fixture(autouse=True)
def _one_openmp_thread() -> Iterator[None]:
    # The worker limits OpenMP threads with threadpool_limits, and so does this fixture. Unlimited,
    # the idle threads of histogram gradient boosting spin, which made a fit over ten times slower on
    # a busy 2-core machine.
    with threadpool_limits(1):
        yield


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


@pytest.mark.parametrize(
    "name", ["random_forest", "extra_trees", "linear", "catboost", "hist_gradient_boosting", "knn"]
)
def test_algorithm_params_are_constructor_arguments(name: str) -> None:
    # LightGBM and XGBoost take **kwargs, so their constructors cannot reject a misspelt name.
    algorithm = ALGORITHMS[name]
    module = importlib.import_module(algorithm.module)
    for task in TASKS:
        arguments = set(inspect.signature(getattr(module, algorithm.class_name(task))).parameters)
        configs = algorithm.portfolio(task=task, n_rows=500, n_features=12)
        configs += sampled_configs(algorithm, task, n_rows=500, n_features=12, count=1)
        names = {algorithm.seed_param, algorithm.threads_param, algorithm.rounds_param} - {None}
        names |= set(algorithm.fixed_params(task)).union(*configs)

        assert names <= arguments, (task, names - arguments)


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
    assert ALGORITHMS["catboost"].seed_param == "random_seed"
    assert ALGORITHMS["catboost"].threads_param == "thread_count"
    assert ALGORITHMS["catboost"].fixed_params("multiclass")["allow_writing_files"] is False
    assert ALGORITHMS["hist_gradient_boosting"].fixed_params("binary") == {"early_stopping": False}
    assert ALGORITHMS["hist_gradient_boosting"].threads_param is None
    assert ALGORITHMS["knn"].seed_param is None
    assert ALGORITHMS["knn"].threads_param == "n_jobs"
    assert ALGORITHMS["knn"].needs_scaling is True
    handles_missing = [name for name, algorithm in ALGORITHMS.items() if algorithm.handles_missing]
    assert handles_missing == ["lightgbm", "xgboost", "catboost", "hist_gradient_boosting"]
    assert [name for name, algorithm in ALGORITHMS.items() if not algorithm.supports_sample_weight] == ["knn"]
    assert [name for name, algorithm in ALGORITHMS.items() if not algorithm.accepts_sparse] == [
        "hist_gradient_boosting"
    ]


def test_rounds_param_per_learner() -> None:
    rounds = {name: algorithm.rounds_param for name, algorithm in ALGORITHMS.items()}

    assert rounds == {
        "lightgbm": "n_estimators",
        "xgboost": "n_estimators",
        "random_forest": None,
        "extra_trees": None,
        "linear": None,
        "catboost": "n_estimators",
        "hist_gradient_boosting": "max_iter",
        "knn": None,
    }


@pytest.mark.parametrize("name", [name for name, algorithm in ALGORITHMS.items() if algorithm.rounds_param])
def test_rounds_param_is_sampled(name: str) -> None:
    algorithm = ALGORITHMS[name]
    rounds_param = algorithm.rounds_param
    for task in TASKS:
        distributions = sampled_distributions(algorithm, n_rows=500, task=task)
        portfolio = algorithm.portfolio(task=task, n_rows=500, n_features=10)

        assert isinstance(distributions[algorithm.trial_param_name(rounds_param)], optuna.distributions.IntDistribution)
        assert rounds_param not in algorithm.fixed_params(task)
        assert all(isinstance(config[rounds_param], int) for config in portfolio), task


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


def sampled_distributions(
    algorithm: Algorithm, n_rows: int, n_features: int = 10, task: str = "binary"
) -> dict[str, Any]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=SEED))
    trial = study.ask()
    algorithm.sample(trial, task=task, n_rows=n_rows, n_features=n_features)
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
        ("catboost", "n_estimators"),
        ("catboost", "depth"),
        ("hist_gradient_boosting", "max_iter"),
        ("hist_gradient_boosting", "max_leaf_nodes"),
        ("hist_gradient_boosting", "min_samples_leaf"),
        ("knn", "n_neighbors"),
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


def test_knn_neighbors_fit_in_training_split() -> None:
    for n_rows in (1, 3, 4, 10, 150, 2500, 100_000):
        high = sampled_distributions(ALGORITHMS["knn"], n_rows=n_rows)["knn.n_neighbors"].high

        assert 1 <= high <= 50, n_rows
        assert high <= max(1, n_rows // 2), n_rows


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

    assert names == [
        "lightgbm",
        "xgboost",
        "random_forest",
        "extra_trees",
        "linear",
        "catboost",
        "hist_gradient_boosting",
        "knn",
    ]


def test_resolve_algorithms_allowed_and_blocked() -> None:
    allowed = resolve_algorithms(["linear", "LightGBM", "extra-trees"], None, "regression")
    blocked = resolve_algorithms(
        None, ["xgboost", "random_forest", "catboost", "hist_gradient_boosting", "knn"], "multiclass"
    )
    both = resolve_algorithms(["linear", "lightgbm"], ["linear"], "binary")

    assert [algorithm.name for algorithm in allowed] == ["lightgbm", "extra_trees", "linear"]
    assert [algorithm.name for algorithm in blocked] == ["lightgbm", "extra_trees", "linear"]
    assert [algorithm.name for algorithm in both] == ["lightgbm"]


def test_resolve_algorithms_unknown_name_suggests() -> None:
    with pytest.raises(UserInputError, match=r"unknown algorithm 'lightgmb' in the allowed algorithms") as error:
        resolve_algorithms(["lightgmb"], None, "binary")

    assert "Valid names are lightgbm, xgboost, random_forest, extra_trees, linear, catboost" in str(error.value)
    assert "Did you mean 'lightgbm'?" in str(error.value)


def test_resolve_algorithms_unknown_blocked_name() -> None:
    with pytest.raises(UserInputError, match=r"unknown algorithm 'svm' in the blocked algorithms"):
        resolve_algorithms(None, ["svm"], "binary")


def test_resolve_algorithms_new_learner_names() -> None:
    allowed = resolve_algorithms(["CatBoost", "hist-gradient-boosting", "KNN"], None, "binary")
    blocked = resolve_algorithms(None, ["catboost", "hist_gradient_boosting", "knn"], "regression")

    assert [algorithm.name for algorithm in allowed] == ["catboost", "hist_gradient_boosting", "knn"]
    assert [algorithm.name for algorithm in blocked] == [
        "lightgbm",
        "xgboost",
        "random_forest",
        "extra_trees",
        "linear",
    ]
    assert [algorithm.display_name for algorithm in allowed] == [
        "CatBoost",
        "Histogram gradient boosting",
        "k-nearest neighbours",
    ]


def test_resolve_algorithms_knn_row_limit() -> None:
    limit = ALGORITHMS["knn"].max_default_rows
    assert limit is not None

    at_limit = resolve_algorithms(None, None, "binary", n_rows=limit)
    above_limit = resolve_algorithms(None, None, "binary", n_rows=limit + 1)
    allowed_by_name = resolve_algorithms(["knn", "linear"], None, "binary", n_rows=limit * 10)

    assert "knn" in [algorithm.name for algorithm in at_limit]
    assert "knn" not in [algorithm.name for algorithm in above_limit]
    assert len(above_limit) == len(ALGORITHMS) - 1
    assert [algorithm.name for algorithm in allowed_by_name] == ["linear", "knn"]


def test_resolve_algorithms_row_limit_leaves_nothing() -> None:
    others = [name for name in ALGORITHMS if name != "knn"]

    with pytest.raises(UserInputError, match=r"no algorithm is left to search") as error:
        resolve_algorithms(None, others, "regression", n_rows=1_000_000)

    assert "Not searched unless allowed by name: knn (1,000,000 training rows is more than" in str(error.value)


def test_resolve_algorithms_sample_weights() -> None:
    weighted = resolve_algorithms(None, None, "multiclass", sample_weights=True)

    assert [algorithm.name for algorithm in weighted] == [name for name in ALGORITHMS if name != "knn"]
    with pytest.raises(UserInputError, match=r"algorithm knn cannot fit with sample weights"):
        resolve_algorithms(["lightgbm", "knn"], None, "binary", sample_weights=True)
    blocked = resolve_algorithms(["lightgbm", "knn"], ["knn"], "binary", sample_weights=True)
    assert [algorithm.name for algorithm in blocked] == ["lightgbm"]


def test_resolve_algorithms_nothing_left() -> None:
    with pytest.raises(UserInputError, match=r"no algorithm is left to search: allowed \['linear'\], blocked"):
        resolve_algorithms(["linear"], ["linear"], "binary")
    with pytest.raises(UserInputError, match=r"no algorithm is left to search: allowed \[\], blocked all"):
        resolve_algorithms([], None, "binary")


def test_resolve_algorithms_string_instead_of_list() -> None:
    with pytest.raises(UserInputError, match=r"invalid allowed algorithms 'lightgbm': give a list of names"):
        resolve_algorithms("lightgbm", None, "binary")


CLASS_WEIGHT_PARAMS = {
    "lightgbm": ("class_weight", "balanced"),
    "random_forest": ("class_weight", "balanced"),
    "extra_trees": ("class_weight", "balanced"),
    "linear": ("class_weight", "balanced"),
    "hist_gradient_boosting": ("class_weight", "balanced"),
    "catboost": ("auto_class_weights", "Balanced"),
}


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_class_weights_searched_for_classification_only(name: str) -> None:
    algorithm = ALGORITHMS[name]
    for task in TASKS:
        distributions = sampled_distributions(algorithm, n_rows=500, task=task)
        weight_params = {key for key in distributions if "class_weight" in key}
        portfolio = algorithm.portfolio(task=task, n_rows=500, n_features=10)

        if task == "regression" or name not in CLASS_WEIGHT_PARAMS:
            assert weight_params == set(), task
            continue
        param, balanced = CLASS_WEIGHT_PARAMS[name]
        assert weight_params == {algorithm.trial_param_name(param)}, task
        assert distributions[algorithm.trial_param_name(param)].choices == (None, balanced)
        assert all(config[param] is None for config in portfolio), task


@pytest.mark.parametrize("name", list(CLASS_WEIGHT_PARAMS))
def test_balanced_class_weights_fit(name: str) -> None:
    algorithm = ALGORITHMS[name]
    param, balanced = CLASS_WEIGHT_PARAMS[name]
    X, y = load_task_data("binary")
    X = prepare_features(algorithm, X)
    params = algorithm.portfolio(task="binary", n_rows=X.shape[0], n_features=X.shape[1])[0] | {param: balanced}
    # Fully grown trees reproduce their training rows whatever the weights, so score other rows.
    X_train, y_train, X_new = X[:160], y[:160], X[160:]

    unweighted_model = fit_without_warnings(
        build_estimator(algorithm, "binary", {**params, param: None}), X_train, y_train
    )
    weighted_model = fit_without_warnings(build_estimator(algorithm, "binary", params), X_train, y_train)
    unweighted = predictions(unweighted_model, X_new, "binary")
    weighted = predictions(weighted_model, X_new, "binary")

    assert weighted.shape == (X_new.shape[0], 2)
    assert not np.array_equal(weighted, unweighted)


# XGBoost 3 rejects class labels other than 0..K-1, so it cannot fit a training split that misses
# a class. Stratified validation keeps every class in every split.
@pytest.mark.parametrize("name", [name for name in ALGORITHMS if name != "xgboost"])
def test_classes_index_probability_columns(name: str) -> None:
    # A training split can miss a class, so the script places probabilities by model.classes_.
    algorithm = ALGORITHMS[name]
    X, y = load_task_data("multiclass")
    X = prepare_features(algorithm, X)
    train_rows = y != 1
    params = algorithm.portfolio(task="multiclass", n_rows=int(train_rows.sum()), n_features=X.shape[1])[0]

    estimator = fit_without_warnings(build_estimator(algorithm, "multiclass", params), X[train_rows], y[train_rows])
    placed = np.zeros((X.shape[0], 3))
    placed[:, estimator.classes_] = estimator.predict_proba(X)

    assert estimator.classes_.dtype.kind == "i"
    assert estimator.classes_.tolist() == [0, 2]
    assert np.array_equal(placed[:, 1], np.zeros(X.shape[0]))
    np.testing.assert_allclose(placed.sum(axis=1), 1.0)
