"""One training run: read, profile, plan validation, search, refit the best, record everything."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from glassml.data import (
    check_target_column,
    detect_read_options,
    fingerprint,
    infer_target,
    layout_differences,
    load_reader,
    profile_columns,
)
from glassml.data._guardrails import Guardrail, check_guardrails, count_missing_tokens, guardrails_table
from glassml.data._names import unknown_column_error
from glassml.engine._budget import Budget
from glassml.engine._events import Events
from glassml.engine._search import Search, TrialRecord
from glassml.engine._settings import TrainSettings
from glassml.engine._validation import plan_validation
from glassml.errors import UserInputError
from glassml.execution import WorkerPool
from glassml.metrics import resolve_metric
from glassml.search import resolve_algorithms
from glassml.spec import ColumnProfile, DataFingerprint, ReadOptions, TargetSpec, ValidationSpec
from glassml.tracking import Tracker

logger = logging.getLogger(__name__)


@dataclass
class DataPlan:
    """Decisions of reading and profiling, shared by every trial of a run."""

    read: ReadOptions
    data: DataFingerprint
    target: TargetSpec
    columns: list[ColumnProfile]
    validation: ValidationSpec
    metric: str
    n_rows: int
    dropped_target_rows: int
    guardrails: list[Guardrail] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return sum(column.purpose != "ignore" for column in self.columns)

    @property
    def data_key(self) -> str:
        """A hash of everything the scripts' reading and preparation code depends on."""
        parts = {
            "read": self.read.__dict__,
            "path": self.data.path,
            "sha256": self.data.sha256,
            "target": self.target.__dict__,
            "columns": [column.__dict__ for column in self.columns],
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class TrainResult:
    """The outcome of one run: its ids, every trial and the best one."""

    experiment: str
    parent_run_id: str
    plan: DataPlan
    trials: list[TrialRecord]
    best: TrialRecord | None
    model_path: Path | None = None
    test_metrics: dict[str, float] | None = None
    importances: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    overhead: dict[str, float] = field(default_factory=dict)


def plan_data(settings: TrainSettings, events: Events) -> DataPlan:
    """Read the training table and decide types, purposes, task, metric and validation."""
    read = detect_read_options(settings.data_path)
    table = load_reader(read)(str(settings.data_path))
    check_target_column(table, settings.target)
    if settings.weight_column is not None and settings.weight_column not in table.columns:
        raise unknown_column_error(settings.weight_column, list(table.columns), "weight")
    for option, path in (("--validation-data", settings.validation_data), ("--test-data", settings.test_data)):
        if path is not None:
            _check_same_layout(option, path, read)

    labelled = table[table[settings.target].notna()]
    dropped = len(table) - len(labelled)
    if labelled.empty:
        raise UserInputError(
            f"every row of target column {settings.target!r} is missing: nothing is left to train on; "
            "check the target column's name and its missing-value tokens"
        )
    target = infer_target(labelled[settings.target], task=settings.task, positive_label=settings.positive_label)

    columns = profile_columns(
        table,
        settings.target,
        ignore_columns=settings.ignore_columns,
        purpose_overrides=settings.column_purposes,
        weight_column=settings.weight_column,
    )
    if not any(column.purpose != "ignore" for column in columns):
        raise UserInputError(
            "no feature column is left after profiling (every column was ignored); "
            "set a purpose with --column-purpose name=numeric or add columns"
        )

    y = labelled[settings.target]
    if target.class_labels is not None:
        y = y.astype(target.dtype)
    validation = plan_validation(settings.validation, settings.validation_data, target, y, len(labelled))
    metric = resolve_metric(target.task, settings.metric)
    guardrails = check_guardrails(
        table,
        target=target,
        columns=columns,
        validation=validation,
        dropped_target_rows=dropped,
        metric=metric,
        read=read,
        raw_token_counts=_raw_token_counts(settings.data_path, read),
    )

    plan = DataPlan(
        read=read,
        data=fingerprint(settings.data_path, rows=len(table), columns=table.shape[1]),
        target=target,
        columns=columns,
        validation=validation,
        metric=metric,
        n_rows=len(labelled),
        dropped_target_rows=dropped,
        guardrails=guardrails,
    )
    events.planned(plan)
    return plan


def _raw_token_counts(path: Path, read: ReadOptions) -> dict[str, dict[str, int]] | None:
    """Count the missing-value tokens per column of a CSV file, for the missing-token guardrail.

    The file is read a second time as plain text, which is the only way to see which cells were
    tokens such as "?" or "unknown" rather than empty.
    """
    if read.format != "csv":
        return None
    text = pd.read_csv(
        path, sep=read.separator, encoding=read.encoding, dtype=str, keep_default_na=False, index_col=False
    )
    return count_missing_tokens(
        text,
        read.missing_tokens,
        strip_values=read.strip_value_whitespace,
        strip_header=read.strip_header_whitespace,
    )


def _check_same_layout(option: str, path: Path, read: ReadOptions) -> None:
    differences = layout_differences(read, detect_read_options(path))
    if differences:
        raise UserInputError(
            f"{option} file {path.name!r} is laid out differently from the training data ({'; '.join(differences)}); "
            "the generated script reads both with the training data's options, so save it in the same layout"
        )


def train(settings: TrainSettings, events: Events | None = None, pool: WorkerPool | None = None) -> TrainResult:
    """Run the whole search within the settings' time limit and return the result.

    `pool`, when given, is a worker pool started with the settings' worker count, thread count and
    memory limit (see `start_worker_pool`). The run takes it over and shuts it down.
    """
    events = events or Events()
    budget = Budget(settings.started_at, settings.time_limit)
    forecasting = settings.task == "forecasting"
    if forecasting:
        from glassml.forecasting._search import ForecastSearch

        search: Search = ForecastSearch(settings, budget, events)
    else:
        search = Search(settings, budget, events)
    search.start_workers(pool)
    # Opening the store (importing MLflow, creating tables) takes seconds; it overlaps with planning.
    opening = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    tracker_future = opening.submit(_open_tracker, settings.tracking_uri, settings.experiment)
    try:
        if forecasting:
            from glassml.forecasting._forecasters import resolve_forecasters
            from glassml.forecasting._plan import plan_forecast

            plan: Any = plan_forecast(settings, events)
            algorithms: list[Any] = resolve_forecasters(settings.allowed_models, settings.blocked_models, plan.series)
        else:
            plan = plan_data(settings, events)
            algorithms = resolve_algorithms(
                settings.allowed_models,
                settings.blocked_models,
                plan.target.task,
                n_rows=plan.n_rows,
                sample_weights=settings.weight_column is not None,
            )
        tracker = tracker_future.result()
        parent_run_id = tracker.start_run(
            settings.experiment, run_name=f"train {settings.data_path.name}", tags={"glassml.kind": "train"}
        )
        _record_plan(tracker, parent_run_id, settings, plan)
        events.started(settings.experiment, parent_run_id, tracker.tracking_uri)
        result = TrainResult(settings.experiment, parent_run_id, plan, trials=[], best=None)
        interrupted = False
        try:
            search.run(tracker, parent_run_id, plan, algorithms)
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:
            # An unexpected error still leaves a closed train run with the trials finished so far.
            _collect(search, result)
            _finish(tracker, result, budget, "FAILED")
            raise
        _collect(search, result)
        if not interrupted and result.best is not None:
            _refit_best(search, tracker, result, settings)
        if interrupted:
            _finish(tracker, result, budget, "KILLED")
            raise KeyboardInterrupt
        _finish(tracker, result, budget, "FINISHED" if result.best is not None else "FAILED")
        if result.best is None:
            raise UserInputError(_all_failed_message(result.trials))
        return result
    finally:
        opening.shutdown(wait=True)
        search.stop_workers()


def _open_tracker(tracking_uri: str | None, experiment: str) -> Tracker:
    tracker = Tracker(tracking_uri)
    tracker.experiment_id(experiment)
    return tracker


def _collect(search: Search, result: TrainResult) -> None:
    result.trials = search.trials
    result.best = search.best
    result.overhead = _overhead(search)


def _record_plan(tracker: Tracker, run_id: str, settings: TrainSettings, plan: DataPlan) -> None:
    tracker.log_params(
        run_id,
        {
            "target": settings.target,
            "task": plan.target.task,
            "metric": plan.metric,
            "validation": plan.validation.kind,
            "time_limit": settings.time_limit,
            "max_trials": settings.max_trials,
            "seed": settings.seed,
            "rows": plan.n_rows,
            "data_path": plan.data.path,
        },
    )
    tracker.log_json(run_id, [column.__dict__ for column in plan.columns], "column_purposes.json")
    tracker.log_json(run_id, plan.read.__dict__, "read_options.json")
    tracker.log_json(run_id, plan.validation.__dict__, "validation.json")
    if hasattr(plan, "series"):
        tracker.log_json(run_id, plan.series.__dict__, "series.json")
    tracker.log_json(run_id, plan.target.__dict__, "target.json")
    tracker.log_json(run_id, guardrails_table(plan.guardrails), "guardrails.json")
    tracker.set_tags(run_id, {f"glassml.guardrail.{guardrail.name}": guardrail.status for guardrail in plan.guardrails})
    tracker.log_json(run_id, {key: str(value) for key, value in settings.__dict__.items()}, "settings.json")


def _refit_best(search: Search, tracker: Tracker, result: TrainResult, settings: TrainSettings) -> None:
    best = result.best
    assert best is not None
    folder = Path(tempfile.mkdtemp(prefix="glassml-refit-"))
    outcome = search.refit(best, folder / "model.pkl", settings.test_data)
    if outcome is None:
        return
    tracker.log_file(best.run_id, outcome["model_path"], "model")
    tracker.set_tags(best.run_id, {"glassml.model_stored": "true"})
    result.model_path = Path(outcome["model_path"])
    if settings.task == "forecasting":
        return
    if outcome.get("test_metrics"):
        result.test_metrics = outcome["test_metrics"]
        tracker.log_metrics(best.run_id, {f"test_{name}": value for name, value in result.test_metrics.items()})
    try:
        from glassml.engine._importance import original_column_importances

        result.importances = original_column_importances(result.model_path, best.spec)
    except Exception as error:  # importances are a report; a model without them is still whole
        logger.debug("feature importances unavailable: %s", error)


def _finish(tracker: Tracker, result: TrainResult, budget: Budget, status: str) -> None:
    from glassml.engine._leaderboard import leaderboard_entries

    entries = leaderboard_entries(result.trials, result.plan.metric)
    tracker.log_json(result.parent_run_id, entries, "leaderboard.json")
    if result.importances:
        tracker.log_json(result.parent_run_id, result.importances, "feature_importances.json")
    tags = {"glassml.trials": str(len(result.trials))}
    if result.best is not None:
        tags["glassml.best_run_id"] = result.best.run_id
    tracker.set_tags(result.parent_run_id, tags)
    result.elapsed = budget.elapsed()
    fit_seconds = sum(trial.fit_seconds or 0.0 for trial in result.trials)
    result.overhead["fit_seconds_total"] = fit_seconds
    tracker.log_metrics(result.parent_run_id, {"elapsed_seconds": result.elapsed, **result.overhead})
    if result.best is not None and result.best.metrics:
        tracker.log_metrics(result.parent_run_id, {f"best_{k}": v for k, v in result.best.metrics.items()})
    tracker.end_run(result.parent_run_id, status)  # type: ignore[arg-type]


def _overhead(search: Search) -> dict[str, float]:
    count = max(len(search.trials), 1)
    return {
        "render_ms_per_trial": 1000 * search.render_seconds / count,
        "record_ms_per_trial": 1000 * search.record_seconds / count,
        "skipped_configs": float(search.skipped_configs),
        "repeated_configs": float(search.repeated_configs),
    }


def _all_failed_message(trials: list[TrialRecord]) -> str:
    if not trials:
        return "no trial could run within the time limit; give a longer --time-limit"
    errors = pd.Series([trial.error or "unknown error" for trial in trials])
    common = errors.value_counts().index[0]
    return f"all {len(trials)} trials failed; the most common error was: {common}"
