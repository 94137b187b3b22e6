"""The Python entry point: `AutoML`, in the style of a scikit-learn estimator, and `load_run`."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pandas as pd

from glassml.data._guardrails import emit
from glassml.engine import TrainSettings, TrialRun, leaderboard, parse_duration, train
from glassml.errors import UserInputError
from glassml.forecasting._options import ForecastOptions
from glassml.tracking import Tracker

SNAPSHOT_FOLDER = Path("glassml-runs") / "snapshots"


class AutoML:
    """Search models for a table and keep, for each, the script that trains it.

    Parameters
    ----------
    task : {"auto", "classification", "binary", "multiclass", "regression", "forecasting"}, default="auto"
        The task. "auto" infers it from the target and reports which rule applied. "binary" and
        "multiclass" request classification and check the number of classes. "forecasting" needs
        `time_column` and `horizon` in `fit`.
    time_limit : float or str, default=60
        Seconds for the whole `fit`, refit included; also "90s", "10m" or "1h".
    max_trials : int or None, default=None
        Stop after this many trials even if time is left.
    metric : str or None, default=None
        Primary metric; None picks ROC AUC for binary, log loss for multiclass, RMSE for regression
        and MASE for forecasting.
    seed : int, default=0
        Seed of the search and of every generated script.
    validation : str, default="auto"
        "auto", "holdout:FRACTION" or "cv:FOLDS".
    allowed_models, blocked_models : list of str or None, default=None
        Learners to search among or to leave out (lightgbm, xgboost, catboost, hist_gradient_boosting,
        random_forest, extra_trees, linear, knn).
    experiment : str, default="default"
        MLflow experiment of the runs.
    tracking_uri : str or None, default=None
        MLflow tracking URI; None uses MLFLOW_TRACKING_URI or ./glassml-runs.
    n_workers : int, default=1
        Worker processes that run trials in parallel.
    early_stopping : bool, default=True
        Whether early stopping on held-out rows chooses the boosting rounds of each trial.

    Examples
    --------
    >>> automl = AutoML(task="classification", time_limit=60).fit(df, target="species")  # doctest: +SKIP
    >>> automl.leaderboard.head()  # doctest: +SKIP
    """

    def __init__(
        self,
        task: str = "auto",
        time_limit: float | str | None = 60,
        max_trials: int | None = None,
        metric: str | None = None,
        seed: int = 0,
        validation: str = "auto",
        allowed_models: list[str] | None = None,
        blocked_models: list[str] | None = None,
        experiment: str = "default",
        tracking_uri: str | None = None,
        n_workers: int = 1,
        early_stopping: bool = True,
    ) -> None:
        self.task = task
        self.time_limit = time_limit
        self.max_trials = max_trials
        self.metric = metric
        self.seed = seed
        self.validation = validation
        self.allowed_models = allowed_models
        self.blocked_models = blocked_models
        self.experiment = experiment
        self.tracking_uri = tracking_uri
        self.n_workers = n_workers
        self.early_stopping = early_stopping

    def fit(
        self,
        data: pd.DataFrame | str | Path,
        target: str,
        *,
        weight_column: str | None = None,
        ignore_columns: list[str] | None = None,
        column_purposes: dict[str, str] | None = None,
        positive_label: Any = None,
        validation_data: pd.DataFrame | str | Path | None = None,
        test_data: pd.DataFrame | str | Path | None = None,
        time_column: str | None = None,
        horizon: int | None = None,
        series_id: list[str] | None = None,
        freq: str | None = None,
        aggregate: str | None = None,
        known_covariates: list[str] | None = None,
        static_features: list[str] | None = None,
        n_windows: int | None = None,
        step_size: int | None = None,
        levels: list[int] | None = None,
    ) -> AutoML:
        """Search models for `data` (a DataFrame, or a CSV or Parquet path) and refit the best.

        A DataFrame is saved as a Parquet snapshot under ./glassml-runs/snapshots, which the
        generated scripts read. `validation_data` scores the candidates in place of
        cross-validation or a holdout. `test_data` scores the refitted best model once. Its scores
        are in `test_scores` and are stored as ``test_*`` metrics on the best trial's run. Both take the same forms
        as `data` and must have its columns.

        For `task="forecasting"`, `data` is a long table (one row per series and time step):
        `time_column` holds the timestamps, `series_id` the columns that identify a series, and
        `horizon` the number of steps to forecast. The other series options are those of
        `glassml train --task forecasting`; `levels` are the prediction interval levels in percent.
        """
        forecast = None
        if self.task == "forecasting":
            if time_column is None or horizon is None:
                raise UserInputError("task='forecasting' needs fit(..., time_column=..., horizon=...)")
            forecast = ForecastOptions(
                time_column=time_column,
                horizon=int(horizon),
                series_id=list(series_id or []),
                freq=freq,
                aggregate=aggregate,
                known_covariates=list(known_covariates or []),
                static_features=list(static_features or []),
                n_windows=n_windows,
                step_size=step_size,
                levels=[80, 95] if levels is None else [int(level) for level in levels],
            )
        started = time.time()
        path = _as_path(data)
        validation_path = None if validation_data is None else _as_path(validation_data)
        test_path = None if test_data is None else _as_path(test_data)
        settings = TrainSettings(
            data_path=path,
            target=str(target),
            started_at=started,
            task=self.task,
            metric=self.metric,
            time_limit=None if self.time_limit is None else parse_duration(self.time_limit),
            max_trials=self.max_trials,
            seed=self.seed,
            allowed_models=self.allowed_models,
            blocked_models=self.blocked_models,
            validation=self.validation,
            validation_data=validation_path,
            test_data=test_path,
            weight_column=weight_column,
            ignore_columns=list(ignore_columns or []),
            column_purposes=dict(column_purposes or {}),
            positive_label=None if positive_label is None else str(positive_label),
            experiment=self.experiment,
            tracking_uri=self.tracking_uri,
            n_workers=self.n_workers,
            early_stopping=self.early_stopping,
            forecast=forecast,
        )
        self.result_ = train(settings)
        emit(self.result_.plan.guardrails, stacklevel=3)
        self.tracker_ = Tracker(self.tracking_uri)
        self.run_id_ = self.result_.parent_run_id
        return self

    @property
    def leaderboard(self) -> pd.DataFrame:
        """The trials ranked by the primary metric, one row each, metrics as columns."""
        self._check_fitted()
        entries = leaderboard(self.tracker_, self.run_id_)
        rows = [
            {key: value for key, value in entry.items() if key != "metrics"} | entry["metrics"] for entry in entries
        ]
        return pd.DataFrame(rows)

    @property
    def test_scores(self) -> dict[str, float] | None:
        """Scores of the refitted best model on `test_data`, or None when `fit` got no test data."""
        self._check_fitted()
        return self.result_.test_metrics

    @property
    def best_run(self) -> TrialRun:
        """The best trial's run: `.code`, `.metrics`, `.spec`, `.predict(df)`."""
        self._check_fitted()
        assert self.result_.best is not None
        return TrialRun(self.tracker_, self.result_.best.run_id)

    def predict(self, data: pd.DataFrame) -> pd.Series:
        """Predict with the best model, in the type of the training target."""
        return self.best_run.predict(data)["prediction"]

    def forecast(
        self, history: pd.DataFrame | None = None, future: pd.DataFrame | None = None, levels: list[int] | None = None
    ) -> pd.DataFrame:
        """Forecast the next `horizon` steps of every series with the best forecaster.

        `history` (laid out like the training table) replaces the training history; `future` contains the
        known covariates of the forecast steps. Returns the id and time columns, `prediction` and
        `lower_<level>` / `upper_<level>` per level.
        """
        return self.best_run.forecast(history, future, levels)

    def predict_proba(self, data: pd.DataFrame) -> pd.DataFrame:
        """Class probabilities of the best model, one column per class."""
        predictions = self.best_run.predict(data)
        columns = [name for name in predictions.columns if name.startswith("probability_")]
        if not columns:
            raise UserInputError("predict_proba needs a classification model; this run is a regression")
        return predictions[columns]

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            raise UserInputError("this AutoML is not fitted yet; call fit(data, target=...) first")


def load_run(run_id: str, tracking_uri: str | None = None) -> TrialRun:
    """Reopen a finished trial run by its id (or a unique prefix of 6 characters or more)."""
    return TrialRun(Tracker(tracking_uri), run_id)


def _as_path(data: pd.DataFrame | str | Path) -> Path:
    return _snapshot(data) if isinstance(data, pd.DataFrame) else Path(data)


def _snapshot(frame: pd.DataFrame) -> Path:
    frame = frame.copy()
    frame.columns = [str(name) for name in frame.columns]
    SNAPSHOT_FOLDER.mkdir(parents=True, exist_ok=True)
    temporary = SNAPSHOT_FOLDER / f"incoming-{time.time_ns()}.parquet"
    frame.to_parquet(temporary, index=False)
    digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
    path = (SNAPSHOT_FOLDER / f"{digest[:16]}.parquet").resolve()
    temporary.replace(path)
    return path
