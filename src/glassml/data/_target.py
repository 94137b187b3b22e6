"""Infer the learning task and the class labels from the target column."""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np
import pandas as pd

from glassml.data._names import unknown_column_error
from glassml.errors import UserInputError
from glassml.spec import Label, TargetSpec

TASKS = ("auto", "classification", "binary", "multiclass", "regression")

# Requested tasks that name a kind of classification; the target must then have that many classes.
CLASSIFICATION_KINDS = ("binary", "multiclass")

# An integer-valued target with at most this many distinct values is a classification target.
MAX_INTEGER_CLASSES = 20

# The pandas dtype that gives predictions back in the type of the labels.
LABEL_DTYPES = {"bool": "bool", "int": "int64", "float": "float64", "str": "object"}


def check_target_column(dataframe: pd.DataFrame, target: str) -> None:
    """Raise a UserInputError that suggests the closest names when `target` is not a column of `dataframe`."""
    if target not in dataframe.columns:
        raise unknown_column_error(target, list(dataframe.columns), "target")


def infer_target(series: pd.Series, *, task: str = "auto", positive_label: Any = None) -> TargetSpec:
    """Infer the task, the class labels and the label dtype from the target column.

    Rows without a target value are left out of the inference; `TargetSpec.n_missing` counts them.

    Parameters
    ----------
    series : Series
        The target column; its name becomes `TargetSpec.column`.
    task : {"auto", "classification", "binary", "multiclass", "regression"}
        "auto" infers the task: text, boolean and integer-valued columns with at most 20 distinct values
        are classification targets; other numbers are regression targets. "binary" and "multiclass"
        request classification and check the number of classes.
    positive_label : optional
        For binary classification, the label of the positive class (matched by value or by its
        string form, so "1" selects the label 1). By default the label that sorts last.

    Returns
    -------
    TargetSpec
        For classification, `class_labels` lists plain Python values in code order, with the positive
        label last for binary tasks.

    Raises
    ------
    UserInputError
        If the task is unknown, no target value is present, the target has a single value, regression
        is requested for a non-numeric target, the number of classes does not match a requested
        "binary" or "multiclass" task, or `positive_label` is not a label.
    """
    column = str(series.name)
    if task not in TASKS:
        raise UserInputError(f"unknown task {task!r}; valid tasks are {', '.join(TASKS)}")
    values = series.dropna()
    n_missing = len(series) - len(values)
    if values.empty:
        raise UserInputError(
            f"target column {column!r} has no values: all {len(series)} rows are missing; choose another target column"
        )
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        raise UserInputError(
            f"target column {column!r} contains dates, but glassml predicts numbers or classes; "
            "choose another target column"
        )

    numeric = _is_numeric(values)
    integral = numeric and _is_integral(values)
    n_distinct = values.nunique()
    requested = "classification" if task in CLASSIFICATION_KINDS else task
    chosen_task, reason = _choose_task(requested, column, values, numeric, integral, n_distinct)
    if chosen_task == "regression":
        _check_several_values(column, values, n_distinct, "regression")
        return TargetSpec(column, "regression", "float64", None, reason, n_missing)

    _check_several_values(column, values, n_distinct, "classification")
    labels, dtype = _class_labels(column, values, integral)
    kind = "binary" if len(labels) == 2 else "multiclass"
    if task in CLASSIFICATION_KINDS and task != kind:
        raise UserInputError(
            f"task {task!r} was requested, but target column {column!r} has {len(labels)} classes "
            f"({reprlib.repr(labels)}); pass --task {kind} or --task classification"
        )
    if positive_label is not None:
        labels = _put_positive_last(column, labels, positive_label, kind)
    reason = reason.format(task=f"{kind} classification")
    return TargetSpec(column, kind, dtype, labels, reason, n_missing)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def _is_integral(values: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(values.dtype):
        return True
    numbers = values.to_numpy(dtype=float)
    return bool(np.isfinite(numbers).all() and (numbers == np.round(numbers)).all())


def _choose_task(
    task: str, column: str, values: pd.Series, numeric: bool, integral: bool, n_distinct: int
) -> tuple[str, str]:
    # A classification reason has a "{task}" field, filled in once binary or multiclass is known.
    if task == "regression":
        if not numeric:
            example = reprlib.repr(values.iloc[0])
            raise UserInputError(
                f"target column {column!r} is not numeric (values such as {example}), so it cannot be a "
                "regression target; pass --task classification or choose a numeric target"
            )
        return "regression", "regression, as requested"
    if task == "classification":
        return "classification", "{task}, as requested"

    if not numeric:
        if pd.api.types.is_bool_dtype(values.dtype):
            return "classification", "boolean target: {task}; pass --task regression to override"
        return "classification", "text target: {task}"
    if integral and n_distinct <= MAX_INTEGER_CLASSES:
        return "classification", (
            f"integer target with {n_distinct} distinct values (at most {MAX_INTEGER_CLASSES}): {{task}}; "
            "pass --task regression to override"
        )
    if integral:
        return "regression", (
            f"integer target with {n_distinct} distinct values (more than {MAX_INTEGER_CLASSES}): regression; "
            "pass --task classification to override"
        )
    return "regression", "numeric target with fractional values: regression; pass --task classification to override"


def _check_several_values(column: str, values: pd.Series, n_distinct: int, task: str) -> None:
    if n_distinct >= 2:
        return
    value = reprlib.repr(_plain(values.iloc[0]))
    if task == "classification":
        need = "classification needs at least two classes"
    else:
        need = "regression needs at least two distinct values"
    raise UserInputError(
        f"target column {column!r} has a single value ({value} in all {len(values)} rows with a target): "
        f"{need}; check that the right column is the target"
    )


def _class_labels(column: str, values: pd.Series, integral: bool) -> tuple[list[Label], str]:
    distinct = values.unique()
    if pd.api.types.is_bool_dtype(values.dtype):
        return sorted(bool(value) for value in distinct), "bool"
    if integral:
        return sorted(int(value) for value in distinct), "int64"
    if _is_numeric(values):
        return sorted(float(value) for value in distinct), "float64"

    labels = [_plain(value) for value in distinct]
    types = sorted({type(label).__name__ for label in labels})
    if len(types) > 1:
        raise UserInputError(
            f"target column {column!r} mixes value types ({', '.join(types)}); "
            "convert the column to one type, for example all text, and try again"
        )
    return sorted(labels), LABEL_DTYPES.get(types[0], "object")


def _plain(value: Any) -> Any:
    """Return the plain Python value of a NumPy scalar."""
    return value.item() if isinstance(value, np.generic) else value


def _put_positive_last(column: str, labels: list[Label], positive_label: Any, kind: str) -> list[Label]:
    if kind != "binary":
        raise UserInputError(
            f"a positive label applies to binary classification only, but target column {column!r} has "
            f"{len(labels)} classes {reprlib.repr(labels)}; remove the positive label option"
        )
    matches = [label for label in labels if label == positive_label and type(label) is type(positive_label)]
    if not matches:
        matches = [label for label in labels if str(label).lower() == str(positive_label).lower()]
    if len(matches) != 1:
        raise UserInputError(
            f"positive label {positive_label!r} is not a class of target column {column!r}; "
            f"the classes are {', '.join(repr(label) for label in labels)}"
        )
    positive = matches[0]
    return [label for label in labels if label != positive] + [positive]
