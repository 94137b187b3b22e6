"""AutoGluon-Tabular on a tabular task.

`TabularPredictor(problem_type, eval_metric)` with the suite's metric (roc_auc becomes roc_auc_ovr for
multiclass, rmse becomes root_mean_squared_error), then `fit(time_limit=budget, presets=PRESET,
num_cpus=threads)` with PRESET = --preset or medium_quality. Models are written under the out folder,
which the driver deletes after scoring unless it runs with --keep. BENCH_AUTOGLUON_VERBOSITY=2 or 3 in the
environment logs AutoGluon's own progress into the run log (default 1).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from _common import Timer, classification_frame, load, parse_args, write

VERBOSITY = int(os.environ.get("BENCH_AUTOGLUON_VERBOSITY", "1"))
AUTOGLUON_METRICS = {"log_loss": "log_loss", "accuracy": "accuracy", "rmse": "root_mean_squared_error", "r2": "r2"}


def autogluon_metric(task: dict) -> str:
    if task["metric"] == "roc_auc":
        return "roc_auc" if task["task"] == "binary" else "roc_auc_ovr"
    return AUTOGLUON_METRICS[task["metric"]]


def main() -> None:
    args = parse_args()
    preset = args.preset or "medium_quality"
    task, train, test_x = load(args.task_dir)
    import autogluon.core
    from autogluon.tabular import TabularPredictor

    kind = task["task"]
    predictor = TabularPredictor(
        label=task["target"],
        problem_type=kind,
        eval_metric=autogluon_metric(task),
        path=os.path.join(args.out_dir, "ag_model"),
        verbosity=VERBOSITY,
    )
    with Timer() as fit_timer:
        predictor.fit(train, time_limit=args.budget, presets=preset, num_cpus=args.threads)
    with Timer() as predict_timer:
        if kind == "regression":
            predictions = pd.DataFrame({"prediction": np.asarray(predictor.predict(test_x))})
        else:
            proba = predictor.predict_proba(test_x)
            classes = list(proba.columns)
            labels = np.asarray(classes, dtype=object)[np.argmax(proba.to_numpy(), axis=1)]
            predictions = classification_frame(task, labels, proba.to_numpy(), classes)
    board = predictor.leaderboard(silent=True)
    write(
        args.out_dir,
        predictions,
        {
            "fit_time_s": fit_timer.seconds,
            "predict_time_s": predict_timer.seconds,
            "best_model": predictor.model_best,
            "framework_version": f"autogluon {autogluon.core.__version__}",
            "preset": preset,
            "leaderboard_top5": board.head(5)[["model", "score_val"]].to_dict("records"),
            "n_models": len(board),
            "autogluon_metric": autogluon_metric(task),
        },
    )


if __name__ == "__main__":
    main()
