"""The metrics of each task: their direction and the code that computes them in script.py."""

from __future__ import annotations

from dataclasses import dataclass

from glassml.errors import UserInputError


@dataclass(frozen=True)
class Metric:
    """A metric by name, whether higher is better, and how the generated script calls it.

    `arguments` maps a task to the source text of the scikit-learn function's arguments. The
    script's `calculate_metrics` defines the names they use: `y`, `probabilities` or
    `predictions`, `predicted` (class codes), `positive` (probability of the positive class),
    `codes` (all class codes) and `sample_weights`.
    """

    name: str
    function: str
    greater_is_better: bool
    arguments: dict[str, tuple[str, ...]]
    needs_all_classes: bool = False

    def source_arguments(self, task: str) -> list[str]:
        return [*self.arguments[task], "sample_weight=sample_weights"]

    def loss(self, value: float) -> float:
        """Return the value as a loss: lower is better for every metric."""
        return -value if self.greater_is_better else value


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            "roc_auc",
            "metrics.roc_auc_score",
            True,
            {
                "binary": ("y", "positive"),
                "multiclass": ("y", "probabilities", 'multi_class="ovr"', 'average="weighted"', "labels=codes"),
            },
            needs_all_classes=True,
        ),
        Metric(
            "log_loss",
            "metrics.log_loss",
            False,
            {"binary": ("y", "probabilities", "labels=[0, 1]"), "multiclass": ("y", "probabilities", "labels=codes")},
        ),
        Metric(
            "accuracy",
            "metrics.accuracy_score",
            True,
            {"binary": ("y", "predicted"), "multiclass": ("y", "predicted")},
        ),
        Metric(
            "balanced_accuracy",
            "metrics.balanced_accuracy_score",
            True,
            {"binary": ("y", "predicted"), "multiclass": ("y", "predicted")},
        ),
        Metric("f1", "metrics.f1_score", True, {"binary": ("y", "predicted")}),
        Metric(
            "f1_macro", "metrics.f1_score", True, {"multiclass": ("y", "predicted", 'average="macro"', "labels=codes")}
        ),
        Metric(
            "rmse", "metrics.root_mean_squared_error", False, {"regression": ("y", "predictions"), "forecasting": ()}
        ),
        Metric("mae", "metrics.mean_absolute_error", False, {"regression": ("y", "predictions")}),
        Metric("r2", "metrics.r2_score", True, {"regression": ("y", "predictions")}),
        # Forecasting metrics are computed per series by the forecasting script's own calculate_metrics.
        Metric("mase", "", False, {"forecasting": ()}),
        Metric("smape", "", False, {"forecasting": ()}),
        Metric("wape", "", False, {"forecasting": ()}),
    )
}

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse", "forecasting": "mase"}


def task_metrics(task: str) -> list[str]:
    """Return the names of the metrics a task reports, in their usual order."""
    return [name for name, metric in METRICS.items() if task in metric.arguments]


def metric_names(task: str, primary: str) -> list[str]:
    """Return the task's metrics with `primary` first."""
    names = task_metrics(task)
    return [primary] + [name for name in names if name != primary]


def resolve_metric(task: str, requested: str | None) -> str:
    """Return the primary metric for `task`: the requested one, or the task's default."""
    if requested is None:
        return DEFAULT_METRIC[task]
    names = task_metrics(task)
    if requested not in names:
        raise UserInputError(
            f"metric {requested!r} does not apply to {task} tasks; choose one of {', '.join(names)} "
            f"(default {DEFAULT_METRIC[task]})"
        )
    return requested
