"""Plan a forecasting run: read the table, find the time grid, check every series, set the backtest.

The long table is built by the data part of the rendered script itself (`render_data_module`), so
the series lengths, gaps and fills reported here are the ones the script's forecasters see.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from glassml.data import check_target_column, detect_read_options, fingerprint, load_reader
from glassml.data._guardrails import Guardrail
from glassml.data._names import unknown_column_error
from glassml.engine._jobs import load_script
from glassml.errors import TimeSeriesWarning, UserInputError
from glassml.forecasting._options import ForecastOptions
from glassml.forecasting._script import render_data_module
from glassml.metrics import resolve_metric
from glassml.spec import (
    AlgorithmSpec,
    ColumnProfile,
    DataFingerprint,
    ForecastSpec,
    ReadOptions,
    SeriesSpec,
    TargetSpec,
    ValidationSpec,
)

logger = logging.getLogger(__name__)

# Season length of each frequency family: the period of the strongest usual cycle.
SEASON_LENGTHS = {"min": 60, "h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4, "Y": 1}
# The shortest training history of a non-seasonal series, in steps.
MIN_STEPS = 8
# Backtest windows when --n-windows is not given (fewer when the series are short, or the table large).
DEFAULT_WINDOWS = 3
LARGE_TABLE_WINDOWS = 2
# Statistical models fit each series on at most this many recent steps, and on fewer when the series are
# many: about STATISTICAL_ROWS steps over all series. Learners train on about LEARNER_ROWS steps at most.
MAX_STATISTICAL_HISTORY = 1000
STATISTICAL_ROWS = 20_000
LEARNER_ROWS = 100_000
# At most this many series vote on the frequency when --freq is not given.
MAX_VOTING_SERIES = 500
# Series named in a guardrail's detail.
NAMED_SERIES = 5


@dataclass
class ForecastPlan:
    """Decisions of reading and planning, shared by every trial of a forecasting run."""

    read: ReadOptions
    data: DataFingerprint
    target: TargetSpec
    columns: list[ColumnProfile]
    validation: ValidationSpec
    metric: str
    series: SeriesSpec
    n_rows: int
    n_series: int
    dropped_target_rows: int = 0
    # Seconds the script's preparation of the long table took here; a refit in the parent repeats it.
    prepare_seconds: float = 0.0
    guardrails: list[Guardrail] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return len(self.series.known_covariates) + len(self.series.static_features)

    @property
    def data_key(self) -> str:
        """A hash of everything the scripts' reading and preparation code depends on."""
        parts = {
            "read": self.read.__dict__,
            "path": self.data.path,
            "sha256": self.data.sha256,
            "target": self.target.__dict__,
            "series": self.series.__dict__,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def plan_forecast(settings: Any, events: Any) -> ForecastPlan:
    """Read the training table, check its series and decide the grid, the backtest and the metric."""
    options: ForecastOptions = settings.forecast
    read = detect_read_options(settings.data_path)
    table = load_reader(read)(str(settings.data_path))
    _check_columns(table, settings.target, options)
    times = pd.to_datetime(table[options.time_column], errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        raise UserInputError(
            f"time column {options.time_column!r} has a missing or unreadable value in row {row} "
            f"({table[options.time_column].iloc[row]!r}); fix or remove those rows"
        )
    target_values = pd.to_numeric(table[settings.target], errors="coerce")
    if target_values.notna().sum() == 0:
        raise UserInputError(f"target column {settings.target!r} has no numeric value to forecast")

    ids = _series_ids(table, options.series_id)
    freq, votes = (options.freq, {}) if options.freq else _infer_frequency(times, ids)
    natural_season = SEASON_LENGTHS[_family(freq)]
    series = SeriesSpec(
        time_column=options.time_column,
        series_id=list(options.series_id),
        freq=freq,
        horizon=options.horizon,
        season_length=natural_season,
        min_train_length=MIN_STEPS,
        n_windows=1,
        step_size=options.step_size or options.horizon,
        levels=list(options.levels),
        aggregate=options.aggregate,
        known_covariates=list(options.known_covariates),
        static_features=list(options.static_features),
    )
    target = TargetSpec(
        column=settings.target,
        task="forecasting",
        dtype="float64",
        task_reason=f"--task forecasting, {options.horizon} steps of {freq}",
        n_missing=int(target_values.isna().sum()),
    )
    data = fingerprint(settings.data_path, rows=len(table), columns=table.shape[1])
    module = load_script(render_data_module(_data_spec(read, data, target, series)), "glassml_series_plan")
    preparing = time.perf_counter()
    long = module.long_table(table)
    try:
        combined = module.combine_duplicates(long)
    except ValueError as error:
        raise UserInputError(str(error)) from None
    prepared = module.fill_grid(combined)
    prepare_seconds = time.perf_counter() - preparing
    lengths = prepared.groupby("unique_id", sort=True).size()

    _choose_backtest(series, lengths, options)
    _choose_history(series, lengths)
    guardrails = _guardrails(series, times, module.snap_to_grid(times), ids, long, combined, prepared, lengths, votes)
    validation = ValidationSpec(
        kind="backtest",
        reason=(
            f"rolling origin: {series.n_windows} windows of {series.horizon} steps, "
            f"{series.step_size} steps apart, at the end of every series"
        ),
        n_folds=series.n_windows,
    )
    plan = ForecastPlan(
        read=read,
        data=data,
        target=target,
        columns=_column_roles(table, settings.target, options),
        validation=validation,
        metric=resolve_metric("forecasting", settings.metric),
        series=series,
        n_rows=len(prepared),
        n_series=int(lengths.size),
        dropped_target_rows=0,
        guardrails=guardrails,
        prepare_seconds=prepare_seconds,
    )
    events.planned(plan)
    return plan


def _data_spec(read: ReadOptions, data: DataFingerprint, target: TargetSpec, series: SeriesSpec) -> ForecastSpec:
    validation = ValidationSpec(kind="backtest", reason="", n_folds=series.n_windows)
    return ForecastSpec("", "", 0, target, read, data, series, validation, AlgorithmSpec("naive", {}), "mase")


def _check_columns(table: pd.DataFrame, target: str, options: ForecastOptions) -> None:
    check_target_column(table, target)
    for role, columns in (
        ("time", [options.time_column]),
        ("series id", options.series_id),
        ("known covariate", options.known_covariates),
        ("static feature", options.static_features),
    ):
        for column in columns:
            if column not in table.columns:
                raise unknown_column_error(column, list(table.columns), role)
            if column == target:
                raise UserInputError(f"column {column!r} is the target; it cannot also be a {role} column")
    for column in options.known_covariates:
        if pd.to_numeric(table[column], errors="coerce").notna().sum() < table[column].notna().sum():
            raise UserInputError(
                f"known covariate {column!r} has values that are not numbers; encode it as numbers or leave it out"
            )
    if options.static_features and options.series_id:
        varying = [
            column
            for column in options.static_features
            if (table.groupby(options.series_id, sort=False)[column].nunique(dropna=False) > 1).any()
        ]
        if varying:
            raise UserInputError(
                f"static feature {varying[0]!r} changes within a series; give it with --known-covariates, "
                "or give one value per series"
            )


def _series_ids(table: pd.DataFrame, columns: list[str]) -> pd.Series:
    # The same ids as the script's series_ids(), which cannot run before the frequency is known.
    if not columns:
        return pd.Series("series", index=table.index)
    ids = table[columns[0]].astype(str)
    for column in columns[1:]:
        ids = ids + "|" + table[column].astype(str)
    return ids


def _family(freq: str) -> str:
    from glassml.forecasting._forecasters import frequency_family

    return frequency_family(freq)


def _infer_frequency(times: pd.Series, ids: pd.Series) -> tuple[str, dict[str, str]]:
    """Return the frequency most series follow, and each voting series' own frequency.

    A series votes with `pd.infer_freq` when its steps are regular, and otherwise with the frequency
    of its median step, which gaps and clock jitter do not move.
    """
    votes: dict[str, str] = {}
    for uid, group in times.groupby(ids, sort=True):
        if len(votes) >= MAX_VOTING_SERIES:
            break
        steps = pd.DatetimeIndex(group.drop_duplicates().sort_values())
        if len(steps) < 3:
            continue
        votes[str(uid)] = pd.infer_freq(steps) or _frequency_of_median_step(steps)
    if not votes:
        raise UserInputError(
            "every series has fewer than 3 distinct timestamps, too few to infer the frequency; "
            "give --freq (e.g. D or MS)"
        )
    freq = Counter(votes.values()).most_common(1)[0][0]
    return freq, votes


def _frequency_of_median_step(steps: pd.DatetimeIndex) -> str:
    step = pd.Series(steps).diff().median()
    days = step / pd.Timedelta(days=1)
    normalized = steps.normalize()
    if days < 0.9:
        minutes = max(int(round(step / pd.Timedelta(minutes=1))), 1)
        return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"
    if days < 1.5:
        return "D"
    if 6.5 <= days <= 7.5:
        weekday = Counter(normalized.day_name().str[:3].str.upper()).most_common(1)[0][0]
        return f"W-{weekday}"
    month_start = (normalized.day == 1).mean() >= 0.5
    if 27 <= days <= 32:
        return "MS" if month_start else "ME"
    if 88 <= days <= 93:
        return "QS" if month_start else "QE"
    if 360 <= days <= 367:
        return "YS" if month_start else "YE"
    return f"{int(round(days))}D"


def _choose_backtest(series: SeriesSpec, lengths: pd.Series, options: ForecastOptions) -> None:
    """Set the season length, the shortest modelled history and the backtest windows, or explain why none fit."""
    horizon = series.horizon
    longest = int(lengths.max())
    if longest < MIN_STEPS + horizon:
        raise UserInputError(
            f"the longest series has {longest} steps: a horizon of {horizon} leaves fewer than {MIN_STEPS} steps "
            f"to train on before the last {horizon}, so no forecaster can be validated; the longest horizon possible "
            f"is {max(longest - MIN_STEPS, 0)}. Give a shorter --horizon or more history"
        )
    season = series.season_length
    typical = int(lengths[lengths >= MIN_STEPS + horizon].median())
    if season > 1 and typical < 2 * season + 1 + horizon:
        season = 1  # too few seasons of history to learn a seasonal pattern from
    series.season_length = season
    series.min_train_length = max(2 * season + 1, MIN_STEPS)
    if longest < series.min_train_length + horizon:
        series.season_length, series.min_train_length = 1, MIN_STEPS
    room = typical - series.min_train_length - horizon
    possible = 1 + max(room, 0) // series.step_size
    windows = DEFAULT_WINDOWS if int(lengths.sum()) <= LEARNER_ROWS else LARGE_TABLE_WINDOWS
    series.n_windows = options.n_windows or max(1, min(windows, possible))


def _choose_history(series: SeriesSpec, lengths: pd.Series) -> None:
    """Limit the history models fit on when the series are many and long, to keep trials within their time."""
    n_series, rows = int(lengths.size), int(lengths.sum())
    series.n_series = n_series
    shortest = 2 * series.min_train_length + series.horizon
    series.statistical_history = int(min(MAX_STATISTICAL_HISTORY, max(shortest, STATISTICAL_ROWS // n_series)))
    if rows > LEARNER_ROWS:
        series.learner_history = int(max(shortest, LEARNER_ROWS // n_series))


def _guardrails(
    series: SeriesSpec,
    times: pd.Series,
    snapped: pd.Series,
    ids: pd.Series,
    long: pd.DataFrame,
    combined: pd.DataFrame,
    prepared: pd.DataFrame,
    lengths: pd.Series,
    votes: dict[str, str],
) -> list[Guardrail]:
    guardrails = []

    disagreeing = sorted(uid for uid, freq in votes.items() if freq != series.freq)
    guardrails.append(
        _guardrail(
            "series_frequency",
            disagreeing,
            f"Frequency {series.freq} {'given' if not votes else 'inferred'}; every series follows it.",
            f"The steps of {{count}} do not follow the frequency {series.freq} that most series follow; "
            "their timestamps were aligned to its grid (give --freq to choose another).",
            "alerted",
        )
    )

    off_grid = times.astype("datetime64[ns]").to_numpy() != snapped.to_numpy()
    aligned = sorted(set(ids[off_grid].astype(str)))
    guardrails.append(
        _guardrail(
            "timestamps_aligned",
            aligned,
            "Every timestamp lies on the grid.",
            f"{int(off_grid.sum())} timestamps of {{count}} were off the {series.freq} grid and were aligned to it.",
        )
    )

    duplicates = len(long) - len(combined)
    guardrails.append(
        Guardrail(
            "duplicate_timestamps",
            "fixed" if duplicates else "passed",
            f"{duplicates} rows shared a series and a time step and were combined with {series.aggregate}."
            if duplicates
            else "No two rows share a series and a time step.",
            [],
            TimeSeriesWarning,
        )
    )

    # Rows before a series' first observed target are dropped, so they count neither as gaps nor as fills.
    first = combined.dropna(subset=["y"]).groupby("unique_id")["ds"].min()
    after_first = combined[combined["ds"] >= combined["unique_id"].map(first)]
    observed = after_first.dropna(subset=["y"]).groupby("unique_id").size().reindex(lengths.index, fill_value=0)
    observed_all = after_first.groupby("unique_id").size().reindex(lengths.index, fill_value=0)
    gaps = (lengths - observed_all).clip(lower=0)
    gap_series = sorted(gaps[gaps > 0].index.astype(str))
    guardrails.append(
        _guardrail(
            "gaps_filled",
            gap_series,
            "No series misses a time step.",
            f"{int(gaps.sum())} missing time steps of {{count}} were added and their targets interpolated linearly.",
        )
    )
    missing = (observed_all - observed).clip(lower=0)
    guardrails.append(
        _guardrail(
            "missing_targets",
            sorted(missing[missing > 0].index.astype(str)),
            "Every time step inside the series has a target.",
            f"{int(missing.sum())} steps of {{count}} had no target; they were interpolated linearly "
            "(the last value after the last observation; steps before the first observation were dropped).",
        )
    )

    short = sorted(lengths[lengths < series.min_train_length].index.astype(str))
    unscored = sorted(
        lengths[
            (lengths >= series.min_train_length) & (lengths < series.min_train_length + series.horizon)
        ].index.astype(str)
    )
    detail = ""
    if short:
        detail = (
            f"{_named(short)} have fewer than {series.min_train_length} steps: they are not modelled and are "
            "forecast by the mean of their values, without intervals."
        )
    if unscored:
        detail += (
            f" {_named(unscored)} are too short for a backtest window; they are modelled but not scored."
        ).lstrip()
    guardrails.append(
        Guardrail(
            "short_series",
            "alerted" if detail else "passed",
            detail.strip() or f"Every series has at least {series.min_train_length + series.horizon} steps.",
            [],
            TimeSeriesWarning,
        )
    )
    return guardrails


def _guardrail(name: str, series: list[str], passed: str, found: str, status: str = "fixed") -> Guardrail:
    if not series:
        return Guardrail(name, "passed", passed, [], TimeSeriesWarning)
    return Guardrail(name, status, found.format(count=_named(series)), [], TimeSeriesWarning)  # type: ignore[arg-type]


def _named(series: list[str]) -> str:
    """Name up to NAMED_SERIES series: "series 's2', 's3'" or "12 series ('a', 'b', ... and 7 more)"."""
    listed = ", ".join(repr(uid) for uid in series[:NAMED_SERIES])
    if len(series) == 1:
        return f"series {listed}"
    if len(series) <= NAMED_SERIES:
        return f"series {listed}"
    return f"{len(series)} series ({listed} and {len(series) - NAMED_SERIES} more)"


def _column_roles(table: pd.DataFrame, target: str, options: ForecastOptions) -> list[ColumnProfile]:
    roles = {options.time_column: ("time", "--time-column"), target: ("target", "--target")}
    roles |= {column: ("series_id", "--series-id") for column in options.series_id}
    roles |= {column: ("known_covariate", "--known-covariates") for column in options.known_covariates}
    roles |= {column: ("static_feature", "--static-features") for column in options.static_features}
    profiles = []
    for column in table.columns:
        purpose, reason = roles.get(
            column, ("ignore", "not given a role; pass it with --known-covariates or --static-features to use it")
        )
        profiles.append(
            ColumnProfile(
                name=str(column),
                purpose=purpose,  # type: ignore[arg-type]
                reason=reason,
                dtype=str(table[column].dtype),
                n_missing=int(table[column].isna().sum()),
                n_unique=int(table[column].nunique()),
            )
        )
    return profiles
