"""Helpers shared by the adapters. Each adapter runs inside its framework's own venv.

The driver calls an adapter as

    PYTHON ADAPTER --task-dir DIR --out-dir DIR --budget SECONDS --seed N --threads N

It reads DIR/task.json, DIR/train.parquet and DIR/test_X.parquet, and writes OUT/predictions.parquet and
OUT/info.json. For forecasting tasks train.parquet has the columns `item_id`, `timestamp` and `target`
(NaN where the data has a missing value), and test_X.parquet has `item_id`, `timestamp` and `step`
(1 to horizon) of the points to forecast.

predictions.parquet
    binary and multiclass: `prediction` (the label) and, when the model gives probabilities, one column
    `proba:<class>` per class of task.json "classes" (class names in the canonical form of `canon`).
    regression: `prediction`.
    forecasting: `item_id`, `timestamp` and `prediction`, `horizon` rows per series. The scoring matches
    them to the test rows by their rank in time within the series, not by the exact timestamp.
info.json
    fit_time_s, predict_time_s, best_model, framework_version, python_version, preset; the driver keeps
    any other key under `adapter_info`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import numpy as np
import pandas as pd


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task-dir", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--budget", type=float, required=True, help="time budget in seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--preset", default="", help="framework-specific preset; empty for the adapter's default")
    return parser.parse_args()


def load(task_dir: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Read the task description, the training rows and the test features of a prepared split."""
    with open(os.path.join(task_dir, "task.json")) as file:
        task = json.load(file)
    train = pd.read_parquet(os.path.join(task_dir, "train.parquet"))
    test_x = pd.read_parquet(os.path.join(task_dir, "test_X.parquet"))
    return task, train, test_x


def classification_frame(task: dict, labels, proba=None, proba_classes=None) -> pd.DataFrame:
    """Build the predictions of a classifier. `proba` is (rows, classes), with columns in `proba_classes` order.

    A class of the task that the model never saw gets probability 0.
    """
    out = pd.DataFrame({"prediction": [canon(v) for v in labels]})
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        column_of = {canon(c): i for i, c in enumerate(proba_classes)}
        for name in task["classes"]:
            out[f"proba:{name}"] = proba[:, column_of[name]] if name in column_of else 0.0
    return out


def write(out_dir: str, predictions: pd.DataFrame | None, info: dict) -> None:
    """Write predictions.parquet and info.json, adding the interpreter's Python version to the info.

    A failed run passes no predictions and writes info.json alone, so that its record keeps the timings.
    """
    os.makedirs(out_dir, exist_ok=True)
    if predictions is not None:
        predictions.to_parquet(os.path.join(out_dir, "predictions.parquet"), index=False)
    info = {"python_version": platform.python_version(), **info}
    with open(os.path.join(out_dir, "info.json"), "w") as file:
        json.dump(info, file, indent=1, default=str)


class Timer:
    """Wall-clock seconds of a `with` block, in the attribute `seconds`."""

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self.started


def regular_series(rows: pd.DataFrame, freq: str | None) -> pd.Series:
    """Return one series' `target` on a regular time grid of `freq`, with its gaps filled.

    Timestamps missing from the grid become NaN, then leading NaN values are dropped, inner gaps are
    interpolated linearly and trailing NaN values take the last known value. When fewer than 90 % of the
    timestamps sit on the grid of `freq`, or `freq` is not a valid pandas alias, the rows stay as given.
    """
    series = pd.Series(rows["target"].to_numpy(float), index=pd.DatetimeIndex(rows["timestamp"]))
    series = series[~series.index.duplicated(keep="last")]
    try:
        grid = pd.date_range(series.index.min(), series.index.max(), freq=freq)
        if len(grid) and series.index.isin(grid).mean() > 0.9:
            series = series.reindex(grid)
    except (ValueError, TypeError):
        pass
    first = series.first_valid_index()
    if first is not None:
        series = series.loc[first:]
    return series.interpolate(limit_area="inside").ffill().bfill()


def strings_to_object(df: pd.DataFrame) -> pd.DataFrame:
    """Give text columns the `object` dtype that pandas 2 reads them as.

    pandas 3 reads text as its `str` dtype. FLAML 2.8 was written against pandas 2, and parts of its
    preprocessing (flaml/automl/data.py) test for `object`, so the adapter hands text over as `object`.
    """
    df = df.copy()
    for column in df.columns:
        dtype = df[column].dtype
        if (
            pd.api.types.is_string_dtype(dtype)
            and not isinstance(dtype, pd.CategoricalDtype)
            and dtype != np.dtype(object)
        ):
            df[column] = df[column].astype(object)
    return df
