"""FLAML on a tabular task.

`flaml.AutoML().fit` with task classification or regression, the suite's metric (roc_auc becomes
roc_auc_ovr for multiclass), time_budget = the budget, n_jobs = threads, and everything else at FLAML's
defaults: estimator_list "auto" and retrain_full=True, so the final refit on all rows may run past the
budget.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from _common import Timer, classification_frame, load, parse_args, strings_to_object, write

FLAML_METRICS = {"log_loss": "log_loss", "accuracy": "accuracy", "rmse": "rmse", "r2": "r2"}


def flaml_metric(task: dict) -> str:
    if task["metric"] == "roc_auc":
        return "roc_auc" if task["task"] == "binary" else "roc_auc_ovr"
    return FLAML_METRICS[task["metric"]]


def main() -> None:
    args = parse_args()
    task, train, test_x = load(args.task_dir)
    import flaml
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
    write(
        args.out_dir,
        predictions,
        {
            "fit_time_s": fit_timer.seconds,
            "predict_time_s": predict_timer.seconds,
            "best_model": f"{automl.best_estimator} {automl.best_config}",
            "framework_version": f"flaml {flaml.__version__}",
            "preset": "defaults",
            "flaml_metric": settings["metric"],
            "best_loss": automl.best_loss,
            "best_config_train_time": automl.best_config_train_time,
        },
    )


if __name__ == "__main__":
    main()
