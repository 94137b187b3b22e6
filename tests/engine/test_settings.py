from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from glassml.engine import TrainSettings, parse_column_purposes, parse_duration, parse_validation
from glassml.errors import UserInputError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1.5m", 90.0),
        (" 45 s ", 45.0),
        (30, 30.0),
        (2.5, 2.5),
    ],
)
def test_parse_duration_valid(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "", "10d", "-5", "1h30m", "m", "1.5.2s"])
def test_parse_duration_invalid(text: str) -> None:
    with pytest.raises(UserInputError, match="is not a duration; write it like 90, 90s, 10m or 1h") as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auto", ("auto", None)),
        ("holdout:0.2", ("holdout", 0.2)),
        ("holdout:0.1", ("holdout", 0.1)),
        ("cv:3", ("cv", 3)),
        ("cv:10", ("cv", 10)),
    ],
)
def test_parse_validation_valid(text: str, expected: tuple[str, float | int | None]) -> None:
    assert parse_validation(text) == expected


@pytest.mark.parametrize(
    "text",
    ["holdout:0", "holdout:1", "holdout:1.5", "holdout:x", "holdout", "cv:1", "cv:2.5", "cv:", "kfold:5", "Auto"],
)
def test_parse_validation_invalid(text: str) -> None:
    with pytest.raises(UserInputError, match="use auto, holdout:FRACTION") as caught:
        parse_validation(text)
    assert repr(text) in str(caught.value)


def test_parse_column_purposes_splits_on_last_equals() -> None:
    purposes = parse_column_purposes(["a=b=categorical", "zip=categorical", "notes=text"])

    assert purposes == {"a=b": "categorical", "zip": "categorical", "notes": "text"}


def test_parse_column_purposes_empty_list() -> None:
    assert parse_column_purposes([]) == {}


@pytest.mark.parametrize("pair", ["zip", "=categorical", ""])
def test_parse_column_purposes_invalid(pair: str) -> None:
    with pytest.raises(UserInputError, match="is not of the form name=purpose"):
        parse_column_purposes([pair])


def _settings(**overrides: object) -> TrainSettings:
    # Settings check only that the data file exists, so this test file serves as the table.
    values: dict[str, object] = {"data_path": Path(__file__), "target": "y", "started_at": time.time()}
    return TrainSettings(**(values | overrides))  # type: ignore[arg-type]


def test_train_settings_defaults() -> None:
    settings = _settings()

    assert settings.time_limit == 60.0
    assert settings.max_trials is None
    assert settings.validation == "auto"
    assert settings.n_workers == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"task": "clustering"}, "task 'clustering' is not supported"),
        ({"time_limit": None, "max_trials": None}, "give a time limit"),
        ({"time_limit": 4.0}, "time limit 4 s is too short"),
        ({"max_trials": 0}, "--max-trials must be at least 1, got 0"),
        ({"n_workers": 0}, "--workers and --threads must be at least 1"),
        ({"n_threads": 0}, "--workers and --threads must be at least 1"),
        ({"column_purposes": {"zip": "postcode"}}, "purpose 'postcode' for column 'zip' is not known"),
        ({"validation": "cv:1"}, "validation 'cv:1' is not understood"),
    ],
)
def test_train_settings_invalid(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        _settings(**overrides)


def test_train_settings_trial_limit_without_time_limit() -> None:
    settings = _settings(time_limit=None, max_trials=3)

    assert settings.time_limit is None
    assert settings.max_trials == 3


def test_train_settings_nan_time_limit() -> None:
    assert math.isnan(parse_duration(float("nan")))
    with pytest.raises(UserInputError, match="time limit"):
        _settings(time_limit=float("nan"))


@pytest.mark.parametrize("option", ["data_path", "validation_data", "test_data"])
def test_train_settings_missing_file(option: str, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not found; check the path"):
        _settings(**{option: tmp_path / "absent.csv"})
