"""The options of one training run, validated in one place."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from glassml.errors import UserInputError
from glassml.forecasting._options import ForecastOptions
from glassml.search._learned import read_portfolio
from glassml.spec import PURPOSES

TASKS = ("auto", "classification", "binary", "multiclass", "regression", "forecasting")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class TrainSettings:
    """Everything `glassml train` and `AutoML.fit` accept, after validation.

    `data_path` is the training table; `time_limit` is in seconds and counts from `started_at`
    (a `time.time()` value, by default the start of the process).
    """

    data_path: Path
    target: str
    started_at: float
    task: str = "auto"
    metric: str | None = None
    time_limit: float | None = 60.0
    max_trials: int | None = None
    seed: int = 0
    allowed_models: list[str] | None = None
    blocked_models: list[str] | None = None
    validation: str = "auto"
    validation_data: Path | None = None
    test_data: Path | None = None
    weight_column: str | None = None
    ignore_columns: list[str] = field(default_factory=list)
    column_purposes: dict[str, str] = field(default_factory=dict)
    positive_label: str | None = None
    experiment: str = "default"
    tracking_uri: str | None = None
    n_workers: int = 1
    n_threads: int = 1
    memory_limit_mb: int | None = None
    early_stopping: bool = True
    portfolio_path: Path | None = None
    # The series settings of a forecasting task (`task="forecasting"`), None for other tasks.
    forecast: ForecastOptions | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise UserInputError(f"task {self.task!r} is not supported; use one of {', '.join(TASKS)}")
        if self.task == "forecasting" and self.forecast is None:
            raise UserInputError("a forecasting task needs --time-column and --horizon")
        if self.task == "forecasting" and (self.validation_data or self.test_data or self.weight_column):
            raise UserInputError(
                "--validation-data, --test-data and --weight-column do not apply to forecasting: "
                "the backtest at the end of every series scores each forecaster"
            )
        if self.task != "forecasting" and self.forecast is not None:
            raise UserInputError(
                "--time-column, --horizon and the other series options apply to --task forecasting only"
            )
        if self.time_limit is None and self.max_trials is None:
            raise UserInputError("give a time limit (--time-limit) or a number of trials (--max-trials), or both")
        if self.time_limit is not None and not math.isfinite(self.time_limit):
            raise UserInputError(
                f"time limit {self.time_limit} is not a number of seconds; write it like 90, 90s or 10m"
            )
        if self.time_limit is not None and self.time_limit < 5:
            raise UserInputError(f"time limit {self.time_limit:g} s is too short: glassml needs at least 5 seconds")
        if self.max_trials is not None and self.max_trials < 1:
            raise UserInputError(f"--max-trials must be at least 1, got {self.max_trials}")
        if self.n_workers < 1 or self.n_threads < 1:
            raise UserInputError("--workers and --threads must be at least 1")
        for name, purpose in self.column_purposes.items():
            if purpose not in PURPOSES:
                raise UserInputError(
                    f"purpose {purpose!r} for column {name!r} is not known; use one of {', '.join(PURPOSES)}"
                )
        parse_validation(self.validation)
        for option, path in (
            ("training data", self.data_path),
            ("--validation-data", self.validation_data),
            ("--test-data", self.test_data),
            ("--portfolio", self.portfolio_path),
        ):
            if path is not None and not Path(path).is_file():
                raise UserInputError(
                    f"{option} file {str(path)!r} not found; check the path (relative paths start at {Path.cwd()})"
                )
        if self.portfolio_path is not None:
            read_portfolio(self.portfolio_path)


def parse_duration(text: str | float | int) -> float:
    """Parse a time limit such as `90`, `90s`, `10m` or `1h` into seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    match = _DURATION.match(text)
    if match is None:
        raise UserInputError(f"time limit {text!r} is not a duration; write it like 90, 90s, 10m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_validation(text: str) -> tuple[str, float | int | None]:
    """Parse `auto`, `holdout:0.1` or `cv:5` into a kind and its number."""
    if text == "auto":
        return "auto", None
    kind, _, number = text.partition(":")
    try:
        if kind == "holdout":
            fraction = float(number)
            if 0 < fraction < 1:
                return "holdout", fraction
        elif kind == "cv":
            folds = int(number)
            if folds >= 2:
                return "cv", folds
    except ValueError:
        pass
    raise UserInputError(
        f"validation {text!r} is not understood; use auto, holdout:FRACTION (e.g. holdout:0.1) "
        "or cv:FOLDS (e.g. cv:5), or give a validation file with --validation-data"
    )


def parse_column_purposes(pairs: list[str]) -> dict[str, str]:
    """Parse `name=purpose` pairs, splitting on the last `=` so that names may contain `=`."""
    purposes = {}
    for pair in pairs:
        name, separator, purpose = pair.rpartition("=")
        if not separator or not name:
            raise UserInputError(f"column purpose {pair!r} is not of the form name=purpose (e.g. zip_code=categorical)")
        purposes[name] = purpose
    return purposes
