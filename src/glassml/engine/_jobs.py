"""Jobs that worker processes run: score and refit a candidate through its rendered script.

Each job loads the trial's script.py as a module and calls its own functions
(`get_training_dataset`, `prepare_data`, `evaluate_model`, `train_model`), so the score and the
model come from the code the user downloads.
"""

from __future__ import annotations

import logging
import time
import types
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from threadpoolctl import threadpool_limits

# Prepared training data per worker process, keyed by the run's data key: every trial of a run
# renders the same reading and preparation code, so a worker runs it once per run.
_PREPARED: dict[str, tuple[Any, Any, Any]] = {}
_VALIDATION: dict[str, tuple[Any, Any, Any]] = {}


def load_script(source: str, name: str) -> types.ModuleType:
    """Execute a script's source as a new module named `name` and return the module."""
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    code = compile(source, f"<{name}/script.py>", "exec")
    exec(code, module.__dict__)  # noqa: S102 - the source is glassml's own rendering of a spec
    return module


def _prepared(module: types.ModuleType, payload: dict[str, Any]) -> tuple[Any, Any, Any]:
    key = payload["data_key"]
    if key not in _PREPARED:
        _PREPARED.clear()
        _PREPARED[key] = module.prepare_data(module.get_training_dataset(payload["data_path"]))
    return _PREPARED[key]


def _validation(module: types.ModuleType, payload: dict[str, Any]) -> tuple[Any, Any, Any]:
    key = payload["data_key"]
    if key not in _VALIDATION:
        _VALIDATION.clear()
        _VALIDATION[key] = module.prepare_data(module.read_table(payload["validation_path"]))
    return _VALIDATION[key]


def _silence_script_logging() -> None:
    # Scripts log to "script"; in a worker those lines would reach the terminal through Python's
    # last-resort handler. Errors reach the parent as the job's result instead.
    script_logger = logging.getLogger("script")
    if script_logger.propagate:
        script_logger.addHandler(logging.NullHandler())
        script_logger.propagate = False


def evaluate(payload: dict[str, Any]) -> dict[str, Any]:
    """Score one candidate with its script's `evaluate_model` and return the metrics.

    With ``payload["rounds_param"]`` set, early stopping first chooses the number of boosting
    rounds, and the script is rendered again with that value before it is scored. The result then
    carries the new ``spec`` and ``source``.
    """
    _silence_script_logging()
    module = load_script(payload["source"], payload["name"])
    X, y, sample_weights = _prepared(module, payload)
    validation = _validation(module, payload) if payload.get("validation_path") else None
    result: dict[str, Any] = {}
    started = time.perf_counter()
    with threadpool_limits(payload["n_threads"]), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        if payload.get("rounds_param"):
            module, result = _choose_rounds(module, payload, X, y, sample_weights, validation)
        if validation is not None:
            scores = module.evaluate_model(X, y, sample_weights, validation)
        else:
            scores = module.evaluate_model(X, y, sample_weights)
    return result | {"metrics": scores, "fit_seconds": time.perf_counter() - started}


def _choose_rounds(
    module: types.ModuleType,
    payload: dict[str, Any],
    X: Any,
    y: Any,
    sample_weights: Any,
    validation: tuple[Any, Any, Any] | None,
) -> tuple[types.ModuleType, dict[str, Any]]:
    from glassml.codegen import render_script
    from glassml.engine._rounds import choose_rounds
    from glassml.spec import TrialSpec

    started = time.perf_counter()
    spec = TrialSpec.from_dict(payload["spec"])
    spec = choose_rounds(module, spec, payload["rounds_param"], X, y, sample_weights, validation)
    source = render_script(spec).source
    result = {"spec": spec.to_dict(), "source": source, "rounds_seconds": time.perf_counter() - started}
    return load_script(source, payload["name"]), result


def refit(payload: dict[str, Any]) -> dict[str, Any]:
    """Train the final model with the script's `train_model` on every training row and save it."""
    _silence_script_logging()
    module = load_script(payload["source"], payload["name"])
    X, y, sample_weights = _prepared(module, payload)
    started = time.perf_counter()
    with threadpool_limits(payload["n_threads"]), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        model = module.train_model(X, y, sample_weights)
    fit_seconds = time.perf_counter() - started
    model_path = Path(payload["model_path"])
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)
    result: dict[str, Any] = {"fit_seconds": fit_seconds, "model_path": str(model_path)}
    if payload.get("test_path"):
        with threadpool_limits(payload["n_threads"]):
            X_test, y_test, test_weights = module.prepare_data(module.read_table(payload["test_path"]))
            result["test_metrics"] = score_model(module, model, X_test, y_test, test_weights)
    return result


def score_model(module: types.ModuleType, model: Any, X: Any, y: Any, sample_weights: Any) -> dict[str, float]:
    """Score a fitted model on prepared rows with the script's `calculate_metrics`."""
    if hasattr(model, "predict_proba"):
        predictions = np.zeros((len(X), len(module.CLASS_LABELS)))
        predictions[:, model.classes_] = model.predict_proba(X)
    else:
        predictions = model.predict(X)
    return module.calculate_metrics(y, predictions, sample_weights)
