"""Decide the dtype of each column read as text: number, boolean, date or text."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from glassml.data._detect import NumberFormat

# The strings pandas reads as True and False into a "boolean" column (pandas 2.x).
BOOLEAN_STRINGS = frozenset({"True", "False", "true", "false", "TRUE", "FALSE"})

# A zero followed by more digits, as in "00123": a code such as a ZIP code, not a quantity.
LEADING_ZERO = re.compile(r"[+-]?0\d")

DATE_SHAPE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
# NOTE: time zone offsets ("+01:00") are not tried, so such timestamps stay text.
TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S", " %H:%M:%S.%f", "T%H:%M:%S.%f")
YEAR_FIRST_DATES = ("%Y-%m-%d", "%Y/%m/%d")
# Each pair is (day first, month first) for one way of writing dates.
DAY_MONTH_DATES = (
    ("%d/%m/%Y", "%m/%d/%Y"),
    ("%d-%m-%Y", "%m-%d-%Y"),
    ("%d.%m.%Y", "%m.%d.%Y"),
    ("%d/%m/%y", "%m/%d/%y"),
)


@dataclass
class ColumnType:
    """The dtype chosen for one column, its date format if it contains dates, and a note for the report."""

    dtype: str
    date_format: str | None = None
    note: str | None = None


def decide_column_type(
    parser_values: Collection[str],
    text_values: Collection[str],
    number_format: NumberFormat,
    *,
    european: bool,
) -> ColumnType:
    """Decide the dtype of a column from its distinct non-missing values.

    `parser_values` are the cells as pandas' parser reads them, which decides whether "float64" and
    "boolean" reading succeed. `text_values` are the cells as the column contains them after reading
    as text, which decides the date format.
    """
    if not parser_values:
        return ColumnType("object", note="all values missing, kept as text")
    if all(value in BOOLEAN_STRINGS for value in parser_values):
        return ColumnType("boolean")

    pattern = number_format.number_pattern()
    if all(pattern.fullmatch(value.strip(" ")) for value in parser_values):
        code = next((value for value in parser_values if LEADING_ZERO.match(value.strip(" "))), None)
        if code is not None:
            return ColumnType("object", note=f"kept as text: values such as {code.strip()!r} have leading zeros")
        return ColumnType("float64")

    date_format, reason = detect_date_format(text_values, european=european)
    if date_format is not None:
        return ColumnType("object", date_format=date_format, note=reason)
    return ColumnType("object")


def detect_date_format(values: Collection[str], *, european: bool) -> tuple[str | None, str]:
    """Return the one `strftime` format that parses every value, or None, and a sentence saying why.

    When both the day-first and the month-first format parse every value, month first wins unless
    `european` is set (the file uses a semicolon separator or a decimal comma) or dots separate the
    date parts.
    """
    if not values or not all(DATE_SHAPE.match(value) for value in values):
        return None, ""
    series = pd.Series(list(values), dtype=object)
    for suffix in TIME_SUFFIXES:
        for date_format in YEAR_FIRST_DATES:
            if _parses_all(series, date_format + suffix):
                return date_format + suffix, f"dates in the format {date_format + suffix!r}"
        for day_first, month_first in DAY_MONTH_DATES:
            day_first, month_first = day_first + suffix, month_first + suffix
            parses_day_first = _parses_all(series, day_first)
            parses_month_first = _parses_all(series, month_first)
            if parses_day_first and parses_month_first:
                return _choose_ambiguous(day_first, month_first, european=european)
            if parses_day_first:
                return day_first, f"dates in the format {day_first!r} (day first: a first number is above 12)"
            if parses_month_first:
                return month_first, f"dates in the format {month_first!r} (month first: a second number is above 12)"
    return None, ""


def _choose_ambiguous(day_first: str, month_first: str, *, european: bool) -> tuple[str, str]:
    if european or "." in day_first:
        return day_first, (
            f"dates in the format {day_first!r}: no number above 12 tells day from month, "
            "so day first was chosen for a European-style file"
        )
    return month_first, (
        f"dates in the format {month_first!r}: no number above 12 tells day from month, so month first was chosen"
    )


def _parses_all(series: pd.Series, date_format: str) -> bool:
    parsed = pd.to_datetime(series, format=date_format, errors="coerce")
    return bool(parsed.notna().all())
