"""The learners glassml searches: how each is imported, configured, sampled and seeded.

Each learner is an `Algorithm`. Its fields are the facts that the featurization and the code
generator read: import module, pip distribution, and whether it needs imputation or scaling. Its
methods return the parameters that are always rendered, a define-by-run search space and a short
list of strong default configurations. Search-space bounds that depend on the data scale with the
number of training rows, and each rule is written next to the bound it sets.
"""

from __future__ import annotations

import difflib
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import optuna

from glassml.errors import UserInputError

logger = logging.getLogger(__name__)

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
    rounds_param : str or None
        Constructor parameter that sets the number of boosting rounds, or None for learners that do
        not boost. The search samples it like any other parameter.
    supports_sample_weight : bool, default=True
        Whether the estimator's ``fit`` accepts ``sample_weight``. `resolve_algorithms` leaves out
        the learners that do not when the training rows are weighted.
    max_default_rows : int or None, default=None
        Number of training rows above which the learner is searched only when the user allows it
        by name. None searches it at every size.
    accepts_sparse : bool, default=True
        Whether the estimator accepts a sparse matrix. When False, the featurization outputs a
        dense array even for TF-IDF features.
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
    rounds_param: str | None
    supports_sample_weight: bool = True
    max_default_rows: int | None = None
    accepts_sparse: bool = True

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


def _suggest_class_weight(
    trial: optuna.trial.BaseTrial,
    algorithm: Algorithm,
    task: str,
    *,
    param: str = "class_weight",
    balanced: str = "balanced",
) -> dict[str, Any]:
    """Suggest no class weights or balanced ones for classification, and no parameter for regression.

    Balanced weights make every class weigh as much in total as the others, which helps the rare
    classes of an imbalanced target.
    """
    if task == "regression":
        return {}
    return {param: trial.suggest_categorical(algorithm.trial_param_name(param), (None, balanced))}


def _unweighted_classes(task: str, *, param: str = "class_weight") -> dict[str, Any]:
    """Return the portfolio's class-weight setting: no weights for classification, no parameter for regression."""
    return {} if task == "regression" else {param: None}


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
            **_suggest_class_weight(trial, self, task),
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
                **_unweighted_classes(task),
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
            **_suggest_class_weight(trial, self, task),
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
        config = {"n_estimators": n_estimators, "max_features": max_features, "min_samples_leaf": min_samples_leaf}
        return [{**config, **_unweighted_classes(task)}]


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


@dataclass(frozen=True)
class CatBoost(Algorithm):
    """CatBoost gradient-boosted oblivious trees (`CatBoostClassifier`, `CatBoostRegressor`).

    Categorical columns reach CatBoost already encoded by the featurization, as for the other tree
    learners, so its own categorical statistics are not used.
    """

    def class_name(self, task: str) -> str:
        check_task(task)
        # Fitted on the integer codes 0..K-1, the classifier's classes_ are those codes (int64) for
        # binary and multiclass targets alike, as LightGBM's are.
        return "CatBoostRegressor" if task == "regression" else "CatBoostClassifier"

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        # CatBoost 1.2 samples rows with MVS on CPU, except for multiclass targets, where it uses the
        # Bayesian bootstrap, which ignores subsample. Fixing MVS gives subsample one meaning on
        # every task. allow_writing_files=False keeps catboost_info/ out of the working folder.
        return {"bootstrap_type": "MVS", "verbose": 0, "allow_writing_files": False}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _CatBoostBounds.for_data(n_rows, n_features)
        name = self.trial_param_name
        return {
            "n_estimators": trial.suggest_int(name("n_estimators"), 20, bounds.max_rounds, log=True),
            "learning_rate": trial.suggest_float(name("learning_rate"), *_LEARNING_RATE_RANGE, log=True),
            "depth": trial.suggest_int(name("depth"), 3, bounds.max_depth),
            "l2_leaf_reg": trial.suggest_float(name("l2_leaf_reg"), 1.0, 30.0, log=True),
            "random_strength": trial.suggest_float(name("random_strength"), 0.1, 10.0, log=True),
            "subsample": trial.suggest_float(name("subsample"), 0.5, 1.0),
            "colsample_bylevel": trial.suggest_float(name("colsample_bylevel"), bounds.min_feature_fraction, 1.0),
            **_suggest_class_weight(trial, self, task, param="auto_class_weights", balanced="Balanced"),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _CatBoostBounds.for_data(n_rows, n_features)
        # (rounds, learning rate, depth, L2 penalty, feature fraction). Deeper rounds cost much more:
        # with CatBoost 1.2.10 on 480 rows and 45 features (one thread), a round of depth 6 took 2.7
        # times as long as one of depth 4. A round of depth 8 took 3.5 times as long as one of depth 6.
        settings = [
            (1000, 0.05, 4, 10.0, 0.8),  # shallow and regularized, for noisy data
            (300, 0.1, 6, 3.0, 1.0),  # CatBoost's depth and L2 penalty, fewer rounds at a faster rate
        ]
        return [
            {
                "n_estimators": min(rounds, bounds.max_rounds),
                "learning_rate": learning_rate,
                "depth": min(depth, bounds.max_depth),
                "l2_leaf_reg": l2_leaf_reg,
                "random_strength": 1.0,
                "subsample": 0.8,
                "colsample_bylevel": _clip(feature_fraction, bounds.min_feature_fraction, 1.0),
                **_unweighted_classes(task, param="auto_class_weights"),
            }
            for rounds, learning_rate, depth, l2_leaf_reg, feature_fraction in settings
        ]


@dataclass(frozen=True)
class _CatBoostBounds:
    max_rounds: int
    max_depth: int
    min_feature_fraction: float

    @classmethod
    def for_data(cls, n_rows: int, n_features: int) -> _CatBoostBounds:
        return cls(
            max_rounds=_max_boosting_rounds(n_rows),
            # An oblivious tree of depth d has 2^d leaves, so depth log2(rows) - 1 allows about two
            # rows per leaf. The bound stays between 6 (CatBoost's default depth) and 10.
            max_depth=_clamp(int(math.log2(n_rows)) - 1, 6, 10),
            min_feature_fraction=_min_feature_fraction(n_features),
        )


@dataclass(frozen=True)
class HistGradientBoosting(Algorithm):
    """scikit-learn histogram gradient boosting (`HistGradientBoostingClassifier`, `...Regressor`).

    It grows trees leaf by leaf as LightGBM does, so its leaf bounds are LightGBM's.
    """

    def class_name(self, task: str) -> str:
        check_task(task)
        return "HistGradientBoostingRegressor" if task == "regression" else "HistGradientBoostingClassifier"

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        # The default early_stopping="auto" holds out 10 % of the rows above 10,000 rows. The search
        # sets the number of rounds itself, so every round in max_iter is trained.
        return {"early_stopping": False}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _LightGBMBounds.for_data(n_rows, n_features)
        name = self.trial_param_name
        return {
            "max_iter": trial.suggest_int(name("max_iter"), 20, bounds.max_rounds, log=True),
            "learning_rate": trial.suggest_float(name("learning_rate"), *_LEARNING_RATE_RANGE, log=True),
            "max_leaf_nodes": trial.suggest_int(name("max_leaf_nodes"), 4, bounds.max_leaves, log=True),
            "min_samples_leaf": trial.suggest_int(name("min_samples_leaf"), 2, bounds.max_child_samples, log=True),
            "l2_regularization": trial.suggest_float(name("l2_regularization"), *_PENALTY_RANGE, log=True),
            "max_features": trial.suggest_float(name("max_features"), bounds.min_feature_fraction, 1.0),
            **_suggest_class_weight(trial, self, task),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        bounds = _LightGBMBounds.for_data(n_rows, n_features)
        # The scikit-learn 1.9 defaults, with the smallest searched L2 penalty in place of 0.
        defaults = {
            "max_iter": min(100, bounds.max_rounds),
            "learning_rate": 0.1,
            "max_leaf_nodes": min(31, bounds.max_leaves),
            "min_samples_leaf": min(20, bounds.max_child_samples),
            "l2_regularization": 1e-3,
            "max_features": 1.0,
        }
        slower = {
            "max_iter": min(500, bounds.max_rounds),
            "learning_rate": 0.05,
            "max_leaf_nodes": min(15, bounds.max_leaves),
            "min_samples_leaf": min(40, bounds.max_child_samples),
            "l2_regularization": 1.0,
            "max_features": _clip(0.6, bounds.min_feature_fraction, 1.0),
        }
        return [{**config, **_unweighted_classes(task)} for config in (defaults, slower)]


# Above this many training rows, k-nearest neighbours is searched only when allowed by name,
# because its cost grows with the square of the rows: scoring computes the distance of every
# held-out row to every training row. With scikit-learn 1.9.1 on a 2-core x86-64 machine (one
# thread, 20 random features), scoring a 10 % holdout took 1.0 s on 50,000 rows and 3.9 s on
# 100,000 rows. Predicting as many rows as the training data has computes about 11 times as many
# distances as that holdout, for example when `glassml verify` compares the two models.
KNN_MAX_DEFAULT_ROWS = 50_000


@dataclass(frozen=True)
class KNeighbors(Algorithm):
    """k-nearest neighbours (`KNeighborsClassifier`, `KNeighborsRegressor`) with Minkowski distances."""

    def class_name(self, task: str) -> str:
        check_task(task)
        return "KNeighborsRegressor" if task == "regression" else "KNeighborsClassifier"

    def fixed_params(self, task: str) -> dict[str, Any]:
        check_task(task)
        return {}

    def sample(self, trial: optuna.trial.BaseTrial, *, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
        check_task(task)
        check_data_size(n_rows, n_features)
        name = self.trial_param_name
        return {
            "n_neighbors": trial.suggest_int(name("n_neighbors"), 1, _max_neighbors(n_rows), log=True),
            "weights": trial.suggest_categorical(name("weights"), ("uniform", "distance")),
            # p=1 is the Manhattan distance and p=2 the Euclidean distance.
            "p": trial.suggest_categorical(name("p"), (1, 2)),
        }

    def portfolio(self, *, task: str, n_rows: int, n_features: int) -> list[dict[str, Any]]:
        check_task(task)
        check_data_size(n_rows, n_features)
        # The scikit-learn defaults.
        return [{"n_neighbors": min(5, _max_neighbors(n_rows)), "weights": "uniform", "p": 2}]


def _max_neighbors(n_rows: int) -> int:
    # Up to the square root of the rows, at most 50. For 4 rows or more that is at most half the
    # rows, so every training split keeps enough rows unless the validation holds out more than half.
    return _clamp(math.isqrt(n_rows), 1, 50)


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
            rounds_param="n_estimators",
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
            rounds_param="n_estimators",
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
            rounds_param=None,
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
            rounds_param=None,
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
            rounds_param=None,
        ),
        CatBoost(
            name="catboost",
            display_name="CatBoost",
            module="catboost",
            distribution="catboost",
            handles_missing=True,
            needs_scaling=False,
            high_cardinality_encoding="ordinal",
            seed_param="random_seed",
            threads_param="thread_count",
            rounds_param="n_estimators",
        ),
        # HistGradientBoosting has no thread parameter. The script's threadpool_limits(N_THREADS)
        # limits its OpenMP threads.
        HistGradientBoosting(
            name="hist_gradient_boosting",
            display_name="Histogram gradient boosting",
            module="sklearn.ensemble",
            distribution="scikit-learn",
            handles_missing=True,
            needs_scaling=False,
            high_cardinality_encoding="ordinal",
            seed_param="random_state",
            threads_param=None,
            rounds_param="max_iter",
            accepts_sparse=False,
        ),
        # Distances need scaled features without missing values. Ordinal codes of many categories
        # would make distances between unrelated categories, so those columns are target encoded.
        KNeighbors(
            name="knn",
            display_name="k-nearest neighbours",
            module="sklearn.neighbors",
            distribution="scikit-learn",
            handles_missing=False,
            needs_scaling=True,
            high_cardinality_encoding="target",
            seed_param=None,
            threads_param="n_jobs",
            rounds_param=None,
            supports_sample_weight=False,
            max_default_rows=KNN_MAX_DEFAULT_ROWS,
        ),
    )
}


def resolve_algorithms(
    allowed: Sequence[str] | None,
    blocked: Sequence[str] | None,
    task: str,
    *,
    n_rows: int | None = None,
    sample_weights: bool = False,
) -> list[Algorithm]:
    """Select the learners to search from the user's allowed and blocked names.

    Names are matched without regard to case, and ``-`` counts as ``_``. Without `allowed`, the
    learners whose `Algorithm.max_default_rows` is below `n_rows` are left out, and so are the
    learners that cannot fit with weights when `sample_weights` is true.

    Parameters
    ----------
    allowed : sequence of str or None
        Learners to keep; None keeps every registered learner that suits the data.
    blocked : sequence of str or None
        Learners to drop after `allowed` is applied.
    task : {"binary", "multiclass", "regression"}
        The task; every registered learner supports all three.
    n_rows : int or None, default=None
        Number of training rows; None applies no row limit.
    sample_weights : bool, default=False
        Whether the training rows have sample weights.

    Returns
    -------
    list of Algorithm
        The selected learners in registry order.

    Raises
    ------
    UserInputError
        When a name is not a registered learner, when `allowed` names a learner that cannot fit
        with the sample weights, or when no learner is left.

    Examples
    --------
    >>> [algorithm.name for algorithm in resolve_algorithms(None, ["xgboost", "linear"], "binary")]
    ['lightgbm', 'random_forest', 'extra_trees', 'catboost', 'hist_gradient_boosting', 'knn']
    >>> [algorithm.name for algorithm in resolve_algorithms(None, ["xgboost", "linear"], "binary", n_rows=80_000)]
    ['lightgbm', 'random_forest', 'extra_trees', 'catboost', 'hist_gradient_boosting']
    """
    check_task(task)
    allowed_names = set(ALGORITHMS) if allowed is None else _normalize_names(allowed, "allowed")
    blocked_names = set() if blocked is None else _normalize_names(blocked, "blocked")
    requested = [algorithm for name, algorithm in ALGORITHMS.items() if name in allowed_names - blocked_names]

    if sample_weights and allowed is not None:
        _check_sample_weight_support(requested)
    selected = []
    left_out = []
    for algorithm in requested:
        reason = None if allowed is not None else _default_exclusion(algorithm, n_rows, sample_weights)
        if reason is None:
            selected.append(algorithm)
        else:
            logger.info("algorithm %s is not searched: %s", algorithm.name, reason)
            left_out.append(f"{algorithm.name} ({reason})")

    if not selected:
        message = (
            f"no algorithm is left to search: allowed {_describe(allowed)}, blocked {_describe(blocked)}. "
            f"Allow at least one of {', '.join(ALGORITHMS)} that is not blocked."
        )
        if left_out:
            message += f" Not searched unless allowed by name: {'; '.join(left_out)}."
        raise UserInputError(message)
    return selected


def _default_exclusion(algorithm: Algorithm, n_rows: int | None, sample_weights: bool) -> str | None:
    """Return why `algorithm` is not searched by default on this data, or None when it is."""
    if sample_weights and not algorithm.supports_sample_weight:
        return "it cannot fit with sample weights"
    limit = algorithm.max_default_rows
    if n_rows is not None and limit is not None and n_rows > limit:
        return f"{n_rows:,} training rows is more than its default limit of {limit:,}"
    return None


def _check_sample_weight_support(algorithms: Sequence[Algorithm]) -> None:
    unsupported = [algorithm.name for algorithm in algorithms if not algorithm.supports_sample_weight]
    if unsupported:
        raise UserInputError(
            f"algorithm {', '.join(unsupported)} cannot fit with sample weights, and the training data has a "
            "weight column: remove it from the allowed algorithms or train without a weight column"
        )


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
