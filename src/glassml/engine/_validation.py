"""The validation plan: holdout, k-fold cross-validation or a validation file, and why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from glassml.engine._settings import parse_validation
from glassml.spec import TargetSpec, ValidationSpec

# Up to this many rows, k-fold cross-validation: a holdout of a small table gives a noisy score.
CV_MAX_ROWS = 10_000
DEFAULT_FOLDS = 5
DEFAULT_HOLDOUT = 0.1


def plan_validation(
    setting: str, validation_data: Path | None, target: TargetSpec, y: pd.Series, n_rows: int
) -> ValidationSpec:
    """Choose how candidates are scored, with the reason stated for the user."""
    if validation_data is not None:
        return ValidationSpec(
            kind="validation_data",
            reason=f"rows of {validation_data.name}, given with --validation-data",
            validation_path=str(validation_data.resolve()),
        )
    kind, number = parse_validation(setting)
    if kind == "auto":
        if n_rows <= CV_MAX_ROWS:
            kind, number = "cv", DEFAULT_FOLDS
            reason = f"{n_rows:,} rows (at most {CV_MAX_ROWS:,}): k-fold scores are steadier on small tables"
        else:
            kind, number = "holdout", DEFAULT_HOLDOUT
            reason = f"{n_rows:,} rows (more than {CV_MAX_ROWS:,}): a holdout costs one fit per trial"
    else:
        reason = f"--validation {setting}"
    if kind == "cv":
        spec = ValidationSpec(kind="cv", reason=reason, n_folds=int(number or DEFAULT_FOLDS))
        needed = spec.n_folds or DEFAULT_FOLDS
    else:
        spec = ValidationSpec(kind="holdout", reason=reason, test_size=float(number or DEFAULT_HOLDOUT))
        needed = 2
    if target.task != "regression":
        smallest = int(y.value_counts().min())
        if smallest >= needed:
            spec.stratified = True
        else:
            rarest = y.value_counts().idxmin()
            spec.reason += (
                f"; not stratified because class {rarest!r} has {smallest} row(s), fewer than the {needed} "
                "that stratification needs"
            )
    return spec
