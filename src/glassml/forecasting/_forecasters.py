"""The forecasters the search tries: statsforecast models and mlforecast learners on lag features.

Each forecaster has its portfolio configurations, an Optuna search space and the source text of its
configuration in `script.py`. Parameters are plain JSON values, so a spec renders the same code
every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import optuna

from glassml.codegen import _literals as lit
from glassml.spec import SeriesSpec

# AutoETS and AutoCES accept seasons up to this length; longer seasons are left to MSTL and learners.
MAX_ETS_SEASON = 24

# Calendar features that mlforecast computes from the time column, per frequency family.
DATE_FEATURES = {
    "h": ["hour", "dayofweek"],
    "min": ["hour", "minute"],
    "D": ["dayofweek", "month", "dayofyear"],
    "B": ["dayofweek", "month"],
    "W": ["week", "month"],
    "M": ["month"],
    "Q": ["quarter"],
    "Y": [],
}


@dataclass(frozen=True)
class Forecaster:
    """A forecaster by registry name: where it comes from, its search space and its first configurations.

    `suggest` turns an Optuna trial into the forecaster's parameters. `portfolio` lists the trial
    values (the names `suggest` requests) of the configurations to try first.
    """

    name: str
    display_name: str
    library: Literal["statsforecast", "mlforecast"]
    suggest: Callable[[optuna.Trial, SeriesSpec], dict[str, Any]]
    portfolio: Callable[[SeriesSpec], list[dict[str, Any]]] = lambda series: [{}]
    # Whether the forecaster needs a season longer than one step.
    seasonal: bool = False

    def applies(self, series: SeriesSpec) -> bool:
        return not self.seasonal or series.season_length > 1


def frequency_family(freq: str) -> str:
    """Return the family of a pandas frequency alias: h, min, D, B, W, M, Q or Y."""
    base = freq.split("-")[0].lstrip("0123456789")
    for family, prefixes in (
        ("min", ("min", "T")),
        ("h", ("h", "H", "bh", "BH")),
        ("B", ("B", "C")),
        ("D", ("D",)),
        ("W", ("W",)),
        ("M", ("MS", "ME", "M", "BMS", "BME", "BM", "SMS", "SME", "SM")),
        ("Q", ("QS", "QE", "Q", "BQS", "BQE", "BQ")),
        ("Y", ("YS", "YE", "Y", "AS", "A", "BYS", "BYE", "BA", "BAS")),
    ):
        if base in prefixes:
            return family
    return "D"


def _ets_season(series: SeriesSpec) -> int:
    return series.season_length if series.season_length <= MAX_ETS_SEASON else 1


def _lag_sets(series: SeriesSpec) -> dict[str, list[int]]:
    """Named lag sets that the learners choose among, all within the shortest modelled history."""
    m = series.season_length
    limit = max(series.min_train_length - 1, 1)
    recent = list(range(1, min(max(m, 4), 14, limit) + 1))
    sets = {"recent": recent}
    if 1 < m <= limit:
        seasonal = {1, 2, 3, m} | ({2 * m} if 2 * m <= limit else set())
        sets["seasonal"] = sorted(lag for lag in seasonal if lag <= limit)
        sets["recent_seasonal"] = sorted(set(recent) | {m})
    return sets


def _transforms(series: SeriesSpec) -> list[str]:
    names = ["none", "difference", "scale", "difference_scale"]
    if series.season_length > 1:
        names.append("seasonal_difference")
    return names


def _rolling(series: SeriesSpec) -> list[int]:
    m = series.season_length
    window = m if m > 1 else 4
    return [window] if window < series.min_train_length else []


def _default_features(series: SeriesSpec, prefix: str = "") -> dict[str, Any]:
    lag_set = "recent_seasonal" if "recent_seasonal" in _lag_sets(series) else "recent"
    transform = "seasonal_difference" if series.season_length > 1 else "difference"
    return {f"{prefix}lag_set": lag_set, f"{prefix}target_transform": transform}


def _features(trial: optuna.Trial, series: SeriesSpec, prefix: str, date_features: bool) -> dict[str, Any]:
    lag_set = trial.suggest_categorical(f"{prefix}lag_set", sorted(_lag_sets(series)))
    history = {} if series.learner_history is None else {"history_length": series.learner_history}
    return history | {
        "lags": _lag_sets(series)[lag_set],
        "rolling_windows": _rolling(series),
        "date_features": date_features and bool(DATE_FEATURES[frequency_family(series.freq)]),
        "target_transform": trial.suggest_categorical(f"{prefix}target_transform", _transforms(series)),
    }


def _suggest_lightgbm(trial: optuna.Trial, series: SeriesSpec) -> dict[str, Any]:
    features = _features(trial, series, "", trial.suggest_categorical("date_features", [True, False]))
    return features | {
        "n_estimators": trial.suggest_int("n_estimators", 50, 600, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 128, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
    }


def _lightgbm_portfolio(series: SeriesSpec) -> list[dict[str, Any]]:
    model = {"date_features": True, "n_estimators": 300, "learning_rate": 0.05, "num_leaves": 31}
    model["min_child_samples"] = 20
    return [_default_features(series) | model, _default_features(series) | model | {"target_transform": "scale"}]


def _suggest_linear(trial: optuna.Trial, series: SeriesSpec) -> dict[str, Any]:
    features = _features(trial, series, "linear_", False)
    return features | {"alpha": trial.suggest_float("alpha", 1e-3, 100.0, log=True)}


def _suggest_ets(trial: optuna.Trial, series: SeriesSpec) -> dict[str, Any]:
    seasonal = _ets_season(series) > 1
    model = trial.suggest_categorical("ets_model", ["ZZZ", "ZZN", "AZA", "MZM"]) if seasonal else "ZZN"
    params: dict[str, Any] = {"model": model}
    if trial.suggest_categorical("ets_damped", ["searched", "no"]) == "no":
        params["damped"] = False  # half the candidate models: the fit takes about half the time
    return params | {"history_length": series.statistical_history}


def _ets_portfolio(series: SeriesSpec) -> list[dict[str, Any]]:
    values = {"ets_model": "ZZZ"} if _ets_season(series) > 1 else {}
    return [values | {"ets_damped": "no" if series.n_series > PANEL_SERIES else "searched"}]


def _suggest_theta(trial: optuna.Trial, series: SeriesSpec) -> dict[str, Any]:
    decomposition = trial.suggest_categorical("theta_decomposition", ["multiplicative", "additive"])
    return {"decomposition_type": decomposition, "history_length": series.statistical_history}


def _history(trial: optuna.Trial, series: SeriesSpec) -> dict[str, Any]:
    return {"history_length": series.statistical_history}


FORECASTERS: dict[str, Forecaster] = {
    forecaster.name: forecaster
    for forecaster in (
        Forecaster("naive", "Naive", "statsforecast", lambda trial, series: {}),
        Forecaster("seasonal_naive", "SeasonalNaive", "statsforecast", lambda trial, series: {}, seasonal=True),
        Forecaster(
            "auto_ets",
            "AutoETS",
            "statsforecast",
            _suggest_ets,
            _ets_portfolio,
        ),
        Forecaster(
            "auto_theta",
            "AutoTheta",
            "statsforecast",
            _suggest_theta,
            lambda series: [{"theta_decomposition": "multiplicative"}],
        ),
        Forecaster(
            "auto_ces", "AutoCES", "statsforecast", lambda trial, series: {"model": "Z"} | _history(trial, series)
        ),
        Forecaster(
            "auto_arima",
            "AutoARIMA",
            "statsforecast",
            _history,
        ),
        Forecaster("mstl", "MSTL", "statsforecast", _history, seasonal=True),
        Forecaster("lightgbm", "LightGBM on lags", "mlforecast", _suggest_lightgbm, _lightgbm_portfolio),
        Forecaster(
            "linear",
            "Ridge on lags",
            "mlforecast",
            _suggest_linear,
            lambda series: [_default_features(series, "linear_") | {"alpha": 1.0}],
        ),
    )
}

# Above this many series, the first trials favour global learners and fast statistical models.
PANEL_SERIES = 10

# The order of the first trials: fast baselines, then the learners, then the slower statistical models.
PORTFOLIO_ORDER = (
    "seasonal_naive",
    "naive",
    "auto_ets",
    "lightgbm",
    "auto_theta",
    "linear",
    "auto_ces",
    "mstl",
    "auto_arima",
)
# The same for panels of many series.
PANEL_ORDER = (
    "seasonal_naive",
    "naive",
    "lightgbm",
    "auto_theta",
    "linear",
    "auto_ces",
    "mstl",
    "auto_ets",
    "auto_arima",
)


def resolve_forecasters(allowed: list[str] | None, blocked: list[str] | None, series: SeriesSpec) -> list[Forecaster]:
    """Return the forecasters to search, in portfolio order, after the allow and block lists."""
    from glassml.errors import UserInputError

    for name in [*(allowed or []), *(blocked or [])]:
        if name not in FORECASTERS:
            raise UserInputError(f"forecaster {name!r} is not known; choose among {', '.join(sorted(FORECASTERS))}")
    order = PORTFOLIO_ORDER
    if series.n_series > PANEL_SERIES:
        # Many series: global learners and the fast statistical models before one AutoETS per series.
        order = PANEL_ORDER
    chosen = [
        FORECASTERS[name] for name in order if (allowed is None or name in allowed) and name not in (blocked or [])
    ]
    if allowed is None and series.n_series > PANEL_SERIES:
        # AutoARIMA takes minutes on a few dozen series; it is searched there only when allowed by name.
        chosen = [forecaster for forecaster in chosen if forecaster.name != "auto_arima"]
    usable = [forecaster for forecaster in chosen if forecaster.applies(series)]
    if not usable:
        raise UserInputError(
            "no forecaster is left to search: the seasonal ones need a season longer than one step; "
            "allow naive, auto_ets, lightgbm or linear"
        )
    return usable


ENSEMBLE = "ensemble"


def render_forecaster(name: str, params: dict[str, Any]) -> tuple[list[str], str]:
    """Return the import lines and the body of `generate_forecaster_config()` for a configuration."""
    if FORECASTERS[name].library == "statsforecast":
        return _render_statistical(name, params)
    return _render_learner(name, params)


_STATISTICAL_CLASSES = {
    "naive": "Naive",
    "seasonal_naive": "SeasonalNaive",
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "auto_ces": "AutoCES",
    "auto_arima": "AutoARIMA",
    "mstl": "MSTL",
}


def statistical_model(name: str, params: dict[str, Any], alias: str) -> tuple[set[str], dict[str, str]]:
    """Return the statsforecast classes a model needs and its constructor arguments as source."""
    imports = {_STATISTICAL_CLASSES[name]}
    arguments: dict[str, str] = {}
    if name in ("seasonal_naive", "auto_theta", "auto_arima", "mstl"):
        arguments["season_length"] = "SEASON_LENGTH"
    if name in ("auto_ets", "auto_ces"):
        arguments["season_length"] = "SEASON_LENGTH" if _season_fits_ets(params) else "1"
    for key in ("model", "damped", "decomposition_type"):
        if key in params:
            arguments[key] = lit.literal(params[key])
    if name == "mstl":
        imports.add("AutoETS")
        arguments["trend_forecaster"] = 'AutoETS(model="ZZN")'
    arguments["alias"] = alias
    return imports, arguments


def _render_statistical(name: str, params: dict[str, Any]) -> tuple[list[str], str]:
    imports, arguments = statistical_model(name, params, "MODEL_NAME")
    lines = [
        lit.call(_STATISTICAL_CLASSES[name], arguments, prefix="model = ", indent=1),
        "    # A series on which the model fails to fit is forecast by the last value instead.",
        "    return StatsForecast(models=[model], freq=FREQ, n_jobs=1, fallback_model=Naive(alias=MODEL_NAME))",
    ]
    import_lines = [
        "from statsforecast import StatsForecast",
        f"from statsforecast.models import {', '.join(sorted(imports | {'Naive'}))}",
    ]
    return import_lines, "\n".join(lines)


def render_ensemble(members: list[dict[str, Any]]) -> tuple[list[str], str]:
    """Return the import lines and the functions that build an ensemble's statistical models and learner.

    The statistical members share one `StatsForecast`; at most one member is a learner.
    """
    statistical = [member for member in members if FORECASTERS[member["name"]].library == "statsforecast"]
    learners = [member for member in members if FORECASTERS[member["name"]].library == "mlforecast"]
    import_lines: list[str] = []
    functions = []
    if statistical:
        classes: set[str] = set()
        lines = [
            "def generate_statistical_config() -> StatsForecast:",
            '    """Return the unfitted statistical members, one column of forecasts each."""',
            "    models = [",
        ]
        for member in statistical:
            imports, arguments = statistical_model(member["name"], member["params"], lit.literal(member["name"]))
            classes |= imports
            lines.append(lit.call(_STATISTICAL_CLASSES[member["name"]], arguments, suffix=",", indent=2))
        lines += [
            "    ]",
            "    # A series on which a model fails to fit is forecast by the last value instead.",
            "    return StatsForecast(models=models, freq=FREQ, n_jobs=1, fallback_model=Naive())",
        ]
        import_lines += [
            "from statsforecast import StatsForecast",
            f"from statsforecast.models import {', '.join(sorted(classes | {'Naive'}))}",
        ]
        functions.append("\n".join(lines))
    if learners:
        learner = learners[0]
        imports, body = _render_learner(learner["name"], learner["params"])
        import_lines += imports
        body = body.replace("{MODEL_NAME: model}", f"{{{lit.literal(learner['name'])}: model}}")
        functions.append(
            "\n".join(
                [
                    "def generate_learner_config() -> MLForecast:",
                    f'    """Return the unfitted {FORECASTERS[learner["name"]].display_name} member."""',
                    body,
                ]
            )
        )
    parts = []
    if statistical:
        parts.append('"statistical": generate_statistical_config()')
    if learners:
        parts.append('"learner": generate_learner_config()')
    functions.append(
        "\n".join(
            [
                "def generate_forecaster_config() -> dict:",
                '    """Return the unfitted members of the ensemble, whose forecasts are averaged."""',
                "    return {" + ", ".join(parts) + "}",
            ]
        )
    )
    return import_lines, "\n\n\n".join(functions)


def _season_fits_ets(params: dict[str, Any]) -> bool:
    return str(params.get("model", "ZZZ"))[-1:] != "N"


def _render_learner(name: str, params: dict[str, Any]) -> tuple[list[str], str]:
    if name == "lightgbm":
        estimator = lit.call(
            "lgb.LGBMRegressor",
            {
                "n_estimators": lit.literal(params["n_estimators"]),
                "learning_rate": lit.literal(params["learning_rate"]),
                "num_leaves": lit.literal(params["num_leaves"]),
                "min_child_samples": lit.literal(params["min_child_samples"]),
                "random_state": "SEED",
                "n_jobs": "N_THREADS",
                "verbosity": "-1",
            },
            prefix="model = ",
            indent=1,
        )
        imports = ["import lightgbm as lgb"]
    else:
        estimator = lit.call("Ridge", {"alpha": lit.literal(params["alpha"])}, prefix="model = ", indent=1)
        imports = ["from sklearn.linear_model import Ridge"]
    lines = [
        estimator,
        "    return MLForecast(models={MODEL_NAME: model}, freq=FREQ, num_threads=1, **generate_feature_config())",
    ]
    return [*imports, "from mlforecast import MLForecast"], "\n".join(lines)


def render_feature_config(params: dict[str, Any], series: SeriesSpec) -> tuple[list[str], str]:
    """Return the import lines and the function `generate_feature_config()` of a learner's configuration."""
    imports: list[str] = []
    lag_transforms = "{}"
    if params["rolling_windows"]:
        imports.append("from mlforecast.lag_transforms import RollingMean")
        means = ", ".join(f"RollingMean(window_size={int(window)})" for window in params["rolling_windows"])
        lag_transforms = f"{{1: [{means}]}}"
    date_features = DATE_FEATURES[frequency_family(series.freq)] if params["date_features"] else []
    transform = params["target_transform"]
    transforms = {
        "none": "[]",
        "difference": "[Differences([1])]",
        "seasonal_difference": "[Differences([SEASON_LENGTH])]",
        "scale": "[LocalStandardScaler()]",
        "difference_scale": "[Differences([1]), LocalStandardScaler()]",
    }[transform]
    names = [name for name in ("Differences", "LocalStandardScaler") if name in transforms]
    if names:
        imports.append(f"from mlforecast.target_transforms import {', '.join(names)}")
    comment = {
        "none": "The learner predicts the target itself.",
        "difference": "The learner predicts the change from the previous step.",
        "seasonal_difference": "The learner predicts the change from one season before.",
        "scale": "Each series is standardized by its own mean and deviation before the learner sees it.",
        "difference_scale": "The learner predicts standardized changes from the previous step.",
    }[transform]
    lines = [
        "def generate_feature_config() -> dict:",
        '    """Return the features the learner sees: lags of the target, rolling means and calendar parts."""',
        "    return {",
        f'        "lags": {lit.literal([int(lag) for lag in params["lags"]])},',
        f'        "lag_transforms": {lag_transforms},',
        f'        "date_features": {lit.literal(date_features)},',
        f"        # {comment}",
        f'        "target_transforms": {transforms},',
        "    }",
    ]
    return imports, "\n".join(lines)
