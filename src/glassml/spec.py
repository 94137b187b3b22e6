"""The spec of a candidate model: plain, JSON-serializable data that the code generator renders.

A spec contains every decision of the search about one model: how the table is read, what each
column is used for, the algorithm and its hyperparameters, the validation plan and the metric.
`glassml.codegen.render_script` turns a spec into `script.py`, and the engine trains and scores
the candidate by running that script's functions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Task = Literal["binary", "multiclass", "regression", "forecasting"]
Purpose = Literal["numeric", "categorical", "high_cardinality", "datetime", "text", "boolean", "ignore"]
Label = bool | int | float | str

PURPOSES: tuple[str, ...] = ("numeric", "categorical", "high_cardinality", "datetime", "text", "boolean", "ignore")


@dataclass
class ReadOptions:
    """How the training table is read, so that the script never guesses again.

    `column_dtypes` is the pandas dtype of every column right after reading ("float64", "object",
    "boolean", "Int64", "datetime64[ns]"). `date_formats` maps date columns stored as text to the
    `strftime` format that parses them.
    """

    format: Literal["csv", "parquet"]
    column_dtypes: dict[str, str]
    separator: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    thousands: str | None = None
    missing_tokens: list[str] = field(default_factory=list)
    date_formats: dict[str, str] = field(default_factory=dict)
    strip_header_whitespace: bool = False
    strip_value_whitespace: bool = False  # strip text values and treat blank cells as missing
    detected: dict[str, str] = field(default_factory=dict)  # what was detected and how, for the report


@dataclass
class ColumnProfile:
    """What profiling found about one column and the purpose it will serve."""

    name: str
    purpose: Purpose
    reason: str
    dtype: str
    n_missing: int = 0
    n_unique: int = 0


@dataclass
class DataFingerprint:
    """The training table the search read: where it was, its size and its content hash."""

    path: str
    rows: int
    columns: int
    sha256: str


@dataclass
class TargetSpec:
    """The target column, the task it defines and, for classification, the classes in code order."""

    column: str
    task: Task
    dtype: str
    class_labels: list[Label] | None = None
    task_reason: str = ""
    n_missing: int = 0  # rows without a target value, dropped before training


@dataclass
class ValidationSpec:
    """How a candidate is scored: a holdout split, k-fold cross-validation or a validation file."""

    kind: Literal["holdout", "cv", "validation_data", "backtest"]
    reason: str
    n_folds: int | None = None
    test_size: float | None = None
    stratified: bool = False
    validation_path: str | None = None


@dataclass
class AlgorithmSpec:
    """A learner by its registry name with every hyperparameter written out.

    `early_stopping` records how early stopping chose the number of boosting rounds in `params`:
    the keys ``param`` (the constructor parameter), ``max_rounds`` (the sampled upper bound),
    ``patience`` (rounds without improvement before stopping) and ``rounds`` (the chosen value).
    None when the rounds were not chosen that way.
    """

    name: str
    params: dict[str, Any]
    early_stopping: dict[str, Any] | None = None


@dataclass
class TrialSpec:
    """Everything needed to render and run one candidate model."""

    experiment: str
    run_id: str
    trial_number: int
    target: TargetSpec
    read: ReadOptions
    columns: list[ColumnProfile]
    data: DataFingerprint
    validation: ValidationSpec
    algorithm: AlgorithmSpec
    metric: str
    seed: int = 0
    n_threads: int = 1
    weight_column: str | None = None
    glassml_version: str = ""
    python_version: str = ""

    def columns_for(self, purpose: str) -> list[str]:
        """Return the names of the columns that serve `purpose`, in table order."""
        return [column.name for column in self.columns if column.purpose == purpose]

    @property
    def feature_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.purpose != "ignore"]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialSpec:
        values = dict(data)
        values["target"] = TargetSpec(**data["target"])
        values["read"] = ReadOptions(**data["read"])
        values["columns"] = [ColumnProfile(**column) for column in data["columns"]]
        values["data"] = DataFingerprint(**data["data"])
        values["validation"] = ValidationSpec(**data["validation"])
        values["algorithm"] = AlgorithmSpec(**data["algorithm"])
        return cls(**values)


@dataclass
class SeriesSpec:
    """How a forecasting table becomes series: columns, time grid, horizon and backtest windows.

    Series shorter than `min_train_length` steps are not modelled: they are forecast by the mean of
    their values. `n_windows` backtest windows of `horizon` steps end `step_size` steps apart.
    """

    time_column: str
    series_id: list[str]
    freq: str
    horizon: int
    season_length: int
    min_train_length: int
    n_windows: int
    step_size: int
    levels: list[int] = field(default_factory=lambda: [80, 95])
    aggregate: str | None = None
    known_covariates: list[str] = field(default_factory=list)
    static_features: list[str] = field(default_factory=list)
    # The most recent steps of each series that statistical models fit on, and that learners train on
    # (None: all of them). They keep a trial's time in bounds on long series.
    statistical_history: int = 1000
    learner_history: int | None = None
    n_series: int = 1


@dataclass
class ForecastSpec:
    """Everything needed to render and run one forecaster: the series, the forecaster and its backtest."""

    experiment: str
    run_id: str
    trial_number: int
    target: TargetSpec
    read: ReadOptions
    data: DataFingerprint
    series: SeriesSpec
    validation: ValidationSpec
    algorithm: AlgorithmSpec
    metric: str
    seed: int = 0
    n_threads: int = 1
    glassml_version: str = ""
    python_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ForecastSpec:
        values = dict(data)
        values["target"] = TargetSpec(**data["target"])
        values["read"] = ReadOptions(**data["read"])
        values["data"] = DataFingerprint(**data["data"])
        values["series"] = SeriesSpec(**data["series"])
        values["validation"] = ValidationSpec(**data["validation"])
        values["algorithm"] = AlgorithmSpec(**data["algorithm"])
        return cls(**values)


def spec_from_dict(data: dict[str, Any]) -> TrialSpec | ForecastSpec:
    """Return the spec that `to_dict` wrote: a forecasting spec when it has series, else a table spec."""
    if "series" in data:
        return ForecastSpec.from_dict(data)
    return TrialSpec.from_dict(data)
