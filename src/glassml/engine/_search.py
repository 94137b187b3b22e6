"""The search loop: portfolio first, then Optuna TPE through ask/tell, trials in worker processes.

For each trial the parent renders the spec to script.py, records the code on the trial's MLflow
run before it starts, and sends the script to a worker, which scores it by running the script's
own `evaluate_model`. Only the parent writes to MLflow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

import glassml
from glassml.codegen import render_script
from glassml.codegen._notebook import render_notebook
from glassml.codegen._requirements import render_requirements
from glassml.engine._budget import Budget
from glassml.engine._cost import CostModel, trial_size
from glassml.engine._events import Events
from glassml.engine._rounds import supports_early_stopping
from glassml.engine._runs import CODE_FOLDER
from glassml.engine._settings import TrainSettings
from glassml.engine._workers import start_worker_pool
from glassml.execution import JobResult, WorkerPool
from glassml.metrics import METRICS
from glassml.search import Algorithm, portfolio_trials, suggest_config
from glassml.search._learned import LEARNED_PORTFOLIO, fit_portfolio, read_portfolio
from glassml.spec import AlgorithmSpec, TrialSpec
from glassml.tracking import Tracker

if TYPE_CHECKING:
    from glassml.engine._train import DataPlan

logger = logging.getLogger(__name__)

# A trial is started only when at least this many seconds of search time are left.
MIN_TRIAL_SECONDS = 1.0
# One trial may use at most this share of the time limit (and at least MIN_TRIAL_CAP_SECONDS), so
# that a few slow configurations cannot take every worker for the whole run.
MAX_TRIAL_SHARE = 0.25
MIN_TRIAL_CAP_SECONDS = 10.0
# After this many configurations in a row were estimated too slow for the time left, the search
# stops asking until a running trial ends.
MAX_SKIPPED_IN_A_ROW = 20


@dataclass
class TrialRecord:
    """One trial: its spec, its code, its MLflow run and how it ended."""

    number: int
    run_id: str
    spec: TrialSpec
    source: str
    optuna_trial: optuna.trial.Trial | None
    started: float
    status: str = "running"  # running, finished, failed, timeout
    metrics: dict[str, float] | None = None
    fit_seconds: float | None = None
    seconds: float | None = None
    error: str | None = None
    loss: float | None = None
    # The constructor parameter whose value early stopping chooses in the worker, if any.
    rounds_param: str | None = None
    # The configuration's size at launch (rounds or trees), which its cost is taken proportional to.
    size: float = 1.0
    # The learner and hyperparameters at launch, before early stopping changes the rounds.
    config_key: str = ""
    # Top-level modules the script imports, for requirements.txt.
    modules: set[str] = field(default_factory=set)

    @property
    def algorithm(self) -> str:
        return self.spec.algorithm.name


class Search:
    """Runs trials in worker processes until the time limit or the trial limit is reached.

    Subclasses search other kinds of models through the hooks `_suggest`, `_make_spec`, `_render`,
    `_display_name`, `_notebook` and `_fits_per_trial`, and the job functions they name.
    """

    evaluate_job = "glassml.engine._jobs:evaluate"
    refit_job = "glassml.engine._jobs:refit"

    def __init__(self, settings: TrainSettings, budget: Budget, events: Events) -> None:
        self.settings = settings
        self.budget = budget
        self.events = events
        self.trials: list[TrialRecord] = []
        self.best: TrialRecord | None = None
        self._running: dict[int, TrialRecord] = {}
        self._pool: WorkerPool | None = None
        # Parent-side cost per trial, reported on the train run: rendering the script, and
        # creating the MLflow run with its code artifacts.
        self.render_seconds = 0.0
        self.record_seconds = 0.0
        self.costs = CostModel()
        # Configurations not started because their estimated cost exceeded the time available.
        self.skipped_configs = 0
        # Configurations not started because an earlier trial had the same learner and hyperparameters.
        self.repeated_configs = 0
        self._config_losses: dict[str, float] = {}
        self._running_configs: set[str] = set()

    def start_workers(self, pool: WorkerPool | None = None) -> None:
        """Start the worker processes, or take over `pool`, started with the same settings."""
        if pool is None:
            pool = start_worker_pool(self.settings.n_workers, self.settings.n_threads, self.settings.memory_limit_mb)
        self._pool = pool

    def stop_workers(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(kill=True)
            self._pool = None

    @property
    def pool(self) -> WorkerPool:
        assert self._pool is not None, "start_workers() must run first"
        return self._pool

    def run(self, tracker: Tracker, parent_run_id: str, plan: DataPlan, algorithms: list[Algorithm]) -> None:
        """Run trials until a limit is reached; Ctrl-C marks running trials killed and re-raises."""
        study = _create_study(self.settings.seed)
        for params in self._portfolio(plan, algorithms):
            study.enqueue_trial(params, skip_if_exists=True)
        self._tracker, self._parent_run_id, self._plan = tracker, parent_run_id, plan
        self._study, self._algorithms = study, algorithms
        try:
            while True:
                while self.pool.idle_workers > 0 and self._can_launch():
                    if not self._launch():
                        break
                if self.pool.running_jobs == 0:
                    break
                for result in self.pool.wait(timeout=0.5):
                    self._finish(result)
        except KeyboardInterrupt:
            for record in list(self._running.values()):
                self._close(record, "KILLED", "stopped by the user (Ctrl-C)")
            raise

    def _portfolio(self, plan: DataPlan, algorithms: list[Algorithm]) -> list[dict[str, Any]]:
        """List the configurations to try first: the learned portfolio, then each learner's defaults."""
        size = {"task": plan.target.task, "n_rows": plan.n_rows, "n_features": plan.n_features}
        path = self.settings.portfolio_path or LEARNED_PORTFOLIO
        learned = fit_portfolio(read_portfolio(path), algorithms, **size) if path.exists() else []
        defaults = portfolio_trials(algorithms, **size)
        return learned + [params for params in defaults if params not in learned]

    def refit(self, best: TrialRecord, model_path: Path, test_data: Path | None) -> dict[str, Any] | None:
        """Train the best candidate on every training row; None when that failed.

        The refit runs in a ready worker when one is idle. When the search's deadline killed every
        worker's trial, waiting for a replacement to start would cost seconds the budget does not
        have, so the parent runs the same job function itself.
        """
        timeout = max(self.budget.time_left(), 1.0)
        payload = self._payload(best) | {"model_path": str(model_path)}
        if test_data is not None:
            payload["test_path"] = str(test_data.resolve())
        self.events.refit_started(best, timeout)
        if self.pool.ready_idle_workers == 0:
            return self._refit_here(best, payload)

        self.pool.submit(-1, self.refit_job, payload, timeout=timeout)
        results: list[JobResult] = []
        while not results:
            results = self.pool.wait(timeout=1.0)
        result = results[0]
        if result.status != "ok":
            self.events.refit_failed(best, result.error or result.status)
            return None
        self.events.refit_finished(best, result.value["fit_seconds"])
        return dict(result.value)

    def _refit_here(self, best: TrialRecord, payload: dict[str, Any]) -> dict[str, Any] | None:
        import importlib

        module, function = self.refit_job.split(":")
        try:
            value = getattr(importlib.import_module(module), function)(payload)
        except Exception as error:  # the run keeps its trials; the script can still rebuild the model
            self.events.refit_failed(best, f"{type(error).__name__}: {error}")
            return None
        self.events.refit_finished(best, value["fit_seconds"])
        return value

    def _trial_cap(self) -> float:
        if self.budget.time_limit is None:
            return float("inf")
        return max(MAX_TRIAL_SHARE * self.budget.time_limit, MIN_TRIAL_CAP_SECONDS)

    def _can_launch(self) -> bool:
        limit = self.settings.max_trials
        if limit is not None and len(self.trials) >= limit:
            return False
        return self.budget.search_time_left() > MIN_TRIAL_SECONDS

    def _ask(self) -> tuple[optuna.trial.Trial, AlgorithmSpec] | None:
        """Ask Optuna for a configuration that can finish in the time left, or None after many could not.

        A configuration whose estimated cost exceeds the time a trial may take now is not started.
        Optuna records it with the loss of a failed trial, so that it steers away from costs the
        budget cannot pay.
        """
        for _ in range(MAX_SKIPPED_IN_A_ROW):
            trial = self._study.ask()
            config = self._suggest(trial)
            key = _config_key(config)
            if key in self._config_losses or key in self._running_configs:
                # A configuration already scored gets its score again without running; one still
                # running is left to that trial.
                self.repeated_configs += 1
                loss = self._config_losses.get(key)
                if loss is None:
                    self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    self._study.tell(trial, loss)
                continue
            estimate = self.costs.predict(config.name, trial_size(config.params))
            if estimate is None or estimate <= self._trial_time_available():
                return trial, config
            self.skipped_configs += 1
            self._tell_failed(trial)
        return None

    def _suggest(self, trial: optuna.trial.Trial) -> AlgorithmSpec:
        """Return the configuration that Optuna's `trial` proposes."""
        plan = self._plan
        return suggest_config(
            trial, self._algorithms, task=plan.target.task, n_rows=plan.n_rows, n_features=plan.n_features
        )

    def _display_name(self, name: str) -> str:
        return next(a for a in self._algorithms if a.name == name).task_display_name(self._plan.target.task)

    def _make_spec(self, run_id: str, number: int, config: AlgorithmSpec) -> Any:
        """Return the spec of trial `number` with configuration `config`."""
        plan = self._plan
        return TrialSpec(
            experiment=self.settings.experiment,
            run_id=run_id,
            trial_number=number,
            target=plan.target,
            read=plan.read,
            columns=plan.columns,
            data=plan.data,
            validation=plan.validation,
            algorithm=config,
            metric=plan.metric,
            seed=self.settings.seed,
            n_threads=self.settings.n_threads,
            weight_column=self.settings.weight_column,
            glassml_version=glassml.__version__,
            python_version=platform.python_version(),
        )

    def _render(self, spec: Any) -> Any:
        return render_script(spec)

    def _notebook(self, record: TrialRecord) -> str:
        spec = record.spec
        return render_notebook(
            title=f"Trial {record.number}: {spec.algorithm.name}",
            training_data=spec.data.path,
            task=spec.target.task,
            validation_data=spec.validation.validation_path,
        )

    def _fits_per_trial(self, spec: Any) -> float:
        return _fits_per_trial(spec)

    def _refit_extra_seconds(self) -> float:
        """Seconds a refit needs beyond the fit itself."""
        return 0.0

    def _trial_time_available(self) -> float:
        return min(self.budget.search_time_left(), self._trial_cap())

    def _launch(self) -> bool:
        """Ask for the next configuration, record its code on a new run, and start it.

        Returns False when no configuration could be started.
        """
        asked = self._ask()
        if asked is None:
            return False
        self._start(*asked)
        return True

    def _start(self, trial: optuna.trial.Trial, config: AlgorithmSpec) -> None:
        """Record the code of configuration `config` on a new run and start it in a worker."""
        number = len(self.trials) + 1
        display = self._display_name(config.name)
        run_id = self._tracker.start_run(
            self.settings.experiment,
            run_name=f"trial {number} {display}",
            parent_run_id=self._parent_run_id,
            tags={"glassml.kind": "trial", "glassml.trial": str(number), "glassml.algorithm": config.name},
        )

        spec = self._make_spec(run_id, number, config)

        render_started = time.perf_counter()
        rendered = self._render(spec)
        record = TrialRecord(number, run_id, spec, rendered.source, trial, time.time())
        record.rounds_param = self._rounds_param(config.name)
        record.size = trial_size(config.params)
        record.config_key = _config_key(config)
        record.modules = rendered.modules
        self._running_configs.add(record.config_key)
        record_started = time.perf_counter()
        self._log_params(record)
        self._record_code(record, rendered.modules)
        self.render_seconds += record_started - render_started
        self.record_seconds += time.perf_counter() - record_started

        self.trials.append(record)
        self._running[number] = record
        timeout = max(self._trial_time_available(), MIN_TRIAL_SECONDS)
        payload = self._payload(record)
        if record.rounds_param is not None:
            payload |= {"spec": spec.to_dict(), "rounds_param": record.rounds_param}
        # A replacement worker may still be starting: the trial ends by the search deadline all the same.
        latest_end = time.monotonic() + max(self.budget.search_time_left(), MIN_TRIAL_SECONDS)
        self.pool.submit(number, self.evaluate_job, payload, timeout=timeout, latest_end=latest_end)
        self.events.trial_started(record)

    def _rounds_param(self, name: str) -> str | None:
        """Return the rounds parameter that early stopping chooses for learner `name`, or None."""
        if not self.settings.early_stopping:
            return None
        algorithm = next(a for a in self._algorithms if a.name == name)
        return algorithm.rounds_param if supports_early_stopping(algorithm) else None

    def _log_params(self, record: TrialRecord) -> None:
        """Log the trial's hyperparameters; a rounds upper bound is logged as ``<param>_max``.

        MLflow parameters cannot change once logged, so the rounds that early stopping chooses are
        logged under the parameter's own name when the trial ends.
        """
        spec = record.spec
        params = {"algorithm": spec.algorithm.name, **_scalar_params(spec.algorithm.params)}
        if record.rounds_param is not None:
            params[f"{record.rounds_param}_max"] = params.pop(record.rounds_param)
        self._tracker.log_params(record.run_id, params)

    def _update_code(self, record: TrialRecord, value: dict[str, Any]) -> None:
        """Replace the trial's spec and code by the ones rendered after early stopping chose the rounds."""
        record.spec = TrialSpec.from_dict(value["spec"])
        record.source = value["source"]
        # Only the round count changed, so the script imports the same modules as at launch.
        self._record_code(record, record.modules)
        rounds = record.spec.algorithm.early_stopping or {}
        if record.rounds_param is not None and "rounds" in rounds:
            self._tracker.log_params(record.run_id, {record.rounds_param: rounds["rounds"]})

    def _record_code(self, record: TrialRecord, modules: set[str]) -> None:
        """Log the trial's code and its spec, before the trial starts and again when early stopping changed them.

        The files are written to a scratch folder and logged in one call, which costs a fraction of
        one MLflow call per file.
        """
        tracker, run_id, spec = self._tracker, record.run_id, record.spec
        tracker.set_tags(run_id, {"glassml.script_sha256": _sha256(record.source)})
        notebook = self._notebook(record)
        with tempfile.TemporaryDirectory(prefix="glassml-trial-") as scratch:
            folder = Path(scratch)
            code = folder / CODE_FOLDER
            code.mkdir()
            (code / "script.py").write_text(record.source, encoding="utf-8")
            (code / "script_run_notebook.ipynb").write_text(notebook, encoding="utf-8")
            (code / "requirements.txt").write_text(render_requirements(modules), encoding="utf-8")
            (folder / "spec.json").write_text(json.dumps(spec.to_dict(), indent=2) + "\n", encoding="utf-8")
            tracker.log_file(run_id, folder)

    def _payload(self, record: TrialRecord) -> dict[str, Any]:
        return {
            "source": record.source,
            "name": f"glassml_trial_{record.number}",
            "data_path": record.spec.data.path,
            "data_key": self._plan.data_key,
            "validation_path": record.spec.validation.validation_path,
            "n_threads": record.spec.n_threads,
        }

    def _finish(self, result: JobResult) -> None:
        record = self._running.pop(result.job_id)
        self._running_configs.discard(record.config_key)
        record.seconds = time.time() - record.started
        if result.status in ("ok", "timeout"):
            self.costs.observe(record.algorithm, record.size, record.seconds)
        metric = METRICS[record.spec.metric]
        if result.status == "ok":
            if "spec" in result.value:
                self._update_code(record, result.value)
            metrics = result.value["metrics"]
            primary = metrics.get(record.spec.metric)
            if primary is None or not math.isfinite(primary):
                self._fail(record, "failed", f"the primary metric {record.spec.metric} could not be computed")
                return
            record.metrics, record.fit_seconds = metrics, result.value["fit_seconds"]
            record.loss = metric.loss(primary)
            record.status = "finished"
            self._config_losses[record.config_key] = record.loss
            self._study.tell(record.optuna_trial, record.loss)
            self._tracker.log_metrics(record.run_id, {**metrics, "fit_seconds": record.fit_seconds})
            self._tracker.log_json(record.run_id, metrics, "metrics.json")
            self._tracker.end_run(record.run_id, "FINISHED")
            if self.best is None or record.loss < (self.best.loss or math.inf):
                self.best = record
                scoring_seconds = record.fit_seconds - result.value.get("rounds_seconds", 0.0)
                self.budget.reserve_refit(
                    scoring_seconds, self._fits_per_trial(record.spec), self._refit_extra_seconds()
                )
        elif result.status == "timeout":
            self._fail(record, "timeout", result.error or "timed out")
        else:
            self._fail(record, "failed", result.error or result.status)
        self.events.trial_finished(record, self.best, self.budget.elapsed())

    def _fail(self, record: TrialRecord, status: str, error: str) -> None:
        record.status, record.error = status, error
        self._tell_failed(record.optuna_trial)
        self._close(record, "KILLED" if status == "timeout" else "FAILED", error)

    def _tell_failed(self, trial: optuna.trial.Trial | None) -> None:
        """Tell Optuna that `trial` scored worse than every finished trial, or failed when none finished."""
        losses = [record.loss for record in self.trials if record.loss is not None]
        if losses:
            worst = max(losses)
            self._study.tell(trial, worst + abs(worst) * 0.1 + 1e-3)
        else:
            self._study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def _close(self, record: TrialRecord, mlflow_status: str, error: str) -> None:
        if record.status == "running":
            record.status, record.error = "failed", error
        self._tracker.set_tags(record.run_id, {"glassml.error": error[:4000], "glassml.status": record.status})
        self._tracker.end_run(record.run_id, mlflow_status)  # type: ignore[arg-type]


def _create_study(seed: int) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, constant_liar=True)
    return optuna.create_study(direction="minimize", sampler=sampler)


def _config_key(config: AlgorithmSpec) -> str:
    return json.dumps({"algorithm": config.name, "params": config.params}, sort_keys=True, default=str)


def _fits_per_trial(spec: TrialSpec) -> float:
    """Return how many full-data fits one trial's validation costs, to estimate the refit time."""
    validation = spec.validation
    if validation.kind == "cv" and validation.n_folds:
        return (validation.n_folds - 1.0) or 1.0
    if validation.kind == "holdout" and validation.test_size:
        return 1.0 - validation.test_size
    return 1.0


def _scalar_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value for name, value in params.items() if isinstance(value, (int, float, str, bool)) or value is None
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
