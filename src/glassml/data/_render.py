"""Render the reading code of a table as source text, and load that same code for glassml's own reads.

The code is written once, here, as text: the generated `script.py` embeds it and glassml executes
it, so both read every file identically. Data (column names, tokens, formats) reaches the code
only through `glassml.codegen._literals`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from glassml.codegen._literals import LINE_LENGTH, collection, comment_text, literal, width
from glassml.spec import ReadOptions

READER_FILENAME = "<glassml read_table>"


@dataclass
class ReaderSource:
    """The source text of `read_table(path)`: its import lines, module-level constants and the function."""

    imports: list[str]
    constants: str
    function: str

    def to_module(self) -> str:
        """Return the imports, constants and function as the text of one module, formatted as ruff formats it."""
        imports = "\n".join(self.imports)
        if not self.constants:
            return f"{imports}\n\n\n{self.function}\n"
        return f"{imports}\n\n{self.constants}\n\n\n{self.function}\n"


def render_reader(options: ReadOptions) -> ReaderSource:
    """Render the code that reads a table file with `options`.

    Parameters
    ----------
    options : ReadOptions
        Options from `detect_read_options`.

    Returns
    -------
    ReaderSource
        Code that needs only pandas; `read_table(path)` returns the table with string column names and
        date columns parsed. Files with missing or extra columns are read too.
    """
    if options.format == "parquet":
        return ReaderSource(["import pandas as pd"], _date_constants(options), _parquet_function(options))
    if options.format == "csv":
        return ReaderSource(["import pandas as pd"], _csv_constants(options), _csv_function(options))
    raise ValueError(f"unknown data format {options.format!r}; expected 'csv' or 'parquet'")


def load_reader(options: ReadOptions) -> Callable[[str], pd.DataFrame]:
    """Return the `read_table` function of `render_reader(options)`, compiled from its source text."""
    source = render_reader(options).to_module()
    namespace: dict[str, object] = {"__name__": "glassml_read_table"}
    exec(compile(source, READER_FILENAME, "exec"), namespace)
    return namespace["read_table"]  # type: ignore[return-value]


def _with_comment(code: str, text: str | None) -> str:
    if not text:
        return code
    room = LINE_LENGTH - width(code) - len("  # ")
    if room < 20:
        return code
    return f"{code}  # {comment_text(text, max_length=room)}"


def _allow_long_lines(text: str) -> str:
    """Mark lines that a long column name keeps over the line length, which no formatting can shorten."""
    lines = [f"{line}  # noqa: E501" if width(line) > LINE_LENGTH else line for line in text.split("\n")]
    return "\n".join(lines)


def _csv_constants(options: ReadOptions) -> str:
    detected = options.detected
    lines = [
        _with_comment(f"CSV_SEPARATOR = {literal(options.separator)}", detected.get("separator")),
        _with_comment(f"CSV_ENCODING = {literal(options.encoding)}", detected.get("encoding")),
        _with_comment(f"CSV_DECIMAL = {literal(options.decimal)}", detected.get("numbers")),
        f"CSV_THOUSANDS = {literal(options.thousands)}",
        "# Cells equal to one of these strings are missing values.",
        collection(list(options.missing_tokens), "MISSING_TOKENS = "),
        "# The dtype of every column right after reading; text columns stay object.",
        _allow_long_lines(collection(dict(options.column_dtypes), "READ_DTYPES = ")),
    ]
    dates = _date_constants(options)
    if dates:
        lines.append(dates)
    return "\n".join(lines)


def _date_constants(options: ReadOptions) -> str:
    if not options.date_formats:
        return ""
    return "\n".join(
        [
            "# Date columns stored as text, with the format that parses them; other values become NaT.",
            _allow_long_lines(collection(dict(options.date_formats), "DATE_FORMATS = ")),
        ]
    )


DOCSTRING = '    """Read a table file the way the training data was read."""'

PARSE_DATES = """\
    for name, date_format in DATE_FORMATS.items():
        if name in dataframe.columns:
            dataframe[name] = pd.to_datetime(dataframe[name], format=date_format, errors="coerce")"""

STRIP_VALUES = """\
    for name in dataframe.select_dtypes(include="object").columns:
        values = dataframe[name].str.strip()
        dataframe[name] = values.mask(values.isin(MISSING_TOKENS))"""

# Header names are stripped after reading, so READ_DTYPES (keyed by stripped names) is first mapped to
# the names as they appear in the file.
MAP_HEADER_DTYPES = """\
    header = pd.read_csv(path, sep=CSV_SEPARATOR, encoding=CSV_ENCODING, skipinitialspace=True, nrows=0).columns
    dtypes = {name: READ_DTYPES[name.strip()] for name in header if name.strip() in READ_DTYPES}"""


def _csv_function(options: ReadOptions) -> str:
    skip_initial_space = options.strip_header_whitespace or options.strip_value_whitespace
    lines = ["def read_table(path: str) -> pd.DataFrame:", DOCSTRING]
    if options.strip_header_whitespace:
        lines.append(MAP_HEADER_DTYPES)
    lines += [
        "    dataframe = pd.read_csv(",
        "        path,",
        "        sep=CSV_SEPARATOR,",
        "        encoding=CSV_ENCODING,",
        "        decimal=CSV_DECIMAL,",
        "        thousands=CSV_THOUSANDS,",
        f"        dtype={'dtypes' if options.strip_header_whitespace else 'READ_DTYPES'},",
        "        keep_default_na=False,",
        "        na_values=MISSING_TOKENS,",
        f"        skipinitialspace={skip_initial_space},",
        "        index_col=False,",
        "    )",
    ]
    if options.strip_header_whitespace:
        lines.append("    dataframe.columns = [str(name).strip() for name in dataframe.columns]")
    else:
        lines.append("    dataframe.columns = [str(name) for name in dataframe.columns]")
    if options.strip_value_whitespace:
        lines.append(STRIP_VALUES)
    if options.date_formats:
        lines.append(PARSE_DATES)
    lines.append("    return dataframe")
    return "\n".join(lines)


def _parquet_function(options: ReadOptions) -> str:
    lines = [
        "def read_table(path: str) -> pd.DataFrame:",
        DOCSTRING,
        "    # One thread: Arrow's thread pool made about one Python process in four abort at exit",
        "    # (pyarrow 25.0.1), and it would not follow N_THREADS anyway.",
        "    dataframe = pd.read_parquet(path, use_threads=False)",
        "    dataframe.columns = [str(name) for name in dataframe.columns]",
    ]
    if options.date_formats:
        lines.append(PARSE_DATES)
    lines.append("    return dataframe")
    return "\n".join(lines)
