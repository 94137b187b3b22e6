from __future__ import annotations

import pytest

from glassml.data._detect import NumberFormat, detect_number_format, detect_separator


@pytest.mark.parametrize(
    ("columns", "separator", "expected"),
    [
        ([{"1", "2"}, {"0.5", "12.25"}], ",", NumberFormat(".", None)),
        ([{"1,743", "2,168"}], ",", NumberFormat(".", ",")),
        ([{"1,743", "2,168"}], ";", NumberFormat(",", None)),
        ([{"1,5", "2"}, {"1.234", "7"}], ";", NumberFormat(",", ".")),
        ([{"1.234.567,5", "3"}], ";", NumberFormat(",", ".")),
        ([{"abc", "def"}], ",", NumberFormat(".", None)),
    ],
    ids=["plain", "us_thousands", "semicolon_decimal_comma", "european_mixed", "european", "no_numbers"],
)
def test_detect_number_format_cases(columns: list[set[str]], separator: str, expected: NumberFormat) -> None:
    number_format, _ = detect_number_format(columns, separator)

    assert number_format == expected


@pytest.mark.parametrize(
    ("value", "number_format", "matches"),
    [
        ("-1.5e3", NumberFormat(".", None), True),
        ("Infinity", NumberFormat(".", None), True),
        ("1,234.5", NumberFormat(".", ","), True),
        ("12,34.5", NumberFormat(".", ","), False),
        ("1.234,5", NumberFormat(",", "."), True),
        ("1.5", NumberFormat(",", None), False),
        ("1_000", NumberFormat(".", None), False),
    ],
)
def test_number_pattern_values(value: str, number_format: NumberFormat, matches: bool) -> None:
    assert bool(number_format.number_pattern().fullmatch(value)) is matches


def test_detect_separator_prefers_consistent_over_sniffed() -> None:
    sample = "name;price\nA;1,5\nB;2,25\nC;3,125\n"

    separator, reason = detect_separator(sample)

    assert separator == ";"
    assert "2 fields each" in reason


def test_detect_separator_reports_inconsistent_rows() -> None:
    sample = "a;b;c\n1;2;3\n4;5\n6;7;8\n"

    separator, reason = detect_separator(sample)

    assert separator == ";"
    assert "75% of sampled rows" in reason
