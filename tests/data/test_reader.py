from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from glassml.data import detect_read_options, fingerprint, load_table
from glassml.errors import UserInputError

DATA = Path(__file__).parent


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_detect_read_options_semicolon_decimal_comma(tmp_path: Path) -> None:
    path = _write(tmp_path / "prices.csv", "name;price;qty\nA;1,5;3\nB;2,25;4\nC;-0,75;5\n")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.separator == ";"
    assert options.decimal == ","
    assert options.thousands is None
    assert options.column_dtypes == {"name": "object", "price": "float64", "qty": "float64"}
    assert table["price"].tolist() == [1.5, 2.25, -0.75]


def test_detect_read_options_european_thousands(tmp_path: Path) -> None:
    path = _write(tmp_path / "sales.csv", "region;revenue\nnorth;1.234.567,5\nsouth;12,5\neast;999\n")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert (options.decimal, options.thousands) == (",", ".")
    assert table["revenue"].tolist() == [1234567.5, 12.5, 999.0]


def test_detect_read_options_quoted_thousands(tmp_path: Path) -> None:
    path = _write(tmp_path / "accounts.csv", 'account,revenue\nA,"1,234,567"\nB,"2,500.75"\nC,12.5\n')

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert (options.separator, options.decimal, options.thousands) == (",", ".", ",")
    assert table["revenue"].tolist() == [1234567.0, 2500.75, 12.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\tb\tc\n1\t2\t3\n4\t5\t6\n", "\t"),
        ("a|b|c\n1|2|3\n4|5|6\n", "|"),
        ("a,b;c\n1,2;3\n4,5;6\n", ","),
    ],
    ids=["tab", "pipe", "comma_over_semicolon"],
)
def test_detect_read_options_separator(tmp_path: Path, text: str, expected: str) -> None:
    options = detect_read_options(_write(tmp_path / "table.txt", text))

    assert options.separator == expected


def test_detect_read_options_single_column(tmp_path: Path) -> None:
    options = detect_read_options(_write(tmp_path / "one.csv", "value\n1\n2\n"))

    assert options.separator == ","
    assert options.column_dtypes == {"value": "float64"}
    assert "single column" in options.detected["separator"]


def test_detect_read_options_cp1252(tmp_path: Path) -> None:
    path = _write(tmp_path / "offers.csv", "offre,prix\nForfait 10 €,5\nTrès bien,6\n", encoding="cp1252")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.encoding == "cp1252"
    assert "0x80-0x9f" in options.detected["encoding"]
    assert table["offre"].tolist() == ["Forfait 10 €", "Très bien"]


def test_detect_read_options_latin1(tmp_path: Path) -> None:
    path = _write(tmp_path / "towns.csv", "ville,n\nÎle-de-France,1\nCôte,2\n", encoding="latin-1")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.encoding == "latin-1"
    assert table["ville"].tolist() == ["Île-de-France", "Côte"]


def test_detect_read_options_latin1_with_control_bytes(tmp_path: Path) -> None:
    path = tmp_path / "control.csv"
    path.write_bytes(b"name,n\ncaf\xe9\x81,1\nx,2\n")

    options = detect_read_options(path)

    assert options.encoding == "latin-1"
    assert "0x81" in options.detected["encoding"]


def test_detect_read_options_utf8_with_bom(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.csv", "name,n\nzoë,1\n", encoding="utf-8-sig")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.encoding == "utf-8-sig"
    assert list(table.columns) == ["name", "n"]


def test_detect_read_options_header_and_value_whitespace(tmp_path: Path) -> None:
    path = _write(tmp_path / "spaces.csv", "id , age,plan ,flag\n1, 62 , premium ,True\n2,58,basic , False\n3, ,  ,\n")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.strip_header_whitespace
    assert options.strip_value_whitespace
    assert list(table.columns) == ["id", "age", "plan", "flag"]
    assert options.column_dtypes == {"id": "float64", "age": "float64", "plan": "object", "flag": "boolean"}
    assert table["plan"].tolist()[:2] == ["premium", "basic"]
    assert pd.isna(table["plan"].iloc[2])
    assert pd.isna(table["age"].iloc[2])
    assert table["flag"].tolist()[:2] == [True, False]


def test_detect_read_options_missing_tokens(tmp_path: Path) -> None:
    path = _write(tmp_path / "gaps.csv", "x,y,label\n1.5,a,yes\nNA,?,no\n-,null,N/A\nnan,None,\n2,b,NULL\n")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.column_dtypes["x"] == "float64"
    assert options.missing_tokens == [
        "",
        "NA",
        "N/A",
        "n/a",
        "NaN",
        "nan",
        "null",
        "NULL",
        "None",
        "?",
        "-",
        "unknown",
        "Unknown",
    ]
    assert table["x"].isna().tolist() == [False, True, True, True, False]
    assert table["y"].isna().tolist() == [False, True, True, True, False]
    assert table["label"].isna().tolist() == [False, False, True, True, True]


def test_detect_read_options_leading_zeros_stay_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "zip.csv", "zip,n\n00123,1\n04567,2\n10001,3\n")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.column_dtypes["zip"] == "object"
    assert "'00123'" in options.detected["column 'zip'"] or "'04567'" in options.detected["column 'zip'"]
    assert table["zip"].tolist() == ["00123", "04567", "10001"]


def test_detect_read_options_booleans_and_infinities(tmp_path: Path) -> None:
    path = _write(tmp_path / "flags.csv", "flag,ratio\nTrue,inf\nfalse,-inf\n,1e39\n")

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.column_dtypes == {"flag": "boolean", "ratio": "float64"}
    assert table["flag"].tolist()[:2] == [True, False]
    assert pd.isna(table["flag"].iloc[2])
    assert table["ratio"].tolist() == [math.inf, -math.inf, 1e39]


@pytest.mark.parametrize(
    ("rows", "separator", "expected_format"),
    [
        (["2024-01-31", "2023-12-01"], ",", "%Y-%m-%d"),
        (["2024-01-31 10:00:00", "2023-12-01 23:59:59"], ",", "%Y-%m-%d %H:%M:%S"),
        (["25/03/2024", "01/04/2024"], ",", "%d/%m/%Y"),
        (["03/25/2024", "04/01/2024"], ",", "%m/%d/%Y"),
        (["03/04/2024", "04/01/2024"], ",", "%m/%d/%Y"),
        (["03/04/2024", "04/01/2024"], ";", "%d/%m/%Y"),
        (["03.04.2024", "04.01.2024"], ",", "%d.%m.%Y"),
    ],
    ids=["iso", "iso_time", "day_first", "month_first", "ambiguous", "ambiguous_european", "dots"],
)
def test_detect_read_options_dates(tmp_path: Path, rows: list[str], separator: str, expected_format: str) -> None:
    text = f"when{separator}n\n" + "".join(f"{row}{separator}{index}\n" for index, row in enumerate(rows))
    path = _write(tmp_path / "dates.csv", text)

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.column_dtypes["when"] == "object"
    assert options.date_formats == {"when": expected_format}
    assert "when" in " ".join(options.detected)
    assert pd.api.types.is_datetime64_any_dtype(table["when"])
    assert table["when"].notna().all()


def test_detect_read_options_day_first_dates_parse_correctly(tmp_path: Path) -> None:
    path = _write(tmp_path / "dates.csv", "when,n\n25/03/2024,1\n01/04/2024,2\n,3\n")

    table, options = load_table(path)

    assert "day first" in options.detected["column 'when'"]
    assert table["when"].tolist()[:2] == [pd.Timestamp("2024-03-25"), pd.Timestamp("2024-04-01")]
    assert pd.isna(table["when"].iloc[2])


def test_detect_read_options_mixed_dates_stay_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "dates.csv", "when,n\n2024-01-31,1\n31/01/2024,2\n")

    options = detect_read_options(path)

    assert options.date_formats == {}
    assert options.column_dtypes["when"] == "object"


def test_detect_read_options_all_missing_column(tmp_path: Path) -> None:
    options = detect_read_options(_write(tmp_path / "empty_column.csv", "a,b\n1,\n2,NA\n"))

    assert options.column_dtypes["b"] == "object"


def test_detect_read_options_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="data file not found: .*nope.csv"):
        detect_read_options(tmp_path / "nope.csv")


def test_detect_read_options_unknown_extension(tmp_path: Path) -> None:
    path = _write(tmp_path / "table.xlsx", "a,b\n1,2\n")

    with pytest.raises(UserInputError, match=r"unknown file extension '.xlsx'; supported formats are .csv, .tsv"):
        detect_read_options(path)


def test_detect_read_options_binary_content(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")

    with pytest.raises(UserInputError, match="binary data .* supported formats are"):
        detect_read_options(path)


def test_detect_read_options_not_parquet(tmp_path: Path) -> None:
    path = _write(tmp_path / "table.parquet", "a,b\n1,2\n")

    with pytest.raises(UserInputError, match="not a Parquet file"):
        detect_read_options(path)


def test_detect_read_options_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="the file is empty"):
        detect_read_options(_write(tmp_path / "empty.csv", "\n"))


def test_detect_read_options_ragged_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "ragged.csv", "a,b\n1,2\n3,4,5,6\n7,8\n")

    with pytest.raises(UserInputError, match="as many fields as the header"):
        detect_read_options(path)


def test_detect_read_options_duplicate_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.csv", "customer_id,amount,region, amount,churned\nC1,1,s,2,no\n")

    with pytest.raises(UserInputError, match=r"repeats column names: 'amount' \(columns 2, 4\); rename"):
        detect_read_options(path)


def test_detect_read_options_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "count": [1, 2, 3],
            "price": [1.5, None, 3.0],
            "when": ["2024-01-31", "2024-02-01", None],
            "flag": [True, False, True],
        }
    )
    path = tmp_path / "table.parquet"
    frame.to_parquet(path)

    options = detect_read_options(path)
    table, _ = load_table(path, options)

    assert options.format == "parquet"
    assert options.column_dtypes == {"count": "int64", "price": "float64", "when": "object", "flag": "bool"}
    assert options.date_formats == {"when": "%Y-%m-%d"}
    assert list(table.columns) == ["count", "price", "when", "flag"]
    assert table["when"].iloc[0] == pd.Timestamp("2024-01-31")


def test_detect_read_options_cp1252_case_file() -> None:
    table, options = load_table(DATA / "B21_cp1252_encoded.csv")

    assert options.encoding == "cp1252"
    assert "Prix (€)" in table.columns
    assert options.column_dtypes["Prix (€)"] == "float64"
    assert {"Forfait 10 €", "Offre spéciale"} <= set(table["Offre"])
    assert "Île-de-France" in set(table["Région"])


def test_detect_read_options_thousands_case_file() -> None:
    table, options = load_table(DATA / "B23_thousands_separators.csv")

    assert (options.decimal, options.thousands) == (".", ",")
    assert options.column_dtypes["revenue"] == "float64"
    assert options.column_dtypes["employees"] == "float64"
    assert table["revenue"].iloc[2] == 5523.23
    assert table["employees"].iloc[0] == 1743.0


def test_detect_read_options_header_whitespace_case_file() -> None:
    table, options = load_table(DATA / "B28_header_whitespace.csv")

    assert options.strip_header_whitespace
    assert list(table.columns) == ["id", "age", "income", "plan", "churned"]
    assert set(table["churned"].dropna()) == {"yes", "no"}
    assert set(table["plan"].dropna()) == {"premium", "basic"}


def test_load_table_reports_type_mismatch(tmp_path: Path) -> None:
    training = _write(tmp_path / "train.csv", "a,b\n1,x\n2,y\n")
    prediction = _write(tmp_path / "predict.csv", "a,b\nmany,x\n")
    options = detect_read_options(training)

    with pytest.raises(UserInputError, match="cannot read .*predict.csv with the read options of the training data"):
        load_table(prediction, options)


def test_load_table_missing_file_with_options(tmp_path: Path) -> None:
    options = detect_read_options(_write(tmp_path / "train.csv", "a,b\n1,x\n"))

    with pytest.raises(UserInputError, match="data file not found"):
        load_table(tmp_path / "gone.csv", options)


def test_fingerprint_counts_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "thousands.csv"
    shutil.copy(DATA / "B23_thousands_separators.csv", path)

    computed = fingerprint(path)
    given = fingerprint(path, rows=7, columns=2)

    assert computed.path == str(path.resolve())
    assert (computed.rows, computed.columns) == (300, 5)
    assert computed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (given.rows, given.columns) == (7, 2)


def test_fingerprint_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="data file not found"):
        fingerprint(tmp_path / "gone.parquet")


def test_load_table_header_whitespace_only(tmp_path: Path) -> None:
    training = _write(tmp_path / "train.csv", "price ,flag\n1.5,True\n2,False\n")
    prediction = _write(tmp_path / "predict.csv", "flag, price \nTrue,7\n")
    options = detect_read_options(training)

    table, _ = load_table(prediction, options)

    assert options.strip_header_whitespace
    assert not options.strip_value_whitespace
    assert list(table.columns) == ["flag", "price"]
    assert str(table["price"].dtype) == "float64"
    assert str(table["flag"].dtype) == "boolean"
