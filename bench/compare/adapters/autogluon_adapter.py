"""AutoGluon-Tabular on a tabular task, AutoGluon-TimeSeries on a forecasting task.

Tabular: `TabularPredictor(problem_type, eval_metric)` with the suite's metric (roc_auc becomes roc_auc_ovr
for multiclass, rmse becomes root_mean_squared_error), then `fit(time_limit=budget, presets=PRESET,
num_cpus=threads)`.

Forecasting: `TimeSeriesPredictor(prediction_length=horizon, freq, eval_metric="MASE" or "SMAPE" as the
suite says, eval_metric_seasonal_period=season_length)`, then `fit(time_limit=budget, presets=PRESET,
excluded_model_types=PRETRAINED_MODELS, random_seed=seed)`. The forecast is the predictor's mean. The
pretrained models of the presets (Chronos, Toto and others) load their weights from the Hugging Face Hub,
which the benchmark does not reach (the driver sets HF_HUB_OFFLINE=1), so they are excluded: the numbers
are AutoGluon without them.

PRESET is --preset or medium_quality. Models are written under the out folder, which the driver deletes
after scoring unless it runs with --keep. BENCH_AUTOGLUON_VERBOSITY=2 or 3 in the environment logs
AutoGluon's own progress into the run log (default 1).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402 - the offline switches must be set before AutoGluon is imported
import pandas as pd  # noqa: E402
from _common import Timer, classification_frame, load, parse_args, write  # noqa: E402

VERBOSITY = int(os.environ.get("BENCH_AUTOGLUON_VERBOSITY", "1"))
AUTOGLUON_METRICS = {"log_loss": "log_loss", "accuracy": "accuracy", "rmse": "root_mean_squared_error", "r2": "r2"}
PRETRAINED_MODELS = ["Chronos", "Chronos2", "Toto", "Toto2", "TimesFM", "Moirai"]


def autogluon_metric(task: dict) -> str:
    if task["metric"] == "roc_auc":
        return "roc_auc" if task["task"] == "binary" else "roc_auc_ovr"
    return AUTOGLUON_METRICS[task["metric"]]


def fit_tabular(args, preset: str, task: dict, train: pd.DataFrame, test_x: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
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
    return predictions, {
        "fit_time_s": fit_timer.seconds,
        "predict_time_s": predict_timer.seconds,
        "best_model": predictor.model_best,
        "leaderboard_top5": board.head(5)[["model", "score_val"]].to_dict("records"),
        "n_models": len(board),
        "autogluon_metric": autogluon_metric(task),
    }


def fit_forecasting(args, preset: str, task: dict, train: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    from autogluon.timeseries import TimeSeriesDataFrame, TimeSeriesPredictor

    history = TimeSeriesDataFrame.from_data_frame(train, id_column="item_id", timestamp_column="timestamp")
    metric = "SMAPE" if task["metric"] == "smape" else "MASE"
    predictor = TimeSeriesPredictor(
        prediction_length=int(task["horizon"]),
        freq=task.get("freq"),
        target="target",
        eval_metric=metric,
        eval_metric_seasonal_period=int(task["season_length"]),
        path=os.path.join(args.out_dir, "ag_ts_model"),
        verbosity=VERBOSITY,
    )
    with Timer() as fit_timer:
        predictor.fit(
            history,
            time_limit=args.budget,
            presets=preset,
            excluded_model_types=PRETRAINED_MODELS,
            random_seed=args.seed,
        )
    with Timer() as predict_timer:
        forecast = predictor.predict(history).reset_index()
    predictions = pd.DataFrame(
        {
            "item_id": forecast["item_id"].astype(str),
            "timestamp": forecast["timestamp"],
            "prediction": forecast["mean"].astype(float),
        }
    )
    board = predictor.leaderboard(silent=True)
    return predictions, {
        "fit_time_s": fit_timer.seconds,
        "predict_time_s": predict_timer.seconds,
        "best_model": predictor.model_best,
        "leaderboard_top5": board.head(5)[["model", "score_val"]].to_dict("records"),
        "n_models": len(board),
        "autogluon_metric": metric,
        "excluded_model_types": PRETRAINED_MODELS,
    }


def main() -> None:
    args = parse_args()
    preset = args.preset or "medium_quality"
    task, train, test_x = load(args.task_dir)
    import autogluon.core

    if task["task"] == "forecasting":
        predictions, info = fit_forecasting(args, preset, task, train)
    else:
        predictions, info = fit_tabular(args, preset, task, train, test_x)
    info |= {"framework_version": f"autogluon {autogluon.core.__version__}", "preset": preset}
    write(args.out_dir, predictions, info)


if __name__ == "__main__":
    main()
