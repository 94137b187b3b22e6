"""Rendered scripts lint clean, run without glassml, and reproduce the engine's score."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from glassml.codegen import render_script
from glassml.engine._jobs import evaluate
from glassml.search import ALGORITHMS
from tests.conftest import TABLES, build_spec

RUFF = Path(sys.executable).parent / "ruff"
RUFF_OPTIONS = ["--line-length", "120"]


def _ruff(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RUFF), *arguments], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_render_script_lints_clean_for_every_learner(table, table_path, tmp_path):
    path, target = table_path(table)
    scripts = []
    for name in ALGORITHMS:
        script = tmp_path / f"script_{name}.py"
        script.write_text(render_script(build_spec(path, target, name)).source)
        scripts.append(str(script))

    check = _ruff("check", "--select", "E,F,W,I,B,UP", *RUFF_OPTIONS, *scripts)
    assert check.returncode == 0, check.stdout
    formatted = _ruff("format", "--check", *RUFF_OPTIONS, *scripts)
    assert formatted.returncode == 0, formatted.stdout


@pytest.mark.parametrize(
    ("table", "algorithm", "validation"),
    [
        ("telco", "lightgbm", "auto"),
        ("hotel", "linear", "holdout:0.2"),
        ("reviews", "xgboost", "cv:3"),
    ],
)
def test_rendered_script_reproduces_engine_score(table, algorithm, validation, table_path, tmp_path):
    path, target = table_path(table)
    spec = build_spec(path, target, algorithm, validation=validation)
    source = render_script(spec).source
    engine = evaluate(
        {"source": source, "name": "trial", "data_path": str(path), "data_key": f"{table}-{validation}", "n_threads": 1}
    )

    script = tmp_path / "code" / "script.py"
    script.parent.mkdir()
    script.write_text(source)
    stand_in = tmp_path / "stand_in" / "glassml"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text('raise ImportError("glassml is not installed here")\n')
    completed = subprocess.run(
        [sys.executable, str(script), "--training-data", str(path), "--output-dir", str(tmp_path / "out")],
        cwd=tmp_path,
        env={"PYTHONPATH": str(stand_in.parent), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "123"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    produced = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert produced == engine["metrics"]
    assert list(produced)[0] == spec.metric
    assert (tmp_path / "out" / "model.pkl").exists()


def test_rendered_script_names_dropped_columns(table_path):
    path, target = table_path("reviews")
    spec = build_spec(path, target, "lightgbm")
    source = render_script(spec).source

    assert "TEXT_COLUMNS = [" in source
    assert "TfidfVectorizer(" in source
    assert "import glassml" not in source
