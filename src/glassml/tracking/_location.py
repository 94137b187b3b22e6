"""Resolve where runs are recorded: an MLflow tracking URI and, for the default store, its folders."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STORE_DIR = "glassml-runs"
DATABASE_FILE = "mlflow.db"
ARTIFACTS_DIR = "artifacts"

# Loggers that print INFO lines while MLflow creates and migrates a new SQLite database.
_STORE_SETUP_LOGGERS = ("mlflow.store.db.utils", "alembic")


@dataclass(frozen=True)
class TrackingLocation:
    """An MLflow tracking URI and the artifact location that new experiments get.

    `artifact_location` is None when the tracking server or MLflow's store decides it, which is
    the case for every URI except glassml's default store.
    """

    tracking_uri: str
    artifact_location: str | None = None


def resolve_tracking_location(tracking_uri: str | None, store_dir: str | Path) -> TrackingLocation:
    """Choose the tracking location: `tracking_uri`, else `MLFLOW_TRACKING_URI`, else the default store.

    The default store is a SQLite database and an artifact folder inside `store_dir`, resolved
    against the current working directory and created when missing.
    """
    if tracking_uri is not None:
        if not isinstance(tracking_uri, str) or not tracking_uri.strip():
            raise ValueError(f"tracking_uri must be a non-empty MLflow tracking URI or None, got {tracking_uri!r}")
        return TrackingLocation(tracking_uri.strip())

    environment_uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if environment_uri:
        return TrackingLocation(environment_uri)

    return _default_store(Path(store_dir))


def _default_store(store_dir: Path) -> TrackingLocation:
    store_dir = store_dir.expanduser().resolve()
    artifacts_dir = store_dir / ARTIFACTS_DIR
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    _quiet_store_setup_loggers()
    # Four slashes in total: "sqlite:///" followed by an absolute POSIX path.
    database_uri = f"sqlite:///{(store_dir / DATABASE_FILE).as_posix()}"
    return TrackingLocation(database_uri, artifacts_dir.as_uri())


def _quiet_store_setup_loggers() -> None:
    # Only loggers without a level of their own are changed, so an explicit DEBUG setting still wins.
    for name in _STORE_SETUP_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
