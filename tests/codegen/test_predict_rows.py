"""The script's predict(): row-independent, and clear about unseen categories and infinities."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from glassml.codegen import render_script
from glassml.engine._jobs import load_script
from tests.conftest import build_spec


@pytest.fixture(params=["lightgbm", "linear"])
def fitted(request, table_path):
    path, target = table_path("telco")
    module = load_script(render_script(build_spec(path, target, request.param)).source, "trial")
    table = module.read_table(str(path))
    X, y, sample_weights = module.prepare_data(table)
    return module, module.train_model(X, y, sample_weights), table


def test_predict_row_independent_of_batch(fitted):
    module, model, table = fitted
    batch = module.predict(model, table.head(40))

    one_by_one = pd.concat([module.predict(model, table.iloc[[row]]) for row in range(40)])

    pd.testing.assert_frame_equal(batch, one_by_one)


def test_predict_warns_unseen_category_by_name(fitted, caplog):
    module, model, table = fitted
    rows = table.head(3).copy()
    rows["contract"] = ["Ten year", "Month-to-month", "Ten year"]

    with caplog.at_level(logging.WARNING, logger="script"):
        predictions = module.predict(model, rows)

    assert len(predictions) == 3
    assert "column 'contract': 1 unseen value(s), encoded as unknown: ['Ten year']" in caplog.text


def test_predict_infinity_as_missing(fitted):
    module, model, table = fitted
    rows = table.head(2).copy()
    with_infinity = rows.assign(monthly_charges=[np.inf, -np.inf])
    with_missing = rows.assign(monthly_charges=[np.nan, np.nan])

    pd.testing.assert_frame_equal(module.predict(model, with_infinity), module.predict(model, with_missing))


def test_predict_warns_extra_columns(fitted, caplog):
    module, model, table = fitted
    rows = table.head(2).assign(note=["a", "b"])

    with caplog.at_level(logging.WARNING, logger="script"):
        module.predict(model, rows)

    assert "ignoring columns the model was not trained on: ['note']" in caplog.text
