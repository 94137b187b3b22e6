"""FLAML on a tabular or forecasting task.

Tabular: `flaml.AutoML().fit` with task classification or regression, the suite's metric (roc_auc becomes
roc_auc_ovr for multiclass), time_budget = the budget, n_jobs = threads, and everything else at FLAML's
defaults: estimator_list "auto" and retrain_full=True, so the final refit on all rows may run past the
budget.

Forecasting: task "ts_forecast" with period = horizon, metric "mae" (within one series, the lowest MAE is
the lowest MASE) and eval_method "holdout". FLAML's ts_forecast fits one series per call, so a panel is
fitted series by series, with the budget split evenly over the series (at least MIN_SERIES_BUDGET_S
each, so a large panel runs past the budget). Each series is first put on the grid of the task's `freq`
with its gaps filled (`regular_series`), since FLAML needs a regular time index. A series whose fit or
predict raises gets its last value as forecast, and info.json counts it.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np
import pandas as pd
from _common import Timer, classification_frame, load, parse_args, regular_series, strings_to_object, write

FLAML_METRICS = {"log_loss": "log_loss", "accuracy": "accuracy", "rmse": "rmse", "r2": "r2"}
MIN_SERIES_BUDGET_S = 0.5
MAX_ERRORS_KEPT = 3


def flaml_metric(task: dict) -> str:
    if task["metric"] == "roc_auc":
        return "roc_auc" if task["task"] == "binary" else "roc_auc_ovr"
    return FLAML_METRICS[task["metric"]]


def fit_tabular(args, task: dict, train: pd.DataFrame, test_x: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    from flaml import AutoML

    kind = task["task"]
    y = train[task["target"]]
    features = strings_to_object(train.drop(columns=[task["target"]]))
    test_features = strings_to_object(test_x)
    automl = AutoML()
    settings = {
        "task": "regression" if kind == "regression" else "classification",
        "metric": flaml_metric(task),
        "time_budget": args.budget,
        "seed": args.seed,
        "n_jobs": args.threads,
        "verbose": 0,
        "log_file_name": os.path.join(args.out_dir, "flaml.log"),
    }
    with Timer() as fit_timer:
        automl.fit(X_train=features, y_train=y, **settings)
    with Timer() as predict_timer:
        if kind == "regression":
            predictions = pd.DataFrame({"prediction": automl.predict(test_features)})
        else:
            proba = automl.predict_proba(test_features)
            classes = list(automl.classes_)
            labels = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
            predictions = classification_frame(task, labels, proba, classes)
    return predictions, {
        "fit_time_s": fit_timer.seconds,
        "predict_time_s": predict_timer.seconds,
        "best_model": f"{automl.best_estimator} {automl.best_config}",
        "flaml_metric": settings["metric"],
        "best_loss": automl.best_loss,
        "best_config_train_time": automl.best_config_train_time,
    }


def future_timestamps(history: pd.Series, freq: str | None, horizon: int, test_points: pd.DataFrame) -> pd.DataFrame:
    """Return the `horizon` timestamps after the history on the grid of `freq`, which FLAML predicts for.

    When `freq` is not a valid pandas alias, the test rows' own timestamps are used.
    """
    try:
        return pd.DataFrame({"timestamp": pd.date_range(history.index[-1], periods=horizon + 1, freq=freq)[1:]})
    except (ValueError, TypeError):
        return test_points


def fit_forecasting(args, task: dict, train: pd.DataFrame, test_x: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    from flaml import AutoML

    horizon = int(task["horizon"])
    items = list(train["item_id"].unique())
    series_budget = max(MIN_SERIES_BUDGET_S, args.budget / len(items))
    frames, best_counts, errors = [], {}, []
    fit_seconds = predict_seconds = 0.0
    failures = 0
    for item in items:
        history = regular_series(train[train["item_id"] == item], task.get("freq"))
        series = pd.DataFrame({"timestamp": history.index, "target": history.to_numpy()})
        test_points = test_x[test_x["item_id"] == item].sort_values("step")[["timestamp"]].reset_index(drop=True)
        automl = AutoML()
        started, fitted = time.perf_counter(), False
        try:
            with Timer() as fit_timer:
                automl.fit(
                    dataframe=series,
                    label="target",
                    period=horizon,
                    task="ts_forecast",
                    time_col="timestamp",
                    metric="mae",
                    time_budget=series_budget,
                    seed=args.seed,
                    n_jobs=args.threads,
                    verbose=0,
                    eval_method="holdout",
                    log_file_name=os.path.join(args.out_dir, "flaml.log") if len(items) == 1 else "",
                )
            fit_seconds += fit_timer.seconds
            fitted = True
            with Timer() as predict_timer:
                output = automl.predict(future_timestamps(history, task.get("freq"), horizon, test_points))
            predict_seconds += predict_timer.seconds
            values = output.iloc[:, -1] if isinstance(output, pd.DataFrame) else output
            forecast = np.asarray(values, dtype=float)
            best_counts[automl.best_estimator] = best_counts.get(automl.best_estimator, 0) + 1
        except Exception as error:  # one failed series must not lose the forecasts of the others
            failures += 1
            if not fitted:
                fit_seconds += time.perf_counter() - started
            stage = "predict" if fitted else "fit"
            print(f"series {item} ({stage}) failed: {type(error).__name__}: {error}", file=sys.stderr)
            traceback.print_exc()
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(f"{item} ({stage}): {type(error).__name__}: {str(error)[:200]}")
            forecast = np.repeat(series["target"].iloc[-1], horizon)
        frames.append(
            pd.DataFrame(
                {
                    "item_id": item,
                    "timestamp": test_points["timestamp"].to_numpy(),
                    "prediction": forecast[: len(test_points)],
                }
            )
        )
    info = {
        "fit_time_s": fit_seconds,
        "predict_time_s": predict_seconds,
        "best_model": ", ".join(f"{name} x{count}" for name, count in sorted(best_counts.items(), key=lambda x: -x[1])),
        "flaml_metric": "mae",
        "series": len(items),
        "budget_per_series_s": series_budget,
        "failed_series_last_value": failures,
        "series_errors": errors,
    }
    if len(items) > 1:
        info["note"] = "FLAML's ts_forecast fits one series at a time; the budget is split evenly over the series"
    return pd.concat(frames, ignore_index=True), info


def main() -> None:
    args = parse_args()
    task, train, test_x = load(args.task_dir)
    import flaml

    if task["task"] == "forecasting":
        predictions, info = fit_forecasting(args, task, train, test_x)
    else:
        predictions, info = fit_tabular(args, task, train, test_x)
    info |= {"framework_version": f"flaml {flaml.__version__}", "preset": "defaults"}
    write(args.out_dir, predictions, info)


if __name__ == "__main__":
    main()
