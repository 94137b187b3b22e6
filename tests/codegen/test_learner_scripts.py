"""Scripts of CatBoost, histogram gradient boosting and k-nearest neighbours reproduce the engine.

Each case renders a trial's script, scores and refits it in this process as the engine's worker
does, then runs the script in a fresh process without glassml. The metrics must be equal and the
two models' predictions bitwise equal, which is what `glassml verify` checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from glassml.codegen import render_script
from glassml.engine._jobs import evaluate, load_script, refit
from tests.conftest import build_spec

CASES = [
    # (table, learner, validation): two tasks per learner, on categorical, missing, text, date and
    # high-cardinality columns. Binary targets of each learner run in the batch test below.
    ("penguins", "catboost", "cv:3"),
    ("diabetes", "catboost", "holdout:0.2"),
    ("reviews", "hist_gradient_boosting", "cv:3"),
    ("hotel", "hist_gradient_boosting", "holdout:0.2"),
    ("penguins", "knn", "auto"),
    ("hotel", "knn", "holdout:0.2"),
]


def run_script(source: str, data: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run script.py in a fresh process where importing glassml fails, writing to folder/out."""
    script = folder / "code" / "script.py"
    script.parent.mkdir()
    script.write_text(source)
    stand_in = folder / "stand_in" / "glassml"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text('raise ImportError("glassml is not installed here")\n')
    return subprocess.run(
        [sys.executable, str(script), "--training-data", str(data), "--output-dir", str(folder / "out")],
        cwd=folder,
        env={"PYTHONPATH": str(stand_in.parent), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "321"},
        capture_output=True,
        text=True,
        check=False,
    )


def model_output(model, features: pd.DataFrame) -> np.ndarray:
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    return np.asarray(getattr(model, method)(features))


@pytest.mark.parametrize(("table", "algorithm", "validation"), CASES)
def test_learner_script_reproduces_engine(table, algorithm, validation, table_path, tmp_path):
    path, target = table_path(table)
    spec = build_spec(path, target, algorithm, validation=validation)
    source = render_script(spec).source
    payload = {"source": source, "name": "trial", "data_path": str(path), "data_key": f"{table}-{validation}"}
    engine = evaluate({**payload, "n_threads": 1})
    refitted = refit({**payload, "n_threads": 1, "model_path": str(tmp_path / "engine" / "model.pkl")})

    completed = run_script(source, path, tmp_path)

    assert completed.returncode == 0, completed.stderr
    produced = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert produced == engine["metrics"]
    module = load_script(source, "trial")
    features = module.prepare_features(module.read_table(str(path)))
    with threadpool_limits(1):
        expected = model_output(joblib.load(refitted["model_path"]), features)
        actual = model_output(joblib.load(tmp_path / "out" / "model.pkl"), features)
    assert expected.shape == actual.shape
    assert expected.tobytes() == actual.tobytes()


@pytest.mark.parametrize("algorithm", ["catboost", "hist_gradient_boosting", "knn"])
def test_learner_predict_rows_independent_of_batch(algorithm, table_path):
    path, target = table_path("telco")
    module = load_script(render_script(build_spec(path, target, algorithm)).source, "trial")
    table = module.read_table(str(path))
    with threadpool_limits(1):
        model = module.train_model(*module.prepare_data(table))
        batch = module.predict(model, table.head(20))
        one_by_one = pd.concat([module.predict(model, table.iloc[[row]]) for row in range(20)])

    assert list(batch.columns) == ["prediction", "probability_No", "probability_Yes"]
    pd.testing.assert_frame_equal(batch, one_by_one)


def test_hist_gradient_boosting_text_features_dense(table_path):
    path, target = table_path("reviews")
    source = render_script(build_spec(path, target, "hist_gradient_boosting")).source

    assert "TfidfVectorizer(" in source
    assert "sparse_threshold=0.0,  # dense output, because HistGradientBoostingClassifier rejects sparse" in source


def test_learner_constructor_arguments_rendered(table_path):
    path, target = table_path("penguins")
    catboost = render_script(build_spec(path, target, "catboost")).source
    knn = render_script(build_spec(path, target, "knn")).source

    assert "from catboost import CatBoostClassifier" in catboost
    assert "        random_seed=RANDOM_SEED,\n        thread_count=N_THREADS,\n" in catboost
    assert "        allow_writing_files=False,\n" in catboost
    assert "        auto_class_weights=None,\n" in catboost
    assert "from sklearn.neighbors import KNeighborsClassifier" in knn
    assert "        n_jobs=N_THREADS,\n" in knn
    assert "RANDOM_SEED," not in knn.split("def generate_algorithm_config")[1].split("def build_model_pipeline")[0]
    assert '("preprocessing", generate_preprocessor_config()),' in knn
    assert 'SimpleImputer(strategy="median", add_indicator=True)' in knn
