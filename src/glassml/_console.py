"""Terminal output of `glassml train`: the plan, one line per trial, and the summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from glassml.engine._events import Events

if TYPE_CHECKING:
    from glassml.engine import DataPlan, TrainResult, TrialRecord

TOP_IMPORTANCES = 10
SUMMARY_ROWS = 15


class ConsoleEvents(Events):
    """Prints a run's events; shows a progress bar only when the output is a terminal.

    Rich draws a bar once, at the end, when output is not a terminal, so plain lines are the
    only display there.
    """

    def __init__(self, console: Console, time_limit: float | None) -> None:
        self.console = console
        self.time_limit = time_limit
        self._progress: Progress | None = None
        self._task_id: Any = None

    def __enter__(self) -> ConsoleEvents:
        if self.console.is_terminal and self.time_limit is not None:
            self._progress = Progress(
                TextColumn("searching"),
                BarColumn(),
                TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task_id = self._progress.add_task("search", total=self.time_limit)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def planned(self, plan: DataPlan) -> None:
        for name, detail in plan.read.detected.items():
            self._line(f"read: {name} {detail}")
        self._line(f"task: {plan.target.task} ({plan.target.task_reason})")
        if plan.dropped_target_rows:
            self._line(f"dropped {plan.dropped_target_rows} rows without a target value")
        table = Table("column", "purpose", "why", title="Column purposes")
        for column in plan.columns:
            table.add_row(column.name, column.purpose, column.reason)
        self.console.print(table)
        self._line(f"validation: {plan.validation.kind} ({plan.validation.reason})")
        self._line(f"primary metric: {plan.metric}")
        self._guardrails(plan)

    def _guardrails(self, plan: DataPlan) -> None:
        found = [guardrail for guardrail in plan.guardrails if guardrail.status != "passed"]
        passed = len(plan.guardrails) - len(found)
        table = Table("guardrail", "status", "what was found and done", title=f"Data guardrails ({passed} passed)")
        for guardrail in found:
            table.add_row(guardrail.name, guardrail.status, guardrail.detail)
        if found:
            self.console.print(table)
        else:
            self._line(f"data guardrails: all {passed} passed")

    def started(self, experiment: str, parent_run_id: str, tracking_uri: str) -> None:
        self._line(f"train run {parent_run_id} in experiment {experiment!r} at {tracking_uri}")

    def trial_finished(self, record: TrialRecord, best: TrialRecord | None, elapsed: float) -> None:
        metric = record.spec.metric
        best_text = f"{best.metrics[metric]:.5g} (trial {best.number})" if best and best.metrics else "none yet"
        if record.metrics is not None:
            outcome = f"{metric} {record.metrics[metric]:.5g} in {record.fit_seconds:.1f} s"
        else:
            outcome = f"{record.status}: {record.error}"
        self._line(
            f"trial {record.number:>3} {record.algorithm:<14} {outcome}; best {best_text}; {elapsed:.1f} s elapsed"
        )
        if self._progress is not None:
            self._progress.update(self._task_id, completed=min(elapsed, self.time_limit or elapsed))

    def refit_started(self, record: TrialRecord, timeout: float) -> None:
        self._line(f"refitting trial {record.number} on every training row")

    def refit_failed(self, record: TrialRecord, error: str) -> None:
        self._line(f"refit of trial {record.number} failed ({error}); its script rebuilds the model with --refit-only")

    def refit_finished(self, record: TrialRecord, fit_seconds: float) -> None:
        pass

    def summary(self, result: TrainResult, entries: list[dict[str, Any]], code_location: str | None) -> None:
        from glassml.cli import leaderboard_table

        self.console.print(leaderboard_table(entries[:SUMMARY_ROWS], result.plan.metric))
        if len(entries) > SUMMARY_ROWS:
            self._line(f"... and {len(entries) - SUMMARY_ROWS} more trials: `glassml leaderboard` lists them all")
        if result.importances:
            table = Table("column", "importance", title=f"Feature importances of trial {result.best.number}")
            for name, share in list(result.importances.items())[:TOP_IMPORTANCES]:
                table.add_row(name, f"{share:.3f}")
            self.console.print(table)
        if result.test_metrics:
            scores = ", ".join(f"{name} {value:.5g}" for name, value in result.test_metrics.items())
            self._line(f"test data score of the best model: {scores}")
        if result.best is not None:
            best = result.best
            self._line(f"best: trial {best.number} ({best.algorithm}), run {best.run_id}")
            if code_location is not None:
                self._line(f"its code:   {code_location}")
            self._line(f"copy it:    glassml code {best.run_id} --out best_model/")
            self._line(f"verify it:  glassml verify {best.run_id}")
        finished = sum(trial.status == "finished" for trial in result.trials)
        self._line(
            f"finished in {result.elapsed:.1f} s: {len(result.trials)} trials, {finished} finished; "
            f"{result.overhead.get('fit_seconds_total', 0.0):.1f} s of fitting and scoring in workers"
        )
