"""Progress events of a run: the library logs them, and the command line also shows a display."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glassml.engine._search import TrialRecord
    from glassml.engine._train import DataPlan

logger = logging.getLogger("glassml")


class Events:
    """Receives the events of a run and logs one INFO line for each that a user cares about.

    Subclass it to show progress differently; every method has a default that logs.
    """

    def planned(self, plan: DataPlan) -> None:
        target = plan.target
        logger.info("task: %s (%s)", target.task, target.task_reason)
        if plan.dropped_target_rows:
            logger.info("dropped %d rows without a target value", plan.dropped_target_rows)
        logger.info("validation: %s (%s)", plan.validation.kind, plan.validation.reason)
        logger.info("primary metric: %s", plan.metric)
        for guardrail in plan.guardrails:
            if guardrail.status != "passed":
                logger.info("guardrail %s (%s): %s", guardrail.name, guardrail.status, guardrail.detail)

    def started(self, experiment: str, parent_run_id: str, tracking_uri: str) -> None:
        logger.info("run %s of experiment %r, recorded at %s", parent_run_id, experiment, tracking_uri)

    def trial_started(self, record: TrialRecord) -> None:
        logger.debug("trial %d started: %s", record.number, record.algorithm)

    def trial_finished(self, record: TrialRecord, best: TrialRecord | None, elapsed: float) -> None:
        metric = record.spec.metric
        best_text = f"{best.metrics[metric]:.5g} (trial {best.number})" if best and best.metrics else "none"
        if record.metrics is not None:
            logger.info(
                "trial %d %s: %s %.5g, best %s, %.1f s elapsed",
                record.number,
                record.algorithm,
                metric,
                record.metrics[metric],
                best_text,
                elapsed,
            )
        else:
            logger.info(
                "trial %d %s %s: %s; best %s, %.1f s elapsed",
                record.number,
                record.algorithm,
                record.status,
                record.error,
                best_text,
                elapsed,
            )

    def refit_started(self, record: TrialRecord, timeout: float) -> None:
        logger.info("refitting trial %d on every training row (up to %.1f s)", record.number, timeout)

    def refit_finished(self, record: TrialRecord, fit_seconds: float) -> None:
        logger.info("refit of trial %d done in %.1f s", record.number, fit_seconds)

    def refit_failed(self, record: TrialRecord, error: str) -> None:
        logger.warning(
            "refit of trial %d failed (%s); its script rebuilds the model with --refit-only", record.number, error
        )
