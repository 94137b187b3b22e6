"""The engine: one training run, reopening recorded runs, and verifying their scripts.

Names are imported on first use: worker processes import only `glassml.engine._jobs` and must not
pay for MLflow and Optuna.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DataPlan": "_train",
    "Events": "_events",
    "TrainResult": "_train",
    "TrainSettings": "_settings",
    "TrialRecord": "_search",
    "TrialRun": "_runs",
    "VerifyReport": "_verify",
    "leaderboard": "_runs",
    "parse_column_purposes": "_settings",
    "parse_duration": "_settings",
    "parse_validation": "_settings",
    "process_start_time": "_budget",
    "train": "_train",
    "verify": "_verify",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"glassml.engine.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'glassml.engine' has no attribute {name!r}")
