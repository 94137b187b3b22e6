"""Split and score: the one copy of the code that every framework's run shares.

Runs in the data interpreter, any Python with pandas, numpy, pyarrow and scikit-learn (by default the
project's `.venv`). Two subcommands:

    prepare --suite SUITE --task NAME --out DIR
        Read the suite entry and its data file, split it, and write DIR/task.json, DIR/train.parquet,
        DIR/test_X.parquet and DIR/test_y.parquet. Every framework reads these same files.

    score --task-dir DIR --pred FILE
        Read DIR/test_y.parquet and a framework's predictions, and print a JSON object of metrics.

The split is random with the entry's seed and test_size, stratified on the target for binary and
multiclass tasks (unstratified when a class has fewer than 2 rows). Rows with a missing target are
dropped first.
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
HIGHER_IS_BETTER = {"roc_auc": True, "accuracy": True, "r2": True, "log_loss": False, "rmse": False}


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


def prepare(suite_path: str, name: str, out: str) -> None:
    """Split one task of the suite into the files the adapters read."""
    from sklearn.model_selection import train_test_split

    entry = load_entry(suite_path, name)
    task, target = entry["task"], entry["target"]
    if task not in TABULAR:
        raise SystemExit(f"task {name!r} is of kind {task!r}; only {', '.join(TABULAR)} are supported")
    split = entry.get("split", {"kind": "random", "test_size": 0.2, "seed": 0})
    if split.get("kind", "random") != "random":
        raise SystemExit(f"task {name!r} has split {split}; only the random split is supported")

    df = pd.read_parquet(os.path.join(os.path.dirname(os.path.abspath(suite_path)), entry["file"]))
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

    os.makedirs(out, exist_ok=True)
    train.to_parquet(os.path.join(out, "train.parquet"), index=False)
    test.drop(columns=[target]).to_parquet(os.path.join(out, "test_X.parquet"), index=False)
    test[[target]].to_parquet(os.path.join(out, "test_y.parquet"), index=False)
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


def score(task_dir: str, prediction_path: str) -> None:
    """Print the metrics of a framework's predictions on the test rows of a prepared split."""
    with open(os.path.join(task_dir, "task.json")) as file:
        info = json.load(file)
    predictions = pd.read_parquet(prediction_path)
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
