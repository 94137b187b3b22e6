"""Jobs that worker processes run for forecasting trials: backtest and refit through the rendered script.

Each job loads the trial's script.py as a module and calls its own functions (`get_training_dataset`,
`prepare_data`, `evaluate_model`, `train_model`), so the score and the model come from the code the
user downloads.
"""

from __future__ import annotations

import time
import types
import warnings
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from threadpoolctl import threadpool_limits

from glassml.engine._jobs import _silence_script_logging, load_script

# The prepared long table per worker process, keyed by the run's data key: every trial of a run renders
# the same reading and preparation code, so a worker runs it once per run.
_PREPARED: dict[str, pd.DataFrame] = {}


def _prepared(module: types.ModuleType, payload: dict[str, Any]) -> pd.DataFrame:
    key = payload["data_key"]
    if key not in _PREPARED:
        _PREPARED.clear()
        _PREPARED[key] = module.prepare_data(module.get_training_dataset(payload["data_path"]))
    return _PREPARED[key]


def evaluate(payload: dict[str, Any]) -> dict[str, Any]:
    """Backtest one forecaster with its script's `evaluate_model` and return the metrics."""
    _silence_script_logging()
    module = load_script(payload["source"], payload["name"])
    data = _prepared(module, payload)
    started = time.perf_counter()
    with threadpool_limits(payload["n_threads"]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = module.evaluate_model(data)
    return {"metrics": scores, "fit_seconds": time.perf_counter() - started}


def refit(payload: dict[str, Any]) -> dict[str, Any]:
    """Train the final forecaster with the script's `train_model` on every series and save it."""
    _silence_script_logging()
    module = load_script(payload["source"], payload["name"])
    data = _prepared(module, payload)
    started = time.perf_counter()
    with threadpool_limits(payload["n_threads"]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = module.train_model(data)
    fit_seconds = time.perf_counter() - started
    model_path = Path(payload["model_path"])
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)
    return {"fit_seconds": fit_seconds, "model_path": str(model_path)}
