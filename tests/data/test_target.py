from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassml.data import check_target_column, infer_target
from glassml.errors import UserInputError


def test_infer_target_text_binary() -> None:
    target = infer_target(pd.Series(["no", "yes", None, "no", np.nan], name="renewed"))

    assert target.column == "renewed"
    assert target.task == "binary"
    assert target.class_labels == ["no", "yes"]
    assert target.dtype == "object"
    assert target.n_missing == 2
    assert target.task_reason == "text target: binary classification"


def test_infer_target_boolean() -> None:
    target = infer_target(pd.Series([True, False, None, True], dtype="boolean", name="is_fraud"))

    assert target.task == "binary"
    assert target.class_labels == [False, True]
    assert all(type(label) is bool for label in target.class_labels)
    assert target.dtype == "bool"
    assert target.n_missing == 1


def test_infer_target_float_zero_one_is_binary() -> None:
    target = infer_target(pd.Series([1.0, 0.0, 0.0, 1.0], name="defaulted"))

    assert target.task == "binary"
    assert target.class_labels == [0, 1]
    assert all(type(label) is int for label in target.class_labels)
    assert target.dtype == "int64"


def test_infer_target_integer_multiclass() -> None:
    target = infer_target(pd.Series([3, 1, 2, 2, 1], name="grade"))

    assert target.task == "multiclass"
    assert target.class_labels == [1, 2, 3]
    assert target.task_reason == (
        "integer target with 3 distinct values (at most 20): multiclass classification; "
        "pass --task regression to override"
    )


def test_infer_target_many_integers_is_regression() -> None:
    target = infer_target(pd.Series(np.arange(50), name="count"))

    assert target.task == "regression"
    assert target.class_labels is None
    assert target.dtype == "float64"
    assert "more than 20" in target.task_reason


def test_infer_target_fractional_is_regression() -> None:
    target = infer_target(pd.Series([1.5, 2.25, 3.0], name="price"))

    assert target.task == "regression"
    assert target.task_reason.startswith("numeric target with fractional values: regression")


def test_infer_target_explicit_tasks() -> None:
    regression = infer_target(pd.Series([0, 1, 1, 0], name="y"), task="regression")
    classification = infer_target(pd.Series(np.arange(30.0), name="y"), task="classification")

    assert regression.task == "regression"
    assert classification.task == "multiclass"
    assert classification.class_labels == list(range(30))


def test_infer_target_requested_kinds() -> None:
    binary = infer_target(pd.Series([0, 1, 1, 0], name="y"), task="binary")
    multiclass = infer_target(pd.Series([2.0, 7.0, 9.0, 2.0], name="y"), task="multiclass")

    assert binary.task == "binary"
    assert multiclass.task == "multiclass"
    assert multiclass.class_labels == [2, 7, 9]


def test_infer_target_requested_kind_mismatch() -> None:
    with pytest.raises(UserInputError, match=r"task 'binary' was requested, but target column 'y' has 3 classes"):
        infer_target(pd.Series(["a", "b", "c"], name="y"), task="binary")
    with pytest.raises(UserInputError, match=r"has 2 classes .*pass --task binary or --task classification"):
        infer_target(pd.Series(["a", "b"], name="y"), task="multiclass")


def test_infer_target_regression_on_text() -> None:
    with pytest.raises(UserInputError, match="target column 'species' is not numeric .* pass --task classification"):
        infer_target(pd.Series(["a", "b"], name="species"), task="regression")


def test_infer_target_unknown_task() -> None:
    with pytest.raises(UserInputError, match="unknown task 'clustering'; valid tasks are auto, classification"):
        infer_target(pd.Series([1, 2], name="y"), task="clustering")


def test_infer_target_single_value() -> None:
    with pytest.raises(
        UserInputError,
        match=r"target column 'approved' has a single value \('yes' in all 3 rows.*classification needs at least two",
    ):
        infer_target(pd.Series(["yes", "yes", None, "yes"], name="approved"))


def test_infer_target_no_values() -> None:
    with pytest.raises(UserInputError, match="target column 'y' has no values: all 2 rows are missing"):
        infer_target(pd.Series([None, np.nan], name="y"))


def test_infer_target_positive_label() -> None:
    by_value = infer_target(pd.Series(["spam", "ham", "spam"], name="y"), positive_label="ham")
    by_text = infer_target(pd.Series([0, 1, 1], name="y"), positive_label="0")
    by_bool_text = infer_target(pd.Series([True, False], name="y"), positive_label="false")

    assert by_value.class_labels == ["spam", "ham"]
    assert by_text.class_labels == [1, 0]
    assert by_bool_text.class_labels == [True, False]


def test_infer_target_unknown_positive_label() -> None:
    with pytest.raises(UserInputError, match="positive label 'maybe' is not a class .* the classes are 'no', 'yes'"):
        infer_target(pd.Series(["no", "yes"], name="y"), positive_label="maybe")


def test_infer_target_positive_label_needs_binary() -> None:
    with pytest.raises(UserInputError, match="applies to binary classification only"):
        infer_target(pd.Series(["a", "b", "c"], name="y"), positive_label="a")


def test_infer_target_mixed_types() -> None:
    with pytest.raises(UserInputError, match=r"mixes value types \(int, str\)"):
        infer_target(pd.Series([1, "a", 2], dtype=object, name="y"))


def test_infer_target_categorical_int_labels() -> None:
    target = infer_target(pd.Series(pd.Categorical([1, 2, 1]), name="y"))

    assert target.class_labels == [1, 2]
    assert target.dtype == "int64"


def test_check_target_column_suggests_names() -> None:
    frame = pd.DataFrame({"churned": [0], "age": [1]})

    check_target_column(frame, "churned")
    with pytest.raises(UserInputError, match="target column 'churn' not found in the data; did you mean 'churned'"):
        check_target_column(frame, "churn")


def test_infer_target_dates_rejected() -> None:
    with pytest.raises(UserInputError, match="target column 'when' contains dates.*choose another target column"):
        infer_target(pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"]), name="when"))
