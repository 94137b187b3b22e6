from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from glassml.data import ReaderSource, detect_read_options, load_reader, render_reader
from glassml.spec import ReadOptions

PROJECT_RUFF = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ruff"
RUFF = str(PROJECT_RUFF) if PROJECT_RUFF.exists() else shutil.which("ruff")

NASTY_NAMES = [
    'say "hi"',
    "it's",
    "back\\slash",
    "new\nline",
    'triple """ quotes',
    "tab\tand 'both' \"quotes\"",
    "ünïcödé €",
    "x" * 150,
]


def _csv_options(**overrides: object) -> ReadOptions:
    values: dict[str, object] = {
        "format": "csv",
        "column_dtypes": {name: "object" for name in NASTY_NAMES} | {"amount": "float64", "flag": "boolean"},
        "separator": ";",
        "encoding": "cp1252",
        "decimal": ",",
        "thousands": ".",
        "missing_tokens": ["", "NA", "?"],
        "date_formats": {'when "x"\n': "%d/%m/%Y"},
        "strip_header_whitespace": True,
        "strip_value_whitespace": True,
        "detected": {"encoding": 'cp1252 with a "quote" and a\nnewline """', "separator": "';'" * 60},
    }
    values.update(overrides)
    return ReadOptions(**values)  # type: ignore[arg-type]


def _run_ruff(module: Path) -> list[subprocess.CompletedProcess[str]]:
    check = ["check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", str(module)]
    format_check = ["format", "--isolated", "--check", "--diff", "--line-length", "120", str(module)]
    return [
        subprocess.run([str(RUFF), *arguments], capture_output=True, text=True) for arguments in (check, format_check)
    ]


@pytest.mark.parametrize(
    "options",
    [
        _csv_options(),
        _csv_options(strip_header_whitespace=False, strip_value_whitespace=False, date_formats={}, thousands=None),
        ReadOptions(format="parquet", column_dtypes={"a": "int64"}),
        ReadOptions(format="parquet", column_dtypes={"d": "object"}, date_formats={"d": "%Y-%m-%d"}),
    ],
    ids=["csv_all_options", "csv_plain", "parquet", "parquet_dates"],
)
@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
def test_render_reader_passes_ruff(options: ReadOptions, tmp_path: Path) -> None:
    module = tmp_path / "reader.py"
    module.write_text(render_reader(options).to_module())

    for result in _run_ruff(module):
        assert result.returncode == 0, result.stdout + result.stderr


def test_render_reader_keeps_names_as_literals() -> None:
    source = render_reader(_csv_options())

    namespace: dict[str, object] = {}
    exec(compile(source.to_module(), "reader", "exec"), namespace)

    assert source.imports == ["import pandas as pd"]
    assert list(namespace["READ_DTYPES"]) == [*NASTY_NAMES, "amount", "flag"]  # type: ignore[call-overload]
    assert namespace["DATE_FORMATS"] == {'when "x"\n': "%d/%m/%Y"}
    assert namespace["CSV_SEPARATOR"] == ";"
    assert namespace["CSV_THOUSANDS"] == "."
    assert 'triple """ quotes' not in source.function


def test_render_reader_only_renders_needed_constants() -> None:
    options = _csv_options(date_formats={}, strip_header_whitespace=False, strip_value_whitespace=False)

    source = render_reader(options)

    assert "DATE_FORMATS" not in source.constants
    assert "DATE_FORMATS" not in source.function
    assert "str.strip()" not in source.function
    assert "skipinitialspace=False" in source.function


def test_render_reader_rejects_unknown_format() -> None:
    options = ReadOptions(format="excel", column_dtypes={})  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="unknown data format 'excel'"):
        render_reader(options)


def test_reader_source_module_without_constants() -> None:
    source = ReaderSource(["import pandas as pd"], "", "def read_table(path: str) -> pd.DataFrame:\n    return 1")

    assert source.to_module() == "import pandas as pd\n\n\ndef read_table(path: str) -> pd.DataFrame:\n    return 1\n"


def test_load_reader_reads_prediction_file_layout(tmp_path: Path) -> None:
    training = tmp_path / "train.csv"
    training.write_text("id;price;when;label\n1;1,5;03/04/2024;yes\n2;2,25;25/12/2023;no\n3;3;01/01/2024;yes\n")
    prediction = tmp_path / "predict.csv"
    prediction.write_text("price;extra;id;when\n4,5;x;7;13/01/2024\n")
    options = detect_read_options(training)

    table = load_reader(options)(str(prediction))

    assert list(table.columns) == ["price", "extra", "id", "when"]
    assert table["price"].tolist() == [4.5]
    assert table["when"].tolist() == [pd.Timestamp("2024-01-13")]
    assert str(table["id"].dtype) == "float64"


def test_load_reader_executes_rendered_source(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,x\n")
    options = detect_read_options(path)

    read_table = load_reader(options)

    assert read_table.__code__.co_filename == "<glassml read_table>"
    assert read_table.__doc__ == "Read a table file the way the training data was read."
