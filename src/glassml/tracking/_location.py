"""Resolve where runs are recorded: an MLflow tracking URI and, for the default store, its folders."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

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
    database = store_dir / DATABASE_FILE
    if not database.exists():
        _copy_empty_database(database, artifacts_dir)
    # Four slashes in total: "sqlite:///" followed by an absolute POSIX path.
    database_uri = f"sqlite:///{database.as_posix()}"
    return TrackingLocation(database_uri, artifacts_dir.as_uri())


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glassml"


def _copy_empty_database(database: Path, artifacts_dir: Path) -> None:
    """Create `database` as a copy of an empty MLflow database kept in the user's cache.

    MLflow creates a new SQLite store by running its schema migrations, which took 1 to 2 s with
    MLflow 3.17 on a 2-core machine. Reopening a migrated store took about 0.03 s. The cached
    copy is made once per MLflow version. Its only row that names a path, the artifact location
    of MLflow's "Default" experiment, is rewritten for the new store. When anything fails, MLflow
    creates the store itself.
    """
    try:
        import mlflow

        template = _cache_dir() / f"mlflow-{mlflow.__version__}-empty.db"
        if not template.exists():
            _create_empty_database(template)
        staged = database.with_name(f".{database.name}.{os.getpid()}.tmp")
        shutil.copyfile(template, staged)
        with contextlib.closing(sqlite3.connect(staged)) as connection, connection:
            default_location = f"{artifacts_dir.as_uri()}/0"
            connection.execute(
                "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0", (default_location,)
            )
        try:
            os.link(staged, database)  # fails when another process created the store meanwhile
        finally:
            staged.unlink()
    except (OSError, sqlite3.Error, ImportError) as error:
        logger.debug("copying an empty MLflow database failed, MLflow creates %s itself: %s", database, error)


def _create_empty_database(template: Path) -> None:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=template.parent) as scratch:
        created = Path(scratch) / "mlflow.db"
        store = SqlAlchemyStore(f"sqlite:///{created.as_posix()}", (Path(scratch) / "artifacts").as_uri())
        store.engine.dispose()
        os.replace(created, template)


def _quiet_store_setup_loggers() -> None:
    # Only loggers without a level of their own are changed, so an explicit DEBUG setting still wins.
    for name in _STORE_SETUP_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
