"""Detect how a table file is read, read it, and fingerprint it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from glassml.data._detect import (
    MISSING_TOKENS,
    SUPPORTED_FORMATS,
    NumberFormat,
    detect_encoding,
    detect_number_format,
    detect_separator,
    read_header,
    read_sample,
)
from glassml.data._dtypes import decide_column_type, detect_date_format
from glassml.data._render import load_reader
from glassml.errors import UserInputError
from glassml.spec import DataFingerprint, ReadOptions

CSV_SUFFIXES = {".csv": ",", ".txt": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


def detect_read_options(path: str | Path) -> ReadOptions:
    """Detect how to read a CSV or Parquet file so that every later read gives the same table.

    Parameters
    ----------
    path : str or Path
        A .csv, .tsv or .txt file with comma, semicolon, tab or pipe separators, or a .parquet file.

    Returns
    -------
    ReadOptions
        The options `render_reader` turns into reading code; `detected` describes what was found and how.

    Raises
    ------
    UserInputError
        If the file is missing, has an unsupported extension, cannot be parsed, or repeats a column name.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"data file not found: {path}; check the path (relative paths start at {Path.cwd()})")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _detect_parquet(path)
    if suffix in CSV_SUFFIXES:
        return _detect_csv(path, CSV_SUFFIXES[suffix])
    raise UserInputError(f"cannot read {path}: unknown file extension {path.suffix!r}; {SUPPORTED_FORMATS}")


def _detect_csv(path: Path, preferred_separator: str) -> ReadOptions:
    detected: dict[str, str] = {}
    encoding, detected["encoding"] = detect_encoding(path)
    sample = read_sample(path, encoding)
    if not sample.strip():
        raise UserInputError(f"cannot read {path}: the file is empty; expected a header row and data rows")
    separator, detected["separator"] = detect_separator(sample, preferred_separator)
    header = read_header(sample, separator)
    _check_duplicate_names(path, [name.strip() for name in header])

    text = _read_as_text(path, separator, encoding)
    strip_header = any(name != name.strip() for name in text.columns)
    distinct = {name: set(text[name].unique()) for name in text.columns}
    strip_values = any(value != value.strip() for values in distinct.values() for value in values)
    if strip_header:
        detected["header"] = "header names have surrounding whitespace, which is stripped"
    if strip_values:
        detected["values"] = "values have surrounding whitespace, which is stripped; blank cells are missing"

    stripped = {name: _non_missing({value.strip() for value in values}) for name, values in distinct.items()}
    number_format, detected["numbers"] = detect_number_format(stripped.values(), separator)
    detected["missing_tokens"] = "cells equal to one of " + ", ".join(repr(token) for token in MISSING_TOKENS)

    column_dtypes, date_formats = _decide_csv_types(
        distinct,
        number_format,
        skip_initial_space=strip_header or strip_values,
        strip_values=strip_values,
        european=separator == ";" or number_format.decimal == ",",
        detected=detected,
    )
    return ReadOptions(
        format="csv",
        column_dtypes=column_dtypes,
        separator=separator,
        encoding=encoding,
        decimal=number_format.decimal,
        thousands=number_format.thousands,
        missing_tokens=list(MISSING_TOKENS),
        date_formats=date_formats,
        strip_header_whitespace=strip_header,
        strip_value_whitespace=strip_values,
        detected=detected,
    )


def _read_as_text(path: Path, separator: str, encoding: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=separator, encoding=encoding, dtype=str, keep_default_na=False, index_col=False)
    except pd.errors.ParserError as error:
        message = str(error).strip()
        raise UserInputError(
            f"cannot read {path} with separator {separator!r}: {message}; "
            "check that every row has as many fields as the header and that quotes are balanced"
        ) from error
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserInputError(f"cannot read {path} as a table: {error}; {SUPPORTED_FORMATS}") from error


def _check_duplicate_names(path: Path, names: list[str]) -> None:
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(position)
    repeated = {name: where for name, where in positions.items() if len(where) > 1}
    if repeated:
        listed = "; ".join(
            f"{name!r} (columns {', '.join(str(position) for position in where)})" for name, where in repeated.items()
        )
        raise UserInputError(f"{path} repeats column names: {listed}; rename the columns so that every name is unique")


def _non_missing(values: set[str]) -> set[str]:
    return {value for value in values if value not in MISSING_TOKENS}


def _decide_csv_types(
    distinct: dict[str, set[str]],
    number_format: NumberFormat,
    *,
    skip_initial_space: bool,
    strip_values: bool,
    european: bool,
    detected: dict[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    column_dtypes: dict[str, str] = {}
    date_formats: dict[str, str] = {}
    for raw_name, values in distinct.items():
        name = raw_name.strip()
        # pandas' parser skips spaces after the separator when skipinitialspace is set.
        parser_values = _non_missing({value.lstrip(" ") for value in values} if skip_initial_space else values)
        text_values = _non_missing({value.strip() for value in values} if strip_values else values)
        column_type = decide_column_type(parser_values, text_values, number_format, european=european)

        column_dtypes[name] = column_type.dtype
        if column_type.date_format is not None:
            date_formats[name] = column_type.date_format
        if column_type.note is not None:
            detected[f"column {name!r}"] = column_type.note
    return column_dtypes, date_formats


def _detect_parquet(path: Path) -> ReadOptions:
    dataframe = _read_parquet(path)
    names = [str(name) for name in dataframe.columns]
    _check_duplicate_names(path, names)
    dataframe.columns = names

    detected = {"format": "Parquet file; column types come from the file"}
    date_formats: dict[str, str] = {}
    for name in names:
        values = dataframe[name].dropna()
        if dataframe[name].dtype != object or not all(isinstance(value, str) for value in values):
            continue
        date_format, reason = detect_date_format(set(values), european=False)
        if date_format is not None:
            date_formats[name] = date_format
            detected[f"column {name!r}"] = reason
    return ReadOptions(
        format="parquet",
        column_dtypes={name: str(dtype) for name, dtype in dataframe.dtypes.items()},
        date_formats=date_formats,
        detected=detected,
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    with path.open("rb") as file:
        magic = file.read(4)
    if magic != b"PAR1":
        raise UserInputError(f"cannot read {path}: it is not a Parquet file (no PAR1 header); {SUPPORTED_FORMATS}")
    try:
        return pd.read_parquet(path, use_threads=False)  # threads made processes abort at exit
    except (OSError, ValueError) as error:
        raise UserInputError(f"cannot read {path} as a Parquet file: {error}") from error


def load_table(path: str | Path, options: ReadOptions | None = None) -> tuple[pd.DataFrame, ReadOptions]:
    """Read a table with the rendered reading code, detecting the read options first when none are given.

    Parameters
    ----------
    path : str or Path
        The table file.
    options : ReadOptions, optional
        Options detected on the training data; prediction files are read with those of training.

    Returns
    -------
    tuple of (DataFrame, ReadOptions)
        The table and the options it was read with.

    Raises
    ------
    UserInputError
        If the file cannot be read with the options, for example a text value in a numeric column.
    """
    if options is None:
        options = detect_read_options(path)
    elif not Path(path).is_file():
        raise UserInputError(f"data file not found: {path}; check the path (relative paths start at {Path.cwd()})")
    read_table = load_reader(options)
    try:
        dataframe = read_table(str(path))
    except (ValueError, UnicodeDecodeError, OSError) as error:
        raise UserInputError(
            f"cannot read {path} with the read options of the training data ({options.format}, "
            f"separator {options.separator!r}, encoding {options.encoding!r}): {error}; "
            "check that the file has the same layout and column types as the training data"
        ) from error
    return dataframe, options


def fingerprint(path: str | Path, *, rows: int | None = None, columns: int | None = None) -> DataFingerprint:
    """Describe a table file by its absolute path, its size and the sha256 of its bytes.

    Parameters
    ----------
    path : str or Path
        The table file.
    rows, columns : int, optional
        The table's shape when the caller has read it already; otherwise the file is read to count them.

    Returns
    -------
    DataFingerprint
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise UserInputError(f"data file not found: {path}; check the path")
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if rows is None or columns is None:
        dataframe, _ = load_table(path)
        rows, columns = dataframe.shape
    return DataFingerprint(path=str(path), rows=int(rows), columns=int(columns), sha256=digest)


def layout_differences(options: ReadOptions, other: ReadOptions) -> list[str]:
    """Return how `other` is laid out differently from `options`, as short phrases (empty when alike)."""
    differences = []
    for name in ("format", "separator", "encoding", "decimal", "thousands"):
        mine, theirs = getattr(options, name), getattr(other, name)
        if mine != theirs and not (options.format == other.format == "parquet"):
            differences.append(f"{name} {theirs!r} instead of {mine!r}")
    return differences
