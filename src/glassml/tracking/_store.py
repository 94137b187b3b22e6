"""Record experiments, runs, parameters, metrics and artifacts through MLflow's `MlflowClient`.

Only the parent process of a `glassml train` writes here, so a SQLite store has a single writer.
Autologging is never enabled: every value in a run is logged explicitly by these methods.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from glassml.errors import UserInputError
from glassml.tracking._location import DEFAULT_STORE_DIR, resolve_tracking_location

# MLflow may read the telemetry switch while it is imported, so it is set before the import below.
# The artifact progress bar would print to stderr on every download, terminal or not. Values that
# the user set in the environment are kept.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

if TYPE_CHECKING:
    from mlflow.entities import Run

RunStatus = Literal["FINISHED", "FAILED", "KILLED"]

PARENT_RUN_TAG = "mlflow.parentRunId"
MIN_RUN_ID_PREFIX = 6

# Limits of the MLflow 3 tracking API, from mlflow.utils.validation in MLflow 3.17. The store
# rejects longer values. One log_batch call takes at most 100 params and tags together and 1000
# entities in total.
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
SEARCH_PAGE_SIZE = 1000

_RUN_ID_CHARACTERS = re.compile(r"[0-9a-fA-F]+")
_MISSING_RUN_ERROR_CODES = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}
_RUN_LISTING_HINT = "List runs with `glassml leaderboard` and experiments with `glassml experiments`."


class Tracker:
    """Read and write glassml's experiments and runs in an MLflow tracking store.

    Parameters
    ----------
    tracking_uri : str or None, default=None
        Any MLflow tracking URI. None uses the `MLFLOW_TRACKING_URI` environment variable when it
        is set, else the default store.
    store_dir : str or Path, default="glassml-runs"
        Folder of the default store, relative to the current working directory: the SQLite
        database `mlflow.db` and the folder `artifacts/`. Ignored when a tracking URI is given.

    Attributes
    ----------
    tracking_uri : str
        The resolved tracking URI.
    artifact_location : str or None
        File URI of the default store's artifact folder; None for other stores.
    """

    def __init__(self, tracking_uri: str | None = None, *, store_dir: str | Path = DEFAULT_STORE_DIR) -> None:
        location = resolve_tracking_location(tracking_uri, store_dir)
        self.tracking_uri = location.tracking_uri
        self.artifact_location = location.artifact_location
        self._client = MlflowClient(tracking_uri=self.tracking_uri)
        self._experiment_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Tracker(tracking_uri={self.tracking_uri!r})"

    # Writing

    def experiment_id(self, name: str, *, create: bool = True) -> str:
        """Return the id of the experiment called `name`, creating it when missing and `create` is true."""
        if not isinstance(name, str) or not name.strip():
            raise UserInputError(f"invalid experiment name {name!r}: give a non-empty name")
        if name in self._experiment_ids:
            return self._experiment_ids[name]

        experiment = self._client.get_experiment_by_name(name)
        if experiment is None and not create:
            raise UserInputError(f"experiment {name!r} not found in {self.tracking_uri}. {_RUN_LISTING_HINT}")
        if experiment is None:
            experiment_id = self._client.create_experiment(name, artifact_location=self.artifact_location)
        elif experiment.lifecycle_stage == "deleted":
            raise UserInputError(
                f"experiment {name!r} (id {experiment.experiment_id}) is deleted. Restore it with "
                f"`MLFLOW_TRACKING_URI={self.tracking_uri} mlflow experiments restore --experiment-id "
                f"{experiment.experiment_id}` or choose another name"
            )
        else:
            experiment_id = experiment.experiment_id

        self._experiment_ids[name] = experiment_id
        return experiment_id

    def start_run(
        self,
        experiment: str,
        *,
        run_name: str,
        parent_run_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Create a run with status RUNNING and return its id.

        A child run gets the tag `mlflow.parentRunId`, which the MLflow UI uses to nest it under
        its parent.
        """
        run_tags = {key: _truncate(str(value), MAX_TAG_VALUE_LENGTH) for key, value in (tags or {}).items()}
        if parent_run_id is not None:
            run_tags[PARENT_RUN_TAG] = parent_run_id
        run = self._client.create_run(self.experiment_id(experiment), tags=run_tags, run_name=run_name)
        return run.info.run_id

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """Log parameters as strings (`str(value)`), cut to MLflow's 6000-character limit."""
        entries = [Param(key, _truncate(str(value), MAX_PARAM_VALUE_LENGTH)) for key, value in params.items()]
        for batch in _batches(entries, MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(run_id, params=batch)

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        """Log metrics with one `log_batch` call per 1000 metrics, all with the same timestamp and step."""
        timestamp = int(time.time() * 1000)
        entries = [Metric(key, float(value), timestamp, step) for key, value in metrics.items()]
        for batch in _batches(entries, MAX_METRICS_PER_BATCH):
            self._client.log_batch(run_id, metrics=batch)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set tags as strings, cut to MLflow's 8000-character limit."""
        entries = [RunTag(key, _truncate(str(value), MAX_TAG_VALUE_LENGTH)) for key, value in tags.items()]
        for batch in _batches(entries, MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(run_id, tags=batch)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Store `text` as the artifact `artifact_file`, a relative path such as "generated_code/script.py"."""
        self._client.log_text(run_id, text, artifact_file)

    def log_json(self, run_id: str, obj: Any, artifact_file: str) -> None:
        """Store `obj` as an indented JSON artifact.

        Dataclasses, NumPy values, paths and datetimes are converted to plain JSON values.
        """
        self.log_text(run_id, json.dumps(obj, indent=2, default=_to_json_value) + "\n", artifact_file)

    def log_file(self, run_id: str, local_path: str | Path, artifact_path: str | None = None) -> None:
        """Copy a local file, or a folder with its contents, into the run's artifact folder `artifact_path`."""
        path = Path(local_path)
        if path.is_dir():
            self._client.log_artifacts(run_id, str(path), artifact_path)
        elif path.is_file():
            self._client.log_artifact(run_id, str(path), artifact_path)
        else:
            raise FileNotFoundError(f"cannot log {str(path)!r} as an artifact: no such file or folder")

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Set the run's final status and end time."""
        if status not in ("FINISHED", "FAILED", "KILLED"):
            raise ValueError(f"invalid run status {status!r}: expected 'FINISHED', 'FAILED' or 'KILLED'")
        self._client.set_terminated(run_id, status)

    # Reading

    def get_run(self, run_id_or_prefix: str) -> Run:
        """Return the run with this id, or with the only id that starts with this prefix (6 characters or more).

        Raises
        ------
        UserInputError
            When no run matches, when the prefix is too short, or when several runs match it.
        """
        reference = str(run_id_or_prefix).strip()
        run = self._get_run_or_none(reference)
        if run is not None:
            return run

        if not _RUN_ID_CHARACTERS.fullmatch(reference):
            raise UserInputError(f"run {reference!r} not found in {self.tracking_uri}. {_RUN_LISTING_HINT}")
        if len(reference) < MIN_RUN_ID_PREFIX:
            raise UserInputError(
                f"run id prefix {reference!r} is too short: give at least {MIN_RUN_ID_PREFIX} characters "
                f"of the run id. {_RUN_LISTING_HINT}"
            )

        matches = self._search(self._experiment_ids_all(), f"attributes.run_id LIKE '{reference.lower()}%'")
        runs = list(matches)
        if len(runs) == 1:
            return runs[0]
        if not runs:
            raise UserInputError(f"run {reference!r} not found in {self.tracking_uri}. {_RUN_LISTING_HINT}")
        listed_ids = ", ".join(run.info.run_id for run in runs[:5]) + (", ..." if len(runs) > 5 else "")
        raise UserInputError(
            f"run id prefix {reference!r} matches {len(runs)} runs ({listed_ids}). Give more characters of the run id."
        )

    def list_experiments(self) -> list[dict[str, Any]]:
        """List the active experiments with their run counts and the newest run's start time.

        Each item has the keys `name`, `experiment_id`, `runs` (all runs), `parent_runs` (runs
        without a parent) and `last_start_time` (a UTC datetime, or None for an empty experiment).
        """
        # NOTE: counting loads every run with its params and metrics, so its time grows with the store.
        summaries = []
        for experiment in self._experiments_all():
            runs = list(self._search([experiment.experiment_id], "", order_by=["attributes.start_time DESC"]))
            last_start_time = runs[0].info.start_time if runs else None
            summaries.append(
                {
                    "name": experiment.name,
                    "experiment_id": experiment.experiment_id,
                    "runs": len(runs),
                    "parent_runs": sum(PARENT_RUN_TAG not in run.data.tags for run in runs),
                    "last_start_time": _utc_datetime(last_start_time) if last_start_time is not None else None,
                }
            )
        return summaries

    def latest_parent_run(self, experiment: str | None = None) -> Run | None:
        """Return the newest run without a parent, in `experiment` or in all experiments, or None if there is none."""
        if experiment is None:
            experiment_ids = self._experiment_ids_all()
        else:
            experiment_ids = [self.experiment_id(experiment, create=False)]
        if not experiment_ids:
            return None
        page = self._client.search_runs(
            experiment_ids,
            filter_string=f"tags.`{PARENT_RUN_TAG}` IS NULL",
            max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        return page[0] if page else None

    def child_runs(self, parent_run_id: str) -> list[Run]:
        """Return the child runs of a parent run (id or unique prefix), oldest first."""
        parent = self.get_run(parent_run_id)
        filter_string = f"tags.`{PARENT_RUN_TAG}` = '{parent.info.run_id}'"
        return list(self._search([parent.info.experiment_id], filter_string, order_by=["attributes.start_time ASC"]))

    def read_text(self, run_id: str, artifact_file: str) -> str:
        """Return the text of a UTF-8 artifact of the run."""
        with tempfile.TemporaryDirectory(prefix="glassml-artifact-") as folder:
            local_path = self.download_artifacts(run_id, artifact_file, folder)
            return local_path.read_text(encoding="utf-8")

    def download_artifacts(self, run_id: str, artifact_path: str, dst: str | Path) -> Path:
        """Copy an artifact file or folder of the run into the local folder `dst` and return its local path."""
        destination = Path(dst)
        destination.mkdir(parents=True, exist_ok=True)
        try:
            local_path = self._client.download_artifacts(run_id, artifact_path, str(destination))
        except (MlflowException, OSError) as error:
            available = ", ".join(repr(info.path) for info in self._client.list_artifacts(run_id)) or "none"
            raise UserInputError(
                f"artifact {artifact_path!r} not found in run {run_id}. Its top-level artifacts are: {available}."
            ) from error
        return Path(local_path)

    # Helpers

    def _get_run_or_none(self, run_id: str) -> Run | None:
        try:
            return self._client.get_run(run_id)
        except MlflowException as error:
            if error.error_code in _MISSING_RUN_ERROR_CODES:
                return None
            raise

    def _experiments_all(self) -> list[Any]:
        experiments = []
        page_token = None
        while True:
            page = self._client.search_experiments(
                view_type=ViewType.ACTIVE_ONLY, max_results=SEARCH_PAGE_SIZE, page_token=page_token
            )
            experiments.extend(page)
            page_token = page.token
            if not page_token:
                return experiments

    def _experiment_ids_all(self) -> list[str]:
        return [experiment.experiment_id for experiment in self._experiments_all()]

    def _search(
        self, experiment_ids: list[str], filter_string: str, order_by: list[str] | None = None
    ) -> Iterator[Run]:
        if not experiment_ids:
            return
        page_token = None
        while True:
            page = self._client.search_runs(
                experiment_ids,
                filter_string=filter_string,
                max_results=SEARCH_PAGE_SIZE,
                order_by=order_by,
                page_token=page_token,
            )
            yield from page
            page_token = page.token
            if not page_token:
                return


def _truncate(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    return text[: max_length - 3] + "..."


def _batches(entries: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]


def _utc_datetime(milliseconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(milliseconds / 1000, tz=datetime.UTC)


def _to_json_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    # NumPy arrays and scalars, without importing NumPy here.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store a value of type {type(value).__name__} as JSON: {value!r}")
