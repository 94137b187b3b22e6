"""Feature importances of a fitted pipeline, summed back onto the original columns."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np

from glassml.featurize import plan_column_groups
from glassml.search import ALGORITHMS
from glassml.spec import TrialSpec

MISSING_INDICATOR_PREFIX = "missingindicator_"


def original_column_importances(model_path: Path, spec: TrialSpec) -> dict[str, float]:
    """Return each original column's share of the model's importance, largest first.

    Trees report impurity or gain importances; linear models the absolute coefficients. Every
    output feature of the featurization is traced to the column it came from.
    """
    model = joblib.load(model_path)
    featurization = model.named_steps["featurization"]
    estimator = model.named_steps["model"]
    if hasattr(estimator, "feature_importances_"):
        weights = np.asarray(estimator.feature_importances_, dtype=float)
    else:
        weights = np.abs(np.atleast_2d(estimator.coef_)).mean(axis=0)
    algorithm = ALGORITHMS[spec.algorithm.name]
    groups = {group.name: group.columns for group in plan_column_groups(spec, algorithm)}
    totals: dict[str, float] = {}
    for feature, weight in zip(featurization.get_feature_names_out(), weights, strict=True):
        group, _, name = str(feature).partition("__")
        column = _source_column(name, groups.get(group, []))
        totals[column] = totals.get(column, 0.0) + float(weight)
    total = sum(totals.values()) or 1.0
    return {name: value / total for name, value in sorted(totals.items(), key=lambda item: -item[1])}


def _source_column(feature: str, columns: list[str]) -> str:
    if len(columns) == 1:
        return columns[0]
    name = feature.removeprefix(MISSING_INDICATOR_PREFIX)
    matches = [column for column in columns if name == column or name.startswith(column + "_")]
    return max(matches, key=len) if matches else name
