"""The search over forecasters: the same loop as for tables, with forecasting specs, scripts and jobs."""

from __future__ import annotations

import platform
from typing import Any

import optuna

import glassml
from glassml.codegen._script import RenderedScript
from glassml.engine._search import Search, TrialRecord
from glassml.forecasting._forecasters import FORECASTERS, Forecaster
from glassml.forecasting._notebook import render_forecast_notebook
from glassml.forecasting._script import render_forecast_script
from glassml.spec import AlgorithmSpec, ForecastSpec

# A learner's refit fits three times: twice for the conformal intervals' backtests and once on all data.
REFIT_FITS = 3.0


class ForecastSearch(Search):
    """Runs forecasting trials: each one backtests a forecaster through its rendered script."""

    evaluate_job = "glassml.forecasting._jobs:evaluate"
    refit_job = "glassml.forecasting._jobs:refit"

    def _portfolio(self, plan: Any, algorithms: list[Forecaster]) -> list[dict[str, Any]]:  # type: ignore[override]
        return [
            {"forecaster": forecaster.name, **values}
            for forecaster in algorithms
            for values in forecaster.portfolio(plan.series)
        ]

    def _suggest(self, trial: optuna.trial.Trial) -> AlgorithmSpec:
        name = trial.suggest_categorical("forecaster", [forecaster.name for forecaster in self._algorithms])
        return AlgorithmSpec(str(name), FORECASTERS[str(name)].suggest(trial, self._plan.series))

    def _display_name(self, name: str) -> str:
        return FORECASTERS[name].display_name

    def _make_spec(self, run_id: str, number: int, config: AlgorithmSpec) -> ForecastSpec:
        plan = self._plan
        return ForecastSpec(
            experiment=self.settings.experiment,
            run_id=run_id,
            trial_number=number,
            target=plan.target,
            read=plan.read,
            data=plan.data,
            series=plan.series,
            validation=plan.validation,
            algorithm=config,
            metric=plan.metric,
            seed=self.settings.seed,
            n_threads=self.settings.n_threads,
            glassml_version=glassml.__version__,
            python_version=platform.python_version(),
        )

    def _render(self, spec: ForecastSpec) -> RenderedScript:  # type: ignore[override]
        rendered = render_forecast_script(spec)
        rendered.modules.add("matplotlib")  # the notebook plots the forecasts
        return rendered

    def _notebook(self, record: TrialRecord) -> str:
        spec = record.spec
        return render_forecast_notebook(
            title=f"Trial {record.number}: {FORECASTERS[spec.algorithm.name].display_name}",
            training_data=spec.data.path,
        )

    def _fits_per_trial(self, spec: ForecastSpec) -> float:  # type: ignore[override]
        windows = float(spec.validation.n_folds or 1)
        if FORECASTERS[spec.algorithm.name].library == "mlforecast":
            return windows / REFIT_FITS
        return windows

    def _rounds_param(self, name: str) -> str | None:
        return None
