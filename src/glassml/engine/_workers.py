"""The worker pool of a train run, startable before the rest of the engine is imported.

Importing the engine (MLflow, scikit-learn metrics, Optuna) takes seconds, and so does starting a
worker. The command line starts the pool first, so that both happen at the same time.
"""

from __future__ import annotations

from glassml.execution import WorkerPool

# Modules each worker imports while the parent reads and profiles the data.
WORKER_PRELOAD = (
    "glassml.engine._jobs",
    "glassml.engine._rounds",
    "glassml.codegen._script",
    "pandas",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "lightgbm",
    "xgboost",
    "catboost",
)

# The same for forecasting runs.
FORECAST_PRELOAD = (
    "glassml.forecasting._jobs",
    "pandas",
    "statsforecast",
    "statsforecast.models",
    "mlforecast",
    "lightgbm",
    "sklearn.linear_model",
)


def start_worker_pool(
    n_workers: int, n_threads: int = 1, memory_limit_mb: int | None = None, *, forecasting: bool = False
) -> WorkerPool:
    """Start the worker processes of a train run; they import the task's modules in the background."""
    return WorkerPool(
        n_workers=n_workers,
        n_threads=n_threads,
        memory_limit_mb=memory_limit_mb,
        preload=FORECAST_PRELOAD if forecasting else WORKER_PRELOAD,
    )
