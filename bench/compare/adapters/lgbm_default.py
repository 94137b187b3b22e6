"""Baseline without search: LightGBM with its default parameters. The budget is ignored.

Preprocessing is the least that LightGBM needs: string, object and category columns become pandas
categoricals with the categories of the training rows, datetimes become seconds since the epoch, and
booleans become 0/1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Timer, classification_frame, load, parse_args, write


def _epoch_seconds(series: pd.Series) -> pd.Series:
    series = pd.to_datetime(series)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert(None)
    return (series - pd.Timestamp(0)).dt.total_seconds()


def prepare_features(train_x: pd.DataFrame, test_x: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    train_x, test_x = train_x.copy(), test_x.copy()
    for column in train_x.columns:
        values = train_x[column]
        if pd.api.types.is_bool_dtype(values):
            train_x[column], test_x[column] = values.astype(float), test_x[column].astype(float)
        elif pd.api.types.is_datetime64_any_dtype(values):
            train_x[column], test_x[column] = _epoch_seconds(values), _epoch_seconds(test_x[column])
        elif not pd.api.types.is_numeric_dtype(values):
            categories = pd.Index(values.dropna().astype(str).unique())
            test_values = test_x[column]
            train_x[column] = pd.Categorical(values.where(values.isna(), values.astype(str)), categories=categories)
            test_x[column] = pd.Categorical(
                test_values.where(test_values.isna(), test_values.astype(str)), categories=categories
            )
    return train_x, test_x


def main() -> None:
    args = parse_args()
    task, train, test_x = load(args.task_dir)
    import lightgbm as lgb

    kind = task["task"]
    if kind not in ("binary", "multiclass", "regression"):
        raise SystemExit(f"lgbm_default handles binary, multiclass and regression tasks, not {kind!r}")
    y = train[task["target"]]
    features, test_features = prepare_features(train.drop(columns=[task["target"]]), test_x)
    estimator = lgb.LGBMRegressor if kind == "regression" else lgb.LGBMClassifier
    model = estimator(random_state=args.seed, n_jobs=args.threads, verbose=-1)
    with Timer() as fit_timer:
        model.fit(features, y)
    with Timer() as predict_timer:
        if kind == "regression":
            predictions = pd.DataFrame({"prediction": model.predict(test_features)})
        else:
            proba = model.predict_proba(test_features)
            labels = model.classes_[np.argmax(proba, axis=1)]
            predictions = classification_frame(task, labels, proba, list(model.classes_))
    write(
        args.out_dir,
        predictions,
        {
            "fit_time_s": fit_timer.seconds,
            "predict_time_s": predict_timer.seconds,
            "best_model": f"{estimator.__name__}(defaults)",
            "framework_version": f"lightgbm {lgb.__version__}",
            "preset": "defaults, no search",
        },
    )


if __name__ == "__main__":
    main()
