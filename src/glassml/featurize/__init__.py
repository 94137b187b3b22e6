"""Featurization plans: column purposes and the learner to named ColumnTransformer groups."""

from glassml.featurize._plan import DATETIME_PARTS, TEXT_MAX_FEATURES, ColumnGroup, plan_column_groups

__all__ = ["DATETIME_PARTS", "TEXT_MAX_FEATURES", "ColumnGroup", "plan_column_groups"]
