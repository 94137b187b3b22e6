"""The learners glassml searches: how each is imported, configured, sampled and seeded.

Each learner is an `Algorithm`. Its fields are the facts that the featurization and the code
generator read: import module, pip distribution, and whether it needs imputation or scaling. Its
methods return the parameters that are always rendered, a define-by-run search space and a short
list of strong default configurations. Search-space bounds that depend on the data scale with the
number of training rows, and each rule is written next to the bound it sets.
"""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import optuna

from glassml.errors import UserInputError

TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")

# One range for both L1 and L2 penalties of the boosting learners. The lower bound replaces
# "no penalty" because a log scale cannot reach zero.
_PENALTY_RANGE = (1e-3, 10.0)
_LEARNING_RATE_RANGE = (0.01, 0.3)


@dataclass(frozen=True)
class Algorithm(ABC):
    """A learner of the registry with its import facts, search space and default configurations.

    Parameters
    ----------
    name : str
        Registry name, the value of the ``"algorithm"`` search parameter.
    display_name : str
        Name shown on the leaderboard. `task_display_name` returns the name for one task.
    module : str
        Module that the generated script imports the estimator class from.
    distribution : str
        Pip distribution that provides `module`, for ``requirements.txt``.
    handles_missing : bool
        Whether numeric NaN goes to the estimator as is. When False, the preprocessing imputes.
    needs_scaling : bool
        Whether numeric features are standardized before the estimator.
    high_cardinality_encoding : {"ordinal", "target"}
        Encoder for categorical columns with many levels: ordinal codes or a target encoder.
    seed_param : str or None
        Constructor parameter that receives the seed (rendered as ``RANDOM_SEED``).
    threads_param : str or None
        Constructor parameter that receives the thread count, or None when the estimator has none.
    """

    name: str
    display_name: str
    module: str
    distribution: str
    handles_missing: bool
    needs_scaling: bool
    high_cardinality_encoding: Literal["ordinal", "target"]
    seed_param: str | None
    threads_param: str | None

    def trial_param_name(self, param: str) -> str:
        """Return the search-space name of `param`, prefixed so that learners' spaces never collide."""
        return f"{self.name}.{param}"

    def task_display_name(self, task: str) -> str:
        """Return the name shown for this learner on `task`."""
        check_task(task)
        return self.display_name

    @abstractmethod
    def class_name(self, task: str) -> str:
        """Return the estimator class name in `module` for `task`."""

    @abstractmethod
    def fixed_params(self, task: str) -> dict[str, Any]:
        """Return the constructor parameters that every configuration of `task` renders unchanged."""

    @abstractmethod
    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        """Suggest the searched hyperparameters on `trial` and return them by constructor name.

        The trial records each parameter under its prefixed name (`trial_param_name`). Values are plain
        Python int, float, str, bool or None.
        """

    @abstractmethod
    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        """Return strong default configurations inside the search space, cheapest first.

        Each configuration contains the same keys that `sample` returns.
        """


def check_task(task: str) -> None:
    """Raise ValueError unless `task` is one of `TASKS`."""
    if task not in TASKS:
        raise ValueError(f"invalid task {task!r}: expected one of {', '.join(TASKS)}")


def check_data_size(n_rows: int, n_features: int) -> None:
    """Raise ValueError unless the training data has at least one row and one feature."""
    if n_rows < 1:
        raise ValueError(f"invalid n_rows {n_rows!r}: the search space needs at least one training row")
    if n_features < 1:
        raise ValueError(f"invalid n_features {n_features!r}: the search space needs at least one feature")


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _max_boosting_rounds(n_rows: int) -> int:
    # At most one boosting round per training row, between 200 and 1000 rounds.
    return _clamp(n_rows, 200, 1000)


def _min_feature_fraction(n_features: int) -> float:
    # Keep at least two features per tree on average, and never sample fewer than 40 %.
    return _clip(2.0 / n_features, 0.4, 1.0)


@dataclass(frozen=True)
class LightGBM(Algorithm):
    """LightGBM gradient-boosted trees (`LGBMClassifier`, `LGBMRegressor`)."""

    def class_name(self, task: str) -> str:
        check_task(task)
        return "LGBMRegressor" if task == "regression" else "LGBMClassifier"

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        # subsample only takes effect with subsample_freq > 0. deterministic and force_row_wise
        # make results identical across runs and thread counts.
        return {"subsample_freq": 1, "deterministic": True, "force_row_wise": True, "verbose": -1}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _LightGBMBounds.for_data(n_rows, n_features)
        name = self.trial_param_name
        return {
            "n_estimators": trial.suggest_int(name("n_estimators"), 20, bounds.max_rounds, log=True),
            "learning_rate": trial.suggest_float(name("learning_rate"), *_LEARNING_RATE_RANGE, log=True),
            "num_leaves": trial.suggest_int(name("num_leaves"), 4, bounds.max_leaves, log=True),
            "min_child_samples": trial.suggest_int(name("min_child_samples"), 2, bounds.max_child_samples, log=True),
            "subsample": trial.suggest_float(name("subsample"), 0.5, 1.0),
            "colsample_bytree": trial.suggest_float(name("colsample_bytree"), bounds.min_feature_fraction, 1.0),
            "reg_alpha": trial.suggest_float(name("reg_alpha"), *_PENALTY_RANGE, log=True),
            "reg_lambda": trial.suggest_float(name("reg_lambda"), *_PENALTY_RANGE, log=True),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _LightGBMBounds.for_data(n_rows, n_features)
        # (rounds, learning rate, leaves, min child samples, subsample, feature fraction, L2 penalty)
        settings = [
            (300, 0.05, 31, 20, 0.8, 0.8, 1e-3),  # LightGBM's tree size, slower learning, light bagging
            (200, 0.1, 15, 40, 0.8, 0.6, 1.0),  # shallow and regularized, for noisy data
            (600, 0.03, 63, 10, 0.7, 0.6, 1.0),  # larger trees, slower learning
        ]
        return [
            {
                "n_estimators": min(rounds, bounds.max_rounds),
                "learning_rate": learning_rate,
                "num_leaves": min(leaves, bounds.max_leaves),
                "min_child_samples": min(child_samples, bounds.max_child_samples),
                "subsample": subsample,
                "colsample_bytree": _clip(feature_fraction, bounds.min_feature_fraction, 1.0),
                "reg_alpha": 1e-3,
                "reg_lambda": reg_lambda,
            }
            for rounds, learning_rate, leaves, child_samples, subsample, feature_fraction, reg_lambda in settings
        ]


@dataclass(frozen=True)
class _LightGBMBounds:
    max_rounds: int
    max_leaves: int
    max_child_samples: int
    min_feature_fraction: float

    @classmethod
    def for_data(cls, n_rows: int, n_features: int) -> _LightGBMBounds:
        return cls(
            max_rounds=_max_boosting_rounds(n_rows),
            # Up to one leaf per 10 rows (8 to 256 leaves) and a minimum leaf size of up to
            # 5 % of the rows (5 to 100), so that small tables get small trees.
            max_leaves=_clamp(n_rows // 10, 8, 256),
            max_child_samples=_clamp(n_rows // 20, 5, 100),
            min_feature_fraction=_min_feature_fraction(n_features),
        )


@dataclass(frozen=True)
class XGBoost(Algorithm):
    """XGBoost gradient-boosted trees with the histogram method (`XGBClassifier`, `XGBRegressor`)."""

    def class_name(self, task: str) -> str:
        check_task(task)
        # The classifier picks binary:logistic or multi:softprob from the labels, which must be the
        # integer codes 0..K-1.
        return "XGBRegressor" if task == "regression" else "XGBClassifier"

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        return {"tree_method": "hist"}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _XGBoostBounds.for_data(n_rows, n_features)
        name = self.trial_param_name
        return {
            "n_estimators": trial.suggest_int(name("n_estimators"), 20, bounds.max_rounds, log=True),
            "learning_rate": trial.suggest_float(name("learning_rate"), *_LEARNING_RATE_RANGE, log=True),
            "max_depth": trial.suggest_int(name("max_depth"), 2, bounds.max_depth),
            "min_child_weight": trial.suggest_float(name("min_child_weight"), 0.5, bounds.max_child_weight, log=True),
            "subsample": trial.suggest_float(name("subsample"), 0.5, 1.0),
            "colsample_bytree": trial.suggest_float(name("colsample_bytree"), bounds.min_feature_fraction, 1.0),
            "reg_lambda": trial.suggest_float(name("reg_lambda"), *_PENALTY_RANGE, log=True),
            "reg_alpha": trial.suggest_float(name("reg_alpha"), *_PENALTY_RANGE, log=True),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _XGBoostBounds.for_data(n_rows, n_features)
        defaults = {  # the XGBoost 3 defaults, with the smallest searched L1 penalty in place of 0
            "n_estimators": 100,
            "learning_rate": 0.3,
            "max_depth": min(6, bounds.max_depth),
            "min_child_weight": 1.0,
            "subsample": 1.0,
            "colsample_bytree": 1.0,
            "reg_lambda": 1.0,
            "reg_alpha": 1e-3,
        }
        slower = {
            "n_estimators": min(500, bounds.max_rounds),
            "learning_rate": 0.05,
            "max_depth": min(6, bounds.max_depth),
            "min_child_weight": 1.0,
            "subsample": 0.8,
            "colsample_bytree": _clip(0.8, bounds.min_feature_fraction, 1.0),
            "reg_lambda": 1.0,
            "reg_alpha": 1e-3,
        }
        return [defaults, slower]


@dataclass(frozen=True)
class _XGBoostBounds:
    max_rounds: int
    max_depth: int
    max_child_weight: float
    min_feature_fraction: float

    @classmethod
    def for_data(cls, n_rows: int, n_features: int) -> _XGBoostBounds:
        return cls(
            max_rounds=_max_boosting_rounds(n_rows),
            # A depth of log2(rows) - 1 allows rows / 2 leaves, about two rows per leaf. The bound
            # stays between 3 and 10.
            max_depth=_clamp(int(math.log2(n_rows)) - 1, 3, 10),
            # The minimum hessian sum per child goes up to rows / 50 (between 2 and 20), which is 2 %
            # of the rows under squared error, where every row has hessian 1.
            max_child_weight=float(_clamp(n_rows // 50, 2, 20)),
            min_feature_fraction=_min_feature_fraction(n_features),
        )


# Feature fractions in one categorical so that the scikit-learn defaults ("sqrt" for classifiers,
# 1.0 for regressors) are exact choices. No bool may join it: Optuna finds a choice by equality,
# and True == 1.0.
_MAX_FEATURES_CHOICES: tuple[str | float, ...] = ("sqrt", "log2", 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Forest(Algorithm):
    """A scikit-learn forest: random forest (bootstrap samples) or extra trees (random splits).

    Parameters
    ----------
    class_prefix : str
        Class name without its task suffix: ``"RandomForest"`` or ``"ExtraTrees"``.
    bootstrap : bool
        Whether each tree trains on a bootstrap sample of the rows.
    """

    class_prefix: str = "RandomForest"
    bootstrap: bool = True

    def class_name(self, task: str) -> str:
        check_task(task)
        return self.class_prefix + ("Regressor" if task == "regression" else "Classifier")

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        criterion = "squared_error" if task == "regression" else "gini"
        return {"criterion": criterion, "bootstrap": self.bootstrap}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        name = self.trial_param_name
        return {
            "n_estimators": trial.suggest_int(name("n_estimators"), 50, _max_forest_trees(n_rows), log=True),
            "max_features": trial.suggest_categorical(name("max_features"), _MAX_FEATURES_CHOICES),
            "min_samples_leaf": trial.suggest_int(name("min_samples_leaf"), 1, _max_samples_leaf(n_rows), log=True),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        # The scikit-learn defaults with up to 300 trees. A large table gets fewer trees and larger
        # leaves, because fully grown trees on it take minutes and gigabytes with one thread.
        max_features = 1.0 if task == "regression" else "sqrt"
        n_estimators = min(300, _max_forest_trees(n_rows))
        min_samples_leaf = 1 if n_rows <= _LARGE_FOREST_ROWS else _clamp(n_rows // _LARGE_FOREST_ROWS, 2, 4)
        if n_rows > _LARGE_FOREST_ROWS and task == "regression":
            max_features = 0.5
        return [{"n_estimators": n_estimators, "max_features": max_features, "min_samples_leaf": min_samples_leaf}]


# Above this many rows, forests get fewer trees and larger leaves.
_LARGE_FOREST_ROWS = 10_000


def _max_forest_trees(n_rows: int) -> int:
    # 500 trees up to 10,000 rows, then fewer as the table grows, never below 100.
    if n_rows <= _LARGE_FOREST_ROWS:
        return 500
    return _clamp(500 * _LARGE_FOREST_ROWS // n_rows, 100, 500)


def _max_samples_leaf(n_rows: int) -> int:
    # A leaf may hold up to 2 % of the rows, between 4 and 32.
    return _clamp(n_rows // 50, 4, 32)


@dataclass(frozen=True)
class Linear(Algorithm):
    """Regularized linear models: `LogisticRegression` for classification, `ElasticNet` for regression."""

    def task_display_name(self, task: str) -> str:
        check_task(task)
        return "Elastic net" if task == "regression" else "Logistic regression"

    def class_name(self, task: str) -> str:
        check_task(task)
        return "ElasticNet" if task == "regression" else "LogisticRegression"

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        # Measured with scikit-learn 1.9 on standardized features: lbfgs needed at most 60
        # iterations on the breast cancer and iris data for C from 1e-3 to 100. Coordinate descent
        # needed at most 1,100 on the diabetes data over the whole alpha and l1_ratio range. The
        # limits leave room for harder tables.
        # A precomputed Gram matrix made coordinate descent 650x faster on 54k rows (diamonds,
        # 26 features: 13 s to 0.02 s), with the same iterations.
        if task == "regression":
            return {"max_iter": 10_000, "precompute": True}
        # scikit-learn 1.8 deprecated `penalty`: l1_ratio=0.0 selects the L2 penalty, which lbfgs
        # supports for binary and multinomial problems.
        return {"l1_ratio": 0.0, "solver": "lbfgs", "max_iter": 1000}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        name = self.trial_param_name
        if task == "regression":
            # NOTE: the penalty acts on the target's scale, so this alpha range suits targets with
            # a standard deviation from about 0.1 to 10^4. Other targets get a weaker search.
            return {
                "alpha": trial.suggest_float(name("alpha"), 1e-5, 10.0, log=True),
                "l1_ratio": trial.suggest_float(name("l1_ratio"), 0.0, 1.0),
            }
        return {
            "C": trial.suggest_float(name("C"), 1e-3, 100.0, log=True),
            "class_weight": trial.suggest_categorical(name("class_weight"), (None, "balanced")),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        if task == "regression":
            return [{"alpha": 1e-3, "l1_ratio": 0.5}]
        return [{"C": 1.0, "class_weight": None}]


ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        LightGBM(
            name="lightgbm",
            display_name="LightGBM",
            module="lightgbm",
            distribution="lightgbm",
            handles_missing=True,
            needs_scaling=False,
            high_cardinality_encoding="ordinal",
            seed_param="random_state",
            threads_param="n_jobs",
        ),
        XGBoost(
            name="xgboost",
            display_name="XGBoost",
            module="xgboost",
            distribution="xgboost-cpu",
            handles_missing=True,
            needs_scaling=False,
            high_cardinality_encoding="ordinal",
            seed_param="random_state",
            threads_param="n_jobs",
        ),
        # NOTE: scikit-learn >= 1.6 forests accept NaN as well; they get imputed input here.
        Forest(
            name="random_forest",
            display_name="Random forest",
            module="sklearn.ensemble",
            distribution="scikit-learn",
            handles_missing=False,
            needs_scaling=False,
            high_cardinality_encoding="ordinal",
            seed_param="random_state",
            threads_param="n_jobs",
            class_prefix="RandomForest",
            bootstrap=True,
        ),
        Forest(
            name="extra_trees",
            display_name="Extra trees",
            module="sklearn.ensemble",
            distribution="scikit-learn",
            handles_missing=False,
            needs_scaling=False,
            high_cardinality_encoding="ordinal",
            seed_param="random_state",
            threads_param="n_jobs",
            class_prefix="ExtraTrees",
            bootstrap=False,
        ),
        # LogisticRegression deprecated n_jobs in scikit-learn 1.8 (it had no effect), so the
        # linear models get no thread count.
        Linear(
            name="linear",
            display_name="Linear model",
            module="sklearn.linear_model",
            distribution="scikit-learn",
            handles_missing=False,
            needs_scaling=True,
            high_cardinality_encoding="target",
            seed_param="random_state",
            threads_param=None,
        ),
    )
}


def resolve_algorithms(allowed: Sequence[str] | None, blocked: Sequence[str] | None, task: str) -> list[Algorithm]:
    """Select the learners to search from the user's allowed and blocked names.

    Names are matched without regard to case, and ``-`` counts as ``_``.

    Parameters
    ----------
    allowed : sequence of str or None
        Learners to keep; None keeps every registered learner.
    blocked : sequence of str or None
        Learners to drop after `allowed` is applied.
    task : {"binary", "multiclass", "regression"}
        The task; every registered learner supports all three.

    Returns
    -------
    list of Algorithm
        The selected learners in registry order.

    Raises
    ------
    UserInputError
        When a name is not a registered learner, or when no learner is left.

    Examples
    --------
    >>> [algorithm.name for algorithm in resolve_algorithms(None, ["xgboost", "linear"], "binary")]
    ['lightgbm', 'random_forest', 'extra_trees']
    """
    check_task(task)
    allowed_names = set(ALGORITHMS) if allowed is None else _normalize_names(allowed, "allowed")
    blocked_names = set() if blocked is None else _normalize_names(blocked, "blocked")

    selected = [algorithm for name, algorithm in ALGORITHMS.items() if name in allowed_names - blocked_names]
    if not selected:
        raise UserInputError(
            f"no algorithm is left to search: allowed {_describe(allowed)}, blocked {_describe(blocked)}. "
            f"Allow at least one of {', '.join(ALGORITHMS)} that is not blocked."
        )
    return selected


def _normalize_names(names: Sequence[str], option: str) -> set[str]:
    if isinstance(names, str):
        raise UserInputError(f"invalid {option} algorithms {names!r}: give a list of names, such as [{names!r}]")

    normalized = set()
    for name in names:
        key = str(name).strip().lower().replace("-", "_")
        if key not in ALGORITHMS:
            raise UserInputError(_unknown_name_message(name, key, option))
        normalized.add(key)
    return normalized


def _unknown_name_message(name: str, key: str, option: str) -> str:
    message = f"unknown algorithm {name!r} in the {option} algorithms. Valid names are {', '.join(ALGORITHMS)}."
    close_matches = difflib.get_close_matches(key, list(ALGORITHMS), n=1)
    if close_matches:
        message += f" Did you mean {close_matches[0]!r}?"
    return message


def _describe(names: Sequence[str] | None) -> str:
    return "all" if names is None else repr(list(names))
