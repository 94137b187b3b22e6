"""Early stopping: choose the number of boosting rounds before a booster's trial is scored.

The search samples an upper bound of rounds. In the worker, one fit runs with early stopping: on
the first training split against its held-out rows, or on all training rows against the
validation file. The best round count replaces the upper bound in the trial's spec. The script is then
rendered again with that fixed value, and its `evaluate_model` scores it, so the script the user
downloads reproduces the score without any early stopping of its own.
"""

from __future__ import annotations

import dataclasses
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from glassml.spec import TrialSpec

# Rounds without improvement before a fit stops: a tenth of the upper bound, between 10 and 50.
MIN_PATIENCE = 10
MAX_PATIENCE = 50


def patience_for(max_rounds: int) -> int:
    """Return the number of rounds without improvement after which the probe fit stops."""
    return max(MIN_PATIENCE, min(MAX_PATIENCE, max_rounds // 10))


def _fit_lightgbm(model: Any, X: Any, y: np.ndarray, weights: Any, X_valid: Any, y_valid: Any, patience: int) -> int:
    import lightgbm

    with warnings.catch_warnings():
        # LightGBM 4.7 deprecates eval_set (LGBMDeprecationWarning, a FutureWarning) in favour of
        # eval_X and eval_y, which older releases lack.
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(
            X,
            y,
            sample_weight=weights,
            eval_set=[(X_valid, y_valid)],
            callbacks=[lightgbm.early_stopping(patience, first_metric_only=True, verbose=False)],
        )
    # best_iteration_ counts rounds from 1; it is 0 when no validation score was recorded.
    return int(model.best_iteration_) or int(model.n_estimators)


def _fit_xgboost(model: Any, X: Any, y: np.ndarray, weights: Any, X_valid: Any, y_valid: Any, patience: int) -> int:
    model.set_params(early_stopping_rounds=patience)
    model.fit(X, y, sample_weight=weights, eval_set=[(X_valid, y_valid)], verbose=False)
    return int(model.best_iteration) + 1  # best_iteration counts from 0


def _fit_catboost(model: Any, X: Any, y: np.ndarray, weights: Any, X_valid: Any, y_valid: Any, patience: int) -> int:
    model.fit(X, y, sample_weight=weights, eval_set=(X_valid, y_valid), early_stopping_rounds=patience)
    return int(model.get_best_iteration()) + 1  # get_best_iteration counts from 0


def _fit_hist_gradient_boosting(
    model: Any, X: Any, y: np.ndarray, weights: Any, X_valid: Any, y_valid: Any, patience: int
) -> int:
    model.set_params(early_stopping=True, n_iter_no_change=patience, scoring="loss", tol=0.0)
    model.fit(X, y, sample_weight=weights, X_val=X_valid, y_val=y_valid)
    # validation_score_[i] is the score after i iterations (index 0: before the first one), with
    # the loss negated so that higher is better.
    return max(1, int(np.argmax(model.validation_score_)))


# Per learner, the function that fits with early stopping against held-out rows and returns the best round count.
EARLY_STOPPING_FITS: dict[str, Callable[..., int]] = {
    "lightgbm": _fit_lightgbm,
    "xgboost": _fit_xgboost,
    "catboost": _fit_catboost,
    "hist_gradient_boosting": _fit_hist_gradient_boosting,
}


def supports_early_stopping(algorithm: Any) -> bool:
    """Return whether the search chooses `algorithm`'s rounds by early stopping."""
    return algorithm.name in EARLY_STOPPING_FITS and getattr(algorithm, "rounds_param", None) is not None


def choose_rounds(
    module: types.ModuleType,
    spec: TrialSpec,
    rounds_param: str,
    X: Any,
    y: np.ndarray,
    sample_weights: np.ndarray | None,
    validation: tuple[Any, np.ndarray, np.ndarray | None] | None,
) -> TrialSpec:
    """Fit the trial's pipeline once with early stopping and return the spec with the best round count.

    Parameters
    ----------
    module : module
        The trial's script, loaded; its `build_model_pipeline` and `split_dataset` are used.
    spec : TrialSpec
        The trial's spec, whose parameter `rounds_param` is the upper bound of rounds.
    rounds_param : str
        The constructor parameter that sets the number of boosting rounds.
    X, y, sample_weights
        The prepared training data, as the script's `prepare_data` returns it.
    validation : tuple or None
        The prepared validation file when the trial is scored on one; None to hold out the rows
        of the script's first split.

    Returns
    -------
    TrialSpec
        A copy of `spec` whose rounds are the best count (at most the upper bound) and whose
        `algorithm.early_stopping` records the choice.
    """
    max_rounds = int(spec.algorithm.params[rounds_param])
    patience = patience_for(max_rounds)
    if validation is None:
        train_rows, valid_rows = module.split_dataset(X, y)[0]
        X_train, y_train = X.iloc[train_rows], y[train_rows]
        X_valid, y_valid = X.iloc[valid_rows], y[valid_rows]
        weights = None if sample_weights is None else sample_weights[train_rows]
    else:
        X_train, y_train, weights = X, y, sample_weights
        X_valid, y_valid, _ = validation
    if spec.target.task != "regression":
        # A class missing from the training rows cannot be scored on the held-out rows, and the
        # classifiers reject such labels in an evaluation set.
        seen = np.isin(y_valid, np.unique(y_train))
        X_valid, y_valid = X_valid[seen], y_valid[seen]

    pipeline = module.build_model_pipeline()
    features = Pipeline(pipeline.steps[:-1])
    model = pipeline.steps[-1][1]
    X_train_features = features.fit_transform(X_train, y_train)
    X_valid_features = features.transform(X_valid)
    fit = EARLY_STOPPING_FITS[spec.algorithm.name]
    best = fit(model, X_train_features, y_train, weights, X_valid_features, y_valid, patience)
    rounds = max(1, min(best, max_rounds))

    algorithm = dataclasses.replace(
        spec.algorithm,
        params={**spec.algorithm.params, rounds_param: rounds},
        early_stopping={"param": rounds_param, "max_rounds": max_rounds, "patience": patience, "rounds": rounds},
    )
    return dataclasses.replace(spec, algorithm=algorithm)
