"""Render a forecasting trial's spec as `script.py`: the standalone program that backtests and trains it.

The data part (reading, the time grid, the long table) needs only pandas and NumPy, and glassml
runs that same text to plan a run (`render_data_module`). The forecaster part writes out the
statsforecast model or the mlforecast learner with every parameter.
"""

from __future__ import annotations

import textwrap

from glassml.codegen import _literals as lit
from glassml.codegen._imports import Imports
from glassml.codegen._script import RenderedScript
from glassml.data import render_reader
from glassml.forecasting._forecasters import (
    ENSEMBLE,
    FORECASTERS,
    render_ensemble,
    render_feature_config,
    render_forecaster,
)
from glassml.spec import ForecastSpec, SeriesSpec

METRIC_NAMES = ("mase", "smape", "rmse", "wape")

_FORECASTER_CLASS = {"statsforecast": "StatsForecast", "mlforecast": "MLForecast"}

AGGREGATIONS = ("sum", "mean", "median", "min", "max", "first", "last")

_GRID_FUNCTIONS = '''
def get_training_dataset(path: str) -> pd.DataFrame:
    """Return the training table as the search read it."""
    return read_table(path)


def series_ids(df: pd.DataFrame) -> pd.Series:
    """Return each row's series id as text: the id columns' values joined by "|"."""
    if not SERIES_ID_COLUMNS:
        return pd.Series("series", index=df.index)
    ids = df[SERIES_ID_COLUMNS[0]].astype(str)
    for column in SERIES_ID_COLUMNS[1:]:
        ids = ids + "|" + df[column].astype(str)
    return ids


def snap_to_grid(times: pd.Series) -> pd.Series:
    """Move timestamps onto the FREQ grid.

    Fixed steps (days, hours, minutes) round to the nearest step, which absorbs clock jitter. Calendar
    steps (weeks, months, quarters, years) move back to the grid point at or before the timestamp.
    """
    offset = pd.tseries.frequencies.to_offset(FREQ)
    times = pd.to_datetime(times).astype("datetime64[ns]")
    if isinstance(offset, pd.offsets.Tick):
        return times.dt.round(offset)
    normalized = times.dt.normalize()
    return normalized + offset - offset


def check_columns(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise ValueError(f"the table has no column {', '.join(map(repr, missing))}; it needs {columns!r}")


def long_table(df: pd.DataFrame, *, with_target: bool = True) -> pd.DataFrame:
    """Return one row per input row: unique_id, ds, y, then covariates and static features."""
    # Future covariates need no target, and the static features are known from the history.
    target = [TARGET_COLUMN] if with_target else []
    statics = STATIC_FEATURES if with_target else []
    check_columns(df, [TIME_COLUMN, *target, *SERIES_ID_COLUMNS, *KNOWN_COVARIATES, *statics])
    times = pd.to_datetime(df[TIME_COLUMN], errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        raise ValueError(f"column {TIME_COLUMN!r} has a missing or unreadable time in row {row}")
    data = pd.DataFrame({"unique_id": series_ids(df), "ds": snap_to_grid(times)})
    if with_target:
        data["y"] = pd.to_numeric(df[TARGET_COLUMN], errors="coerce").astype("float64")
    for column in KNOWN_COVARIATES:
        data[column] = pd.to_numeric(df[column], errors="coerce").astype("float64")
    for column in statics:
        data[column] = df[column].to_numpy()
    for column in SERIES_ID_COLUMNS:
        data[column] = df[column].to_numpy()
    return data


def combine_duplicates(data: pd.DataFrame) -> pd.DataFrame:
    """Return the table with one row per series and time step."""
    duplicated = data.duplicated(["unique_id", "ds"], keep=False)
    if not duplicated.any():
        return data
    if AGGREGATE is None:
        examples = data.loc[duplicated, ["unique_id", "ds"]].drop_duplicates().head(3)
        listed = "; ".join(f"series {uid!r} at {ds}" for uid, ds in examples.itertuples(index=False))
        raise ValueError(
            f"{int(duplicated.sum())} rows share a series and a time step ({listed}); "
            "combine them with --aggregate sum (or mean, max, ...) or remove the duplicates"
        )
    grouped = data.groupby(["unique_id", "ds"], sort=False)
    firsts = [column for column in data.columns if column not in ("unique_id", "ds", "y", *KNOWN_COVARIATES)]
    aggregations = {"y": AGGREGATE, **dict.fromkeys(KNOWN_COVARIATES, "mean"), **dict.fromkeys(firsts, "first")}
    combined = grouped.agg(aggregations)
    if AGGREGATE == "sum":
        # A step whose rows all lack the target stays missing instead of summing to 0.
        combined["y"] = combined["y"].where(grouped["y"].count() > 0)
    return combined.reset_index()[data.columns]


def fill_grid(data: pd.DataFrame) -> pd.DataFrame:
    """Return every series on the full FREQ grid from its first observed target to its last row.

    Missing steps and missing targets are filled by linear interpolation within the series, with the
    last value after the last observation. Covariates and static features take the nearest row's value.
    """
    data = data.sort_values(["unique_id", "ds"], kind="mergesort")
    started = data["y"].notna().groupby(data["unique_id"], sort=False).cummax()
    data = data[started]
    bounds = data.groupby("unique_id", sort=True)["ds"].agg(["min", "max"])
    grid = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": pd.date_range(first, last, freq=FREQ)})
            for uid, first, last in bounds.itertuples()
        ],
        ignore_index=True,
    )
    data = grid.merge(data, on=["unique_id", "ds"], how="left", validate="one_to_one")
    by_series = data.groupby("unique_id", sort=False)
    data["y"] = by_series["y"].transform(lambda values: values.interpolate(limit_direction="forward"))
    others = [column for column in data.columns if column not in ("unique_id", "ds", "y")]
    if others:
        data[others] = by_series[others].transform(lambda values: values.ffill().bfill())
    return data


def prepare_data(df: pd.DataFrame) -> pd.DataFrame:
    """Return the long table the forecasters take: unique_id, ds, y, covariates, static features and ids.

    One row per series and step of the FREQ grid, sorted by series and time.
    """
    data = combine_duplicates(long_table(df))
    if data["y"].notna().sum() == 0:
        raise ValueError(f"target column {TARGET_COLUMN!r} has no value")
    return fill_grid(data).reset_index(drop=True)


def prepare_future(df: pd.DataFrame) -> pd.DataFrame:
    """Return the known covariates of the forecast steps as a long table: unique_id, ds, covariates."""
    data = long_table(df, with_target=False)[["unique_id", "ds", *KNOWN_COVARIATES]]
    return data.drop_duplicates(["unique_id", "ds"], keep="last").reset_index(drop=True)
'''

_MODEL_FUNCTIONS = '''
def split_dataset(data: pd.DataFrame) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Return the rolling-origin backtest windows as (history, next HORIZON steps) pairs, oldest first.

    Window k of N_WINDOWS ends (N_WINDOWS - 1 - k) * STEP_SIZE steps before each series' last step. A
    series joins a window when at least MIN_TRAIN_LENGTH steps precede it.
    """
    position = data.groupby("unique_id", sort=False).cumcount()
    length = data.groupby("unique_id", sort=False)["ds"].transform("size")
    windows = []
    for k in range(N_WINDOWS):
        end = length - (N_WINDOWS - 1 - k) * STEP_SIZE
        start = end - HORIZON
        enough = start >= MIN_TRAIN_LENGTH
        history = data[enough & (position < start)]
        future = data[enough & (position >= start) & (position < end)]
        if len(future):
            windows.append((history.reset_index(drop=True), future.reset_index(drop=True)))
    return windows


def train_model(data: pd.DataFrame, prediction_intervals: bool = True) -> dict:
    """Fit the forecaster on every series of at least MIN_TRAIN_LENGTH steps.

    Shorter series are forecast by the mean of their values. Returns a dict of public objects: the
    fitted forecaster, those means, each series' last step and the series' id values.
    """
    length = data.groupby("unique_id", sort=False)["ds"].transform("size")
    modelled = data[length >= MIN_TRAIN_LENGTH]
    short = data[length < MIN_TRAIN_LENGTH]
    if short["unique_id"].nunique():
        logger.warning(
            "%d series have fewer than %d steps and are forecast by their mean: %s",
            short["unique_id"].nunique(),
            MIN_TRAIN_LENGTH,
            ", ".join(map(str, short["unique_id"].unique()[:10])),
        )
    forecaster = generate_forecaster_config()
{fit}
    return {{
        "forecaster": forecaster,
        "short_series_means": short.groupby("unique_id", sort=True)["y"].mean(),
        "last_steps": data.groupby("unique_id", sort=True)["ds"].max(),
        "series": data.drop_duplicates("unique_id")[["unique_id", *SERIES_ID_COLUMNS]].reset_index(drop=True),
        "has_intervals": has_intervals,
    }}


def forecast(
    model: dict,
    horizon: int = HORIZON,
    levels: list[int] = (),
    history: pd.DataFrame | None = None,
    future: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the next `horizon` steps of every series: unique_id, ds, prediction, lower_/upper_<level>.

    `history`, a prepared long table, replaces the training history as the past to forecast from.
    `future` contains the known covariates of the forecast steps.
    """
    forecaster = model["forecaster"]
    levels = sorted({{int(level) for level in levels}})
{predict}
    predictions = predictions.rename(columns={{MODEL_NAME: "prediction"}})
    for level in levels:
        lower, upper = f"{{MODEL_NAME}}-lo-{{level}}", f"{{MODEL_NAME}}-hi-{{level}}"
        predictions = predictions.rename(columns={{lower: f"lower_{{level}}", upper: f"upper_{{level}}"}})
    intervals = [f"{{side}}_{{level}}" for level in levels for side in ("lower", "upper")]
    columns = ["unique_id", "ds", "prediction", *intervals]
    predictions = predictions.reindex(columns=columns)
    means = model["short_series_means"]
    if history is not None:
        length = history.groupby("unique_id", sort=True)["ds"].size()
        means = history.groupby("unique_id", sort=True)["y"].mean()[length < MIN_TRAIN_LENGTH]
        last_steps = history.groupby("unique_id", sort=True)["ds"].max()
    else:
        last_steps = model["last_steps"]
    offset = pd.tseries.frequencies.to_offset(FREQ)
    fallback = [
        pd.DataFrame(
            {{
                "unique_id": uid,
                "ds": pd.date_range(last_steps[uid] + offset, periods=horizon, freq=FREQ),
                "prediction": mean,
            }}
        )
        for uid, mean in means.items()
    ]
    predictions = pd.concat([predictions, *fallback], ignore_index=True).reindex(columns=columns)
    return predictions.sort_values(["unique_id", "ds"], kind="mergesort").reset_index(drop=True)


def calculate_metrics(history: pd.DataFrame, actual: pd.DataFrame, predictions: pd.DataFrame) -> dict:
    """Return MASE, sMAPE, RMSE and WAPE of one window, each averaged over the series, primary first.

    MASE divides each series' mean absolute error by the mean absolute SEASON_LENGTH-step change of its
    history (one step when the history is shorter than two seasons). Series without change are left out.
    """
    past = history.groupby("unique_id", sort=True)["y"]
    seasonal = (history["y"] - past.shift(SEASON_LENGTH)).abs().groupby(history["unique_id"]).mean()
    one_step = (history["y"] - past.shift(1)).abs().groupby(history["unique_id"]).mean()
    scale = seasonal.where(past.size() > 2 * SEASON_LENGTH, one_step)

    rows = actual[["unique_id", "ds", "y"]].merge(predictions[["unique_id", "ds", "prediction"]], how="left")
    error = (rows["y"] - rows["prediction"]).abs()
    total = rows["y"].abs() + rows["prediction"].abs()
    rows = rows.assign(error=error, squared=error**2, ratio=(error / total).where(total > 0, 0.0), size=rows["y"].abs())
    by_series = rows.groupby("unique_id", sort=True)
    mean_error = by_series["error"].mean()
    size = by_series["size"].sum()
    series_scale = scale.reindex(mean_error.index)
    scores = pd.DataFrame(
        {{
            "mase": (mean_error / series_scale).where(series_scale > 0),
            "smape": 200.0 * by_series["ratio"].mean(),
            "rmse": np.sqrt(by_series["squared"].mean()),
            "wape": (by_series["error"].sum() / size).where(size > 0),
        }}
    )
    return {{name: float(scores[name].mean()) for name in METRIC_NAMES}}


def evaluate_model(data: pd.DataFrame) -> dict:
    """Backtest the forecaster on the windows of split_dataset and return the metrics averaged over windows."""
    window_scores = []
    for history, actual in split_dataset(data):
        model = train_model(history, prediction_intervals=False)
        future = actual[["unique_id", "ds", *KNOWN_COVARIATES]]
        predictions = forecast(model, HORIZON, future=future)
        window_scores.append(calculate_metrics(history, actual, predictions))
    table = pd.DataFrame(window_scores)
    return {{name: float(table[name].mean()) for name in METRIC_NAMES}}


def predict(
    model: dict, df: pd.DataFrame | None = None, future: pd.DataFrame | None = None, levels: list[int] = LEVELS
) -> pd.DataFrame:
    """Forecast HORIZON steps after each series' last step, in the table's own columns.

    `df`, a table laid out like the training data, replaces the training history; `future` gives the
    known covariates of the forecast steps. Returns the id and time columns, `prediction` and
    `lower_<level>` / `upper_<level>` for each level.
    """
    history = prepare_data(df) if df is not None else None
    future_data = prepare_future(future) if future is not None else None
    predictions = forecast(model, HORIZON, levels, history=history, future=future_data)
    if history is None:
        series = model["series"]
    else:
        series = history.drop_duplicates("unique_id")[["unique_id", *SERIES_ID_COLUMNS]]
    predictions = predictions.merge(series, on="unique_id", how="left")
    values = [column for column in predictions.columns if column not in ("unique_id", "ds", *SERIES_ID_COLUMNS)]
    predictions = predictions.rename(columns={{"ds": TIME_COLUMN}})
    return predictions[[*SERIES_ID_COLUMNS, TIME_COLUMN, *values]]
'''

_STATISTICAL_INTERVALS = "    has_intervals = True  # from each model's own error distribution\n"

_STATISTICAL_FIT = f"""\
{_STATISTICAL_INTERVALS}    if len(modelled):
        # Each series' model is fitted on its last HISTORY_LENGTH steps at most.
        recent = modelled.groupby("unique_id", sort=False).tail(HISTORY_LENGTH)
        forecaster.fit(recent[["unique_id", "ds", "y"]])"""

_STATISTICAL_FIT_ALL = f"""\
{_STATISTICAL_INTERVALS}    if len(modelled):
        forecaster.fit(modelled[["unique_id", "ds", "y"]])"""

_STATISTICAL_PREDICT = """\
    if history is not None:
        # Statistical models are local: each series' model is fitted again on the new history.
        length = history.groupby("unique_id", sort=False)["ds"].transform("size")
        recent = history[length >= MIN_TRAIN_LENGTH]{tail}
        recent = recent[["unique_id", "ds", "y"]]
        predictions = forecaster.forecast(df=recent, h=horizon, level=levels or None)
    elif model["short_series_means"].size == model["last_steps"].size:
        predictions = pd.DataFrame(columns=["unique_id", "ds"])
    else:
        predictions = forecaster.predict(h=horizon, level=levels or None)"""

_LEARNER_FIT = """\
    columns = ["unique_id", "ds", "y", *KNOWN_COVARIATES, *STATIC_FEATURES]{tail}
    # Conformal intervals come from HORIZON-step backtests inside the fit, which need two more horizons of history.
    enough = len(modelled) and modelled.groupby("unique_id")["ds"].size().min() >= MIN_TRAIN_LENGTH + 2 * HORIZON
    # The residuals' spread is kept too, so that a newer history's intervals scale with its own spread.
    intervals = PredictionIntervals(n_windows=2, h=HORIZON, scale_estimator="std")
    intervals = intervals if prediction_intervals and enough else None
    has_intervals = intervals is not None
    if prediction_intervals and not enough:
        logger.warning("some series are too short for conformal prediction intervals; forecasts have none")
    if len(modelled):
        # NOTE: static features reach the learner as pandas categories; LightGBM splits on them, while a
        # ridge learner cannot use text categories and its fit fails.
        forecaster.fit(
            modelled[columns].astype(dict.fromkeys(STATIC_FEATURES, "category")),
            static_features=STATIC_FEATURES,
            prediction_intervals=intervals,
        )"""

_LEARNER_PREDICT = """\
    new_df = None
    if history is not None:
        length = history.groupby("unique_id", sort=False)["ds"].transform("size")
        new_df = history[length >= MIN_TRAIN_LENGTH][["unique_id", "ds", "y", *KNOWN_COVARIATES, *STATIC_FEATURES]]
        new_df = new_df.astype(dict.fromkeys(STATIC_FEATURES, "category"))
    if KNOWN_COVARIATES and future is None:
        raise ValueError(
            f"the forecaster uses known covariates {KNOWN_COVARIATES!r}: give their values for the forecast steps "
            "(--future FILE in glassml forecast, --future-data FILE in script.py)"
        )
    x_df = future[["unique_id", "ds", *KNOWN_COVARIATES]] if KNOWN_COVARIATES else None
    fitted = history is None and model["short_series_means"].size < model["last_steps"].size
    if fitted or (new_df is not None and len(new_df)):
        with_levels = levels if levels and model["has_intervals"] else None
        # With a newer history, the training residuals are rescaled by the ratio of the histories' spreads.
        transfer = "scale_aligned" if new_df is not None and with_levels else None
        predictions = forecaster.predict(
            horizon, level=with_levels, new_df=new_df, X_df=x_df, transfer_conformal=transfer
        )
    else:
        predictions = pd.DataFrame(columns=["unique_id", "ds"])"""


_ENSEMBLE_AVERAGE = """\
    predictions = parts[0]
    for part in parts[1:]:
        predictions = predictions.merge(part, on=["unique_id", "ds"], how="outer")
    # The ensemble's forecast and bounds are the means of its members' (bounds where members have them).
    averaged = predictions[["unique_id", "ds"]].copy()
    averaged[MODEL_NAME] = predictions[[name for name in MEMBERS if name in predictions]].mean(axis=1)
    for level in levels:
        for side in ("lo", "hi"):
            bounds = [f"{name}-{side}-{level}" for name in MEMBERS if f"{name}-{side}-{level}" in predictions]
            averaged[f"{MODEL_NAME}-{side}-{level}"] = predictions[bounds].mean(axis=1) if bounds else np.nan
    predictions = averaged"""


def render_forecast_script(spec: ForecastSpec) -> RenderedScript:
    """Render the whole script.py of a forecasting trial."""
    imports = Imports()
    for line in (
        "from __future__ import annotations",
        "import argparse",
        "import json",
        "import logging",
        "from pathlib import Path",
        "import joblib",
        "import numpy as np",
        "import pandas as pd",
        "from threadpoolctl import threadpool_limits",
    ):
        imports.add_line(line)
    reader = render_reader(spec.read)
    for line in reader.imports:
        imports.add_line(line)

    parts = [reader.function, _GRID_FUNCTIONS.strip("\n")]
    if spec.algorithm.name == ENSEMBLE:
        fit, predict = _ensemble_parts(spec, imports, parts)
    else:
        fit, predict = _single_parts(spec, imports, parts)
    parts.append(_MODEL_FUNCTIONS.format(fit=fit, predict=predict).strip("\n"))
    parts.append(_main(spec))

    source = "\n".join(
        [
            _header(spec),
            "",
            imports.render(),
            "",
            'logger = logging.getLogger("script")',
            "",
            _constants(spec),
            "",
            reader.constants,
        ]
    ).rstrip("\n")
    functions = "\n\n\n".join(part.strip("\n") for part in parts if part.strip())
    source = source + "\n\n\n" + functions + '\n\n\nif __name__ == "__main__":\n    main()\n'
    return RenderedScript(source=source, modules=imports.top_level_modules)


def _learner_tail(params: dict, constant: str) -> str:
    if not params.get("history_length"):
        return ""
    return (
        f"\n    # The learner trains on the last {constant} steps of each series."
        f'\n    modelled = modelled.groupby("unique_id", sort=False).tail({constant})'
    )


def _single_parts(spec: ForecastSpec, imports: Imports, parts: list[str]) -> tuple[str, str]:
    """Add the configuration functions of one forecaster to `parts`; return its fit and forecast blocks."""
    forecaster = FORECASTERS[spec.algorithm.name]
    params = spec.algorithm.params
    forecaster_imports, forecaster_body = render_forecaster(spec.algorithm.name, params)
    for line in forecaster_imports:
        imports.add_line(line)
    if forecaster.library == "mlforecast":
        _add_feature_config(params, spec, imports, parts)
        fit, predict = _LEARNER_FIT.format(tail=_learner_tail(params, "HISTORY_LENGTH")), _LEARNER_PREDICT
    else:
        history = params.get("history_length")
        fit = _STATISTICAL_FIT if history else _STATISTICAL_FIT_ALL
        tail = '.groupby("unique_id", sort=False).tail(HISTORY_LENGTH)' if history else ""
        predict = _STATISTICAL_PREDICT.format(tail=tail)
    parts.append(
        "\n".join(
            [
                f"def generate_forecaster_config() -> {_FORECASTER_CLASS[forecaster.library]}:",
                f'    """Return the unfitted {forecaster.display_name} forecaster with every parameter written out."""',
                forecaster_body,
            ]
        )
    )
    return fit, predict


def _add_feature_config(params: dict, spec: ForecastSpec, imports: Imports, parts: list[str]) -> None:
    feature_imports, feature_function = render_feature_config(params, spec.series)
    for line in feature_imports:
        imports.add_line(line)
    imports.add_line("from mlforecast.utils import PredictionIntervals")
    parts.append(feature_function)


def _ensemble_parts(spec: ForecastSpec, imports: Imports, parts: list[str]) -> tuple[str, str]:
    """Add the members' configuration functions to `parts`; return the ensemble's fit and forecast blocks."""
    members = spec.algorithm.params["members"]
    learner = next((m for m in members if FORECASTERS[m["name"]].library == "mlforecast"), None)
    has_statistical = any(FORECASTERS[m["name"]].library == "statsforecast" for m in members)
    if learner is not None:
        _add_feature_config(learner["params"], spec, imports, parts)
    ensemble_imports, functions = render_ensemble(members)
    for line in ensemble_imports:
        imports.add_line(line)
    parts.append(functions)

    fit_blocks = ["    has_intervals = True"]
    predict_blocks = ["    parts = []"]
    if has_statistical:
        fit_blocks.append(
            _STATISTICAL_FIT.replace(_STATISTICAL_INTERVALS, "").replace(
                "forecaster.fit(", 'forecaster["statistical"].fit('
            )
        )
        statistical = _STATISTICAL_PREDICT.format(tail='.groupby("unique_id", sort=False).tail(HISTORY_LENGTH)')
        predict_blocks += [
            '    if "statistical" in forecaster:',
            textwrap.indent(statistical.replace("forecaster.", 'forecaster["statistical"].'), "    "),
            "        parts.append(predictions)",
        ]
    if learner is not None:
        learner_fit = _LEARNER_FIT.format(tail=_learner_tail(learner["params"], "LEARNER_HISTORY_LENGTH"))
        learner_fit = learner_fit.replace("forecaster.fit(", 'forecaster["learner"].fit(')
        fit_blocks.append(learner_fit)
        predict_blocks += [
            textwrap.indent(_LEARNER_PREDICT.replace("forecaster.predict(", 'forecaster["learner"].predict('), ""),
            "    parts.append(predictions)",
        ]
    predict_blocks.append(_ENSEMBLE_AVERAGE)
    return "\n".join(fit_blocks), "\n".join(predict_blocks)


def render_data_module(spec: ForecastSpec) -> str:
    """Return the source of the script's data part alone: constants, reading and the long table.

    glassml runs it to plan a run, so the lengths and grids it reports are the script's own.
    """
    reader = render_reader(spec.read)
    return "\n".join(
        [
            *reader.imports,
            "import numpy as np",
            "import pandas as pd",
            "",
            _constants(spec),
            reader.constants,
            "",
            reader.function,
            "",
            _GRID_FUNCTIONS,
        ]
    )


def _constants(spec: ForecastSpec) -> str:
    series: SeriesSpec = spec.series
    params = spec.algorithm.params
    lines = [
        f"SEED = {spec.seed}",
        f"N_THREADS = {spec.n_threads}",
        f"TARGET_COLUMN = {lit.literal(spec.target.column)}",
        f"TIME_COLUMN = {lit.literal(series.time_column)}",
        lit.collection(series.series_id, "SERIES_ID_COLUMNS = "),
        "# Columns whose values are known in advance; forecasting needs them for the forecast steps.",
        lit.collection(series.known_covariates, "KNOWN_COVARIATES = "),
        "# Columns that are constant within each series.",
        lit.collection(series.static_features, "STATIC_FEATURES = "),
        f"FREQ = {lit.literal(series.freq)}",
        f"SEASON_LENGTH = {series.season_length}",
        f"HORIZON = {series.horizon}",
        f"LEVELS = {lit.literal([int(level) for level in series.levels])}",
        "# How rows of one series at the same time step are combined; None makes them an error.",
        f"AGGREGATE = {lit.literal(series.aggregate)}",
        "# Series with fewer steps are not modelled: they are forecast by the mean of their values.",
        f"MIN_TRAIN_LENGTH = {series.min_train_length}",
        "# The backtest: N_WINDOWS windows of HORIZON steps, their ends STEP_SIZE steps apart.",
        f"N_WINDOWS = {series.n_windows}",
        f"STEP_SIZE = {series.step_size}",
        f"METRIC_NAMES = {lit.literal(_metric_order(spec.metric))}",
        f"MODEL_NAME = {lit.literal(spec.algorithm.name)}",
    ]
    if spec.algorithm.name == ENSEMBLE:
        members = params["members"]
        lines.append(lit.collection([member["name"] for member in members], "MEMBERS = "))
        if any(FORECASTERS[member["name"]].library == "statsforecast" for member in members):
            lines.append(f"HISTORY_LENGTH = {spec.series.statistical_history}")
        for member in members:
            history = member["params"].get("history_length")
            if history and FORECASTERS[member["name"]].library == "mlforecast":
                lines.append(f"LEARNER_HISTORY_LENGTH = {int(history)}")
    elif params.get("history_length"):
        lines.append(f"HISTORY_LENGTH = {int(params['history_length'])}")
    return "\n".join(lines)


def display_name(spec: ForecastSpec) -> str:
    """Return how the header and the notebook name the trial's forecaster."""
    if spec.algorithm.name != ENSEMBLE:
        return FORECASTERS[spec.algorithm.name].display_name
    names = [FORECASTERS[member["name"]].display_name for member in spec.algorithm.params["members"]]
    return "mean of " + ", ".join(names[:-1]) + " and " + names[-1]


def _metric_order(primary: str) -> list[str]:
    return [primary, *[name for name in METRIC_NAMES if name != primary]]


def _header(spec: ForecastSpec) -> str:
    series = spec.series
    data_name = lit.comment_text(spec.data.path.replace("\\", "/").rsplit("/", 1)[-1], max_length=60)
    experiment = lit.comment_text(spec.experiment, max_length=60)
    display = display_name(spec)
    about = (
        f"Trial {spec.trial_number} of experiment {experiment}. Written by glassml {spec.glassml_version} for "
        f"Python {spec.python_version} from the trial's spec. The search scored this trial by running this "
        f"file's evaluate_model() (a rolling-origin backtest of {series.n_windows} windows of {series.horizon} "
        f"steps); its score and rank are on the leaderboard. The training data the search read had "
        f"{spec.data.rows} rows and {spec.data.columns} columns (sha256 {spec.data.sha256[:16]}...)."
    )
    usage = (
        "Training prints the backtest metrics as JSON and writes outputs/metrics.json and outputs/model.pkl. "
        "With --model, it writes the forecast of the next HORIZON steps of every series to "
        "outputs/forecast.parquet. Change any value below and run it again to retrain."
    )
    lines = [
        f'"""Train the forecaster of run {spec.run_id}: {display}, {series.horizon} steps ahead.',
        "",
        *textwrap.wrap(about, width=100),
        "",
        "Run it with only the packages in requirements.txt installed:",
        "",
        f"    python script.py --training-data {data_name} --output-dir outputs",
        f"    python script.py --training-data {data_name} --refit-only",
        f"    python script.py --model outputs/model.pkl --history-data {data_name}",
        "",
        *textwrap.wrap(usage, width=100),
        '"""',
    ]
    return "\n".join(lines)


def _main(spec: ForecastSpec) -> str:
    data_help = "CSV or Parquet file with the training table" if spec.read.format == "csv" else "Parquet file"
    return f'''def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training-data", help="{data_help}")
    parser.add_argument("--output-dir", default="outputs", help="folder for model.pkl, metrics.json and forecasts")
    parser.add_argument("--refit-only", action="store_true", help="train the final model without the backtest")
    parser.add_argument("--model", help="model.pkl to forecast with, instead of training")
    parser.add_argument("--history-data", help="recent history to forecast from (default: the model's own)")
    parser.add_argument("--future-data", help="known covariates of the forecast steps")
    parser.add_argument("--level", type=int, nargs="*", default=LEVELS, help="prediction interval levels")
    args = parser.parse_args()
    if not args.model and not args.training_data:
        parser.error("--training-data is required to train (or give --model to forecast)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    with threadpool_limits(N_THREADS):
        if args.model:
            history = read_table(args.history_data) if args.history_data else None
            future = read_table(args.future_data) if args.future_data else None
            predictions = predict(joblib.load(args.model), history, future, levels=args.level)
            predictions.to_parquet(output_dir / "forecast.parquet")
            return

        data = prepare_data(get_training_dataset(args.training_data))
        logger.info("training data: %d series, %d steps", data["unique_id"].nunique(), len(data))
        if not args.refit_only:
            scores = evaluate_model(data)
            (output_dir / "metrics.json").write_text(json.dumps(scores, indent=2))
            print(json.dumps(scores))

        # The search refit the chosen configuration on every series.
        model = train_model(data)
        joblib.dump(model, output_dir / "model.pkl")'''
