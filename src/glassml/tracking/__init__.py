"""Experiments, parent and child runs, and artifacts in an MLflow tracking store.

The default store is `./glassml-runs/mlflow.db` (SQLite) with the artifact folder
`./glassml-runs/artifacts/`. A tracking URI or the `MLFLOW_TRACKING_URI` environment variable
points to any other MLflow store or server.
"""

from __future__ import annotations

from glassml.tracking._location import TrackingLocation, resolve_tracking_location
from glassml.tracking._store import PARENT_RUN_TAG, RunStatus, Tracker

__all__ = ["PARENT_RUN_TAG", "RunStatus", "Tracker", "TrackingLocation", "resolve_tracking_location"]
