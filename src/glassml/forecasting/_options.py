"""The series options of a forecasting run, checked before any data is read."""

from __future__ import annotations

from dataclasses import dataclass, field

from glassml.errors import UserInputError

AGGREGATIONS = ("sum", "mean", "median", "min", "max", "first", "last")


@dataclass
class ForecastOptions:
    """The series options that `glassml train --task forecasting` accepts.

    `freq` is a pandas frequency alias; None infers it from the timestamps of every series.
    `n_windows` and `step_size` set the backtest; None derives them from series lengths and horizon.
    """

    time_column: str
    horizon: int
    series_id: list[str] = field(default_factory=list)
    freq: str | None = None
    aggregate: str | None = None
    known_covariates: list[str] = field(default_factory=list)
    static_features: list[str] = field(default_factory=list)
    n_windows: int | None = None
    step_size: int | None = None
    levels: list[int] = field(default_factory=lambda: [80, 95])

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise UserInputError(f"--horizon must be at least 1 step, got {self.horizon}")
        if self.n_windows is not None and self.n_windows < 1:
            raise UserInputError(f"--n-windows must be at least 1, got {self.n_windows}")
        if self.step_size is not None and self.step_size < 1:
            raise UserInputError(f"--step-size must be at least 1 step, got {self.step_size}")
        if self.aggregate is not None and self.aggregate not in AGGREGATIONS:
            raise UserInputError(f"--aggregate {self.aggregate!r} is not known; use one of {', '.join(AGGREGATIONS)}")
        for level in self.levels:
            if not 0 < level < 100:
                raise UserInputError(f"--level {level} is not a percentage between 0 and 100 (e.g. 80 or 95)")
        if self.freq is not None:
            check_frequency(self.freq)
        roles = [
            ("--time-column", [self.time_column]),
            ("--series-id", self.series_id),
            ("--known-covariates", self.known_covariates),
            ("--static-features", self.static_features),
        ]
        seen: dict[str, str] = {}
        for option, columns in roles:
            for column in columns:
                if column in seen and seen[column] != option:
                    raise UserInputError(
                        f"column {column!r} is given to both {seen[column]} and {option}; give it one role"
                    )
                seen[column] = option


def check_frequency(freq: str) -> None:
    """Raise a UserInputError when `freq` is not a pandas frequency alias."""
    import pandas as pd

    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise UserInputError(
            f"--freq {freq!r} is not a pandas frequency; use an alias such as h, D, W-MON, MS, QS or YS"
        ) from None
