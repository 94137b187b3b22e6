"""Split and score: the one copy of the code that every framework's run shares.

Runs in the data interpreter, any Python with pandas, numpy, pyarrow and scikit-learn (by default the
project's `.venv`). Two subcommands:

    prepare --suite SUITE --task NAME --out DIR
        Read the suite entry and its data file, split it, and write DIR/task.json, DIR/train.parquet,
        DIR/test_X.parquet and DIR/test_y.parquet. Every framework reads these same files.

    score --task-dir DIR --pred FILE
        Read DIR/test_y.parquet and a framework's predictions, and print a JSON object of metrics:
        scikit-learn's for tabular tasks, MASE and sMAPE computed here with numpy for forecasting.

Tabular split: random with the entry's seed and test_size, stratified on the target for binary and
multiclass tasks (unstratified when a class has fewer than 2 rows). Rows with a missing target are
dropped first.

Forecasting split: the rows are put in the long format `item_id`, `timestamp`, `target`, and the last
`horizon` rows of each series in time order are its test rows, the rest its training rows. Rows with a
missing target stay in both parts as NaN, because they hold the time grid, and NaN test points are not
scored. Series with at most `horizon` rows are dropped and counted in task.json. Other columns of the
data file (covariates, static text) are not passed on.
"""

from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np
import pandas as pd

CLASSIFICATION = ("binary", "multiclass")
TABULAR = ("binary", "multiclass", "regression")
FORECASTING = "forecasting"
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "accuracy": True,
    "r2": True,
    "log_loss": False,
    "rmse": False,
    "mase": False,
    "smape": False,
}

# Seasonal period per pandas frequency alias, as AutoGluon-TimeSeries 1.6.3 derives it (get_seasonality).
# The first prefix that equals the alias wins, then the first that starts it: "MS" is 12, "W-SAT" is 1.
# fmt: off
SEASON_LENGTHS = [
    ("min", 1440), ("T", 1440), ("bh", 9), ("BH", 9), ("SM", 24), ("MS", 12), ("ME", 12), ("BM", 12),
    ("M", 12), ("QS", 4), ("QE", 4), ("BQ", 4), ("Q", 4), ("AS", 1), ("YS", 1), ("YE", 1), ("A", 1),
    ("Y", 1), ("W", 1), ("B", 5), ("D", 7), ("h", 24), ("H", 24), ("s", 1), ("S", 1), ("ms", 1), ("L", 1),
    ("us", 1), ("U", 1), ("ns", 1), ("N", 1),
]
# fmt: on


def canon(value: object) -> str:
    """Return the canonical string of a class label, so that 1, 1.0, "1" and True/"True" compare equal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def load_entry(suite_path: str, name: str) -> dict:
    with open(suite_path) as file:
        suite = json.load(file)
    for entry in suite:
        if entry["name"] == name:
            return entry
    raise SystemExit(f"task {name!r} not found in {suite_path}")


def split_tabular(entry: dict, df: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a tabular task at random and return task.json's content, the training rows, test features and labels."""
    from sklearn.model_selection import train_test_split

    name, task, target = entry["name"], entry["task"], entry["target"]
    split = entry.get("split", {"kind": "random", "test_size": 0.2, "seed": 0})
    if split.get("kind", "random") != "random":
        raise SystemExit(f"task {name!r} has split {split}; only the random split is supported for {task} tasks")

    rows_before = len(df)
    df = df[df[target].notna()].reset_index(drop=True)
    test_size = split.get("test_size", 0.2)
    seed = int(split.get("seed", 0))
    stratify = None
    if task in CLASSIFICATION:
        labels = df[target].map(canon)
        if labels.value_counts().min() >= 2:
            stratify = labels
    train_index, test_index = train_test_split(
        np.arange(len(df)), test_size=test_size, random_state=seed, stratify=stratify
    )
    train = df.iloc[np.sort(train_index)].reset_index(drop=True)
    test = df.iloc[np.sort(test_index)].reset_index(drop=True)

    info = {
        "entry": entry,
        "task": task,
        "target": target,
        "metric": entry["metric"],
        "dropped_missing_target": rows_before - len(df),
        "n_train": len(train),
        "n_test": len(test),
        "stratified": stratify is not None,
        "split_seed": seed,
        "test_size": test_size,
        "feature_columns": [column for column in df.columns if column != target],
        "dtypes": {column: str(dtype) for column, dtype in df.dtypes.items()},
    }
    if task in CLASSIFICATION:
        classes = sorted({canon(value) for value in train[target]})
        info["classes"] = classes
        info["n_classes"] = len(classes)
        info["positive_class"] = classes[-1] if len(classes) == 2 else None
    return info, train, test.drop(columns=[target]), test[[target]]


def season_length(entry: dict) -> int:
    """Return the entry's `season_length`, or else the seasonal period of its `freq` (1 when unknown)."""
    if entry.get("season_length"):
        return int(entry["season_length"])
    freq = entry.get("freq")
    if not freq:
        return 1
    # "2W-SAT" -> "W": the multiple and the anchor do not change the period.
    alias = str(freq).split("-")[0].lstrip("0123456789")
    for prefix, length in SEASON_LENGTHS:
        if alias == prefix:
            return length
    for prefix, length in SEASON_LENGTHS:
        if alias.startswith(prefix):
            return length
    return 1


def split_forecasting(entry: dict, df: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a forecasting task: the last `horizon` rows of each series are its test rows.

    Returns task.json's content, the training rows (`item_id`, `timestamp`, `target`), the points to
    forecast (`item_id`, `timestamp`, `step` from 1 to horizon) and the test rows with their targets.
    """
    name, target = entry["name"], entry["target"]
    split = entry.get("split", {"kind": "last_horizon"})
    if split.get("kind", "last_horizon") != "last_horizon":
        raise SystemExit(f"task {name!r} has split {split}; only the last_horizon split is supported for forecasting")
    horizon = int(entry["horizon"])
    time_column = entry["time_column"]
    series_columns = entry.get("series_id") or []
    if isinstance(series_columns, str):
        series_columns = [series_columns]

    if series_columns:
        item_id = df[series_columns].astype(str).agg("|".join, axis=1)
    else:
        item_id = "series"
    long = pd.DataFrame(
        {
            "item_id": item_id,
            "timestamp": pd.to_datetime(df[time_column]),
            "target": pd.to_numeric(df[target], errors="coerce").astype(float),
        }
    )
    long = long.sort_values(["item_id", "timestamp"], kind="mergesort").reset_index(drop=True)
    sizes = long.groupby("item_id", sort=False)["target"].transform("size")
    short_series = long["item_id"][sizes <= horizon].nunique()
    long = long[sizes > horizon].reset_index(drop=True)

    position = long.groupby("item_id", sort=False).cumcount()
    series_size = long.groupby("item_id", sort=False)["target"].transform("size")
    is_test = position >= series_size - horizon
    train = long[~is_test].reset_index(drop=True)
    test = long[is_test].reset_index(drop=True)
    test = test.assign(step=test.groupby("item_id", sort=False).cumcount() + 1)

    used_columns = set(series_columns) | {time_column, target}
    info = {
        "entry": entry,
        "task": FORECASTING,
        "target": target,
        "metric": entry["metric"],
        "horizon": horizon,
        "freq": entry.get("freq"),
        "season_length": season_length(entry),
        "n_series": int(train["item_id"].nunique()),
        "dropped_short_series": int(short_series),
        "n_train": len(train),
        "n_test": len(test),
        "ignored_columns": [column for column in df.columns if column not in used_columns],
    }
    return info, train, test[["item_id", "timestamp", "step"]], test


def prepare(suite_path: str, name: str, out: str) -> None:
    """Split one task of the suite into the files the adapters read."""
    entry = load_entry(suite_path, name)
    task = entry["task"]
    df = pd.read_parquet(os.path.join(os.path.dirname(os.path.abspath(suite_path)), entry["file"]))
    if task in TABULAR:
        info, train, test_x, test_y = split_tabular(entry, df)
    elif task == FORECASTING:
        info, train, test_x, test_y = split_forecasting(entry, df)
    else:
        raise SystemExit(f"task {name!r} is of kind {task!r}; expected one of {', '.join(TABULAR)}, {FORECASTING}")

    os.makedirs(out, exist_ok=True)
    train.to_parquet(os.path.join(out, "train.parquet"), index=False)
    test_x.to_parquet(os.path.join(out, "test_X.parquet"), index=False)
    test_y.to_parquet(os.path.join(out, "test_y.parquet"), index=False)
    with open(os.path.join(out, "task.json"), "w") as file:
        json.dump(info, file, indent=1, default=str)
    print(json.dumps({"n_train": info["n_train"], "n_test": info["n_test"]}))


def classification_metrics(info: dict, y: pd.Series, predictions: pd.DataFrame) -> dict:
    """Score labels and, when all `proba:<class>` columns are present, probabilities.

    Binary roc_auc is computed on the probability of classes[1], multiclass roc_auc is one-vs-rest macro,
    and log_loss uses probabilities clipped at 1e-15 and renormalized. A test label never seen in training
    cannot be scored by probability: such rows are left out of roc_auc and log_loss and counted.
    """
    from sklearn import metrics

    classes = info["classes"]
    truth = np.array([canon(value) for value in y])
    predicted = np.array([canon(value) for value in predictions["prediction"]])
    out = {
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(truth, predicted)),
    }
    proba_columns = [f"proba:{name}" for name in classes]
    if not all(column in predictions.columns for column in proba_columns):
        out["note"] = "no probability columns: roc_auc and log_loss not computed"
        return out
    proba = np.nan_to_num(predictions[proba_columns].to_numpy(float), nan=0.0)
    proba = np.clip(proba, 1e-15, None)
    proba = proba / proba.sum(axis=1, keepdims=True)
    known = np.isin(truth, classes)
    out["unseen_test_labels"] = int((~known).sum())
    truth, proba = truth[known], proba[known]
    if len(classes) == 2:
        out["roc_auc"] = float(metrics.roc_auc_score(truth == classes[1], proba[:, 1]))
    else:
        present = sorted(set(truth))
        if present == classes:
            out["roc_auc"] = float(
                metrics.roc_auc_score(truth, proba, multi_class="ovr", average="macro", labels=classes)
            )
        else:
            # A training class absent from the test rows has no ROC curve: score over the present ones.
            subset = proba[:, [classes.index(name) for name in present]]
            subset = subset / subset.sum(axis=1, keepdims=True)
            out["roc_auc"] = float(
                metrics.roc_auc_score(truth, subset, multi_class="ovr", average="macro", labels=present)
            )
    out["log_loss"] = float(metrics.log_loss(truth, proba, labels=classes))
    return out


def regression_metrics(y: pd.Series, predictions: pd.DataFrame) -> dict:
    from sklearn import metrics

    truth = pd.to_numeric(y, errors="coerce").to_numpy(float)
    predicted = pd.to_numeric(predictions["prediction"], errors="coerce").to_numpy(float)
    return {
        "rmse": float(math.sqrt(metrics.mean_squared_error(truth, predicted))),
        "mae": float(metrics.mean_absolute_error(truth, predicted)),
        "r2": float(metrics.r2_score(truth, predicted)),
    }


def mase_scale(history: np.ndarray, season: int) -> tuple[float, bool]:
    """Return the MASE scale of one series' training values, and whether the scale had to fall back.

    The scale is the mean absolute seasonal difference of the history, taken on the series as given: NaN
    values stay in place and the differences they touch are left out. A series with at most `season` known
    values uses lag 1. When that mean is 0 or undefined, the scale falls back to the mean absolute
    difference of consecutive known values, and the second value returned is True.
    """
    lag = season if np.sum(~np.isnan(history)) > season else 1
    differences = np.abs(history[lag:] - history[:-lag]) if len(history) > lag else np.array([])
    scale = np.nanmean(differences) if np.any(~np.isnan(differences)) else np.nan
    if scale and not np.isnan(scale):
        return scale, False
    known_steps = np.abs(np.diff(history[~np.isnan(history)]))
    return (known_steps.mean() if len(known_steps) else np.nan), True


def forecast_metrics(train: pd.DataFrame, test: pd.DataFrame, predictions: pd.DataFrame, season: int) -> dict:
    """Score forecasts with MASE and sMAPE per series, each averaged over the series.

    A prediction is matched to a test row by its series and its rank in time within that series, not by
    its exact timestamp. Test rows without a prediction or with a NaN target are not scored. A series
    whose MASE scale is 0 or undefined is left out of the MASE mean. sMAPE is on the 0 to 200 scale, and
    a point where both the target and the prediction are 0 counts 0.
    """
    missing_columns = {"item_id", "timestamp", "prediction"} - set(predictions.columns)
    if missing_columns:
        raise SystemExit(
            f"the predictions file is missing the columns {sorted(missing_columns)}: a forecasting adapter "
            "must write item_id, timestamp and prediction"
        )
    predictions = predictions.copy()
    predictions["item_id"] = predictions["item_id"].astype(str)
    predictions = predictions.sort_values(["item_id", "timestamp"], kind="mergesort")
    predictions["step"] = predictions.groupby("item_id", sort=False).cumcount() + 1
    merged = test.merge(predictions[["item_id", "step", "prediction"]], on=["item_id", "step"], how="left")

    mases, smapes, scale_fallbacks = [], [], 0
    for item, rows in merged.groupby("item_id", sort=False):
        truth = rows["target"].to_numpy(float)
        forecast = rows["prediction"].to_numpy(float)
        history = train.loc[train["item_id"] == item, "target"].to_numpy(float)
        scale, fell_back = mase_scale(history, season)
        scale_fallbacks += fell_back
        scored = ~np.isnan(truth) & ~np.isnan(forecast)
        if not scored.any():
            continue
        errors = np.abs(truth[scored] - forecast[scored])
        if scale and not np.isnan(scale):
            mases.append(np.mean(errors) / scale)
        denominator = np.abs(truth[scored]) + np.abs(forecast[scored])
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = np.where(denominator == 0, 0.0, 2.0 * errors / denominator)
        smapes.append(100.0 * ratios.mean())
    return {
        "mase": float(np.mean(mases)) if mases else None,
        "smape": float(np.mean(smapes)) if smapes else None,
        "missing_predictions": int(merged["prediction"].isna().sum()),
        "mase_scale_fallbacks": scale_fallbacks,
        "season_length": season,
    }


def score(task_dir: str, prediction_path: str) -> None:
    """Print the metrics of a framework's predictions on the test rows of a prepared split."""
    with open(os.path.join(task_dir, "task.json")) as file:
        info = json.load(file)
    predictions = pd.read_parquet(prediction_path)
    if info["task"] == FORECASTING:
        train = pd.read_parquet(os.path.join(task_dir, "train.parquet"))
        test = pd.read_parquet(os.path.join(task_dir, "test_y.parquet"))
        out = forecast_metrics(train, test, predictions, int(info["season_length"]))
    else:
        y = pd.read_parquet(os.path.join(task_dir, "test_y.parquet"))[info["target"]]
        if len(predictions) != len(y):
            raise SystemExit(f"{prediction_path} has {len(predictions)} rows; the test set has {len(y)}")
        if info["task"] in CLASSIFICATION:
            out = classification_metrics(info, y, predictions)
        else:
            out = regression_metrics(y, predictions)
    metric = info["metric"]
    result = {
        "metric": metric,
        "metric_value": out.get(metric),
        "higher_is_better": HIGHER_IS_BETTER[metric],
        "metrics": out,
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_parser = commands.add_parser("prepare", help="split one task into train and test files")
    prepare_parser.add_argument("--suite", required=True)
    prepare_parser.add_argument("--task", required=True)
    prepare_parser.add_argument("--out", required=True)
    score_parser = commands.add_parser("score", help="score predictions on the test rows")
    score_parser.add_argument("--task-dir", required=True)
    score_parser.add_argument("--pred", required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.suite, args.task, args.out)
    else:
        score(args.task_dir, args.pred)


if __name__ == "__main__":
    main()
