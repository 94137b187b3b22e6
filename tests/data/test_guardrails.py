from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glassml.data import detect_read_options, infer_target, load_reader, profile_columns
from glassml.data._guardrails import (
    GUARDRAIL_NAMES,
    Guardrail,
    check_guardrails,
    count_missing_tokens,
    emit,
    guardrails_table,
)
from glassml.engine._validation import plan_validation
from glassml.errors import (
    DuplicateRowsWarning,
    GlassmlWarning,
    GuardrailWarning,
    MissingTargetWarning,
    TargetLeakageWarning,
)
from glassml.metrics import resolve_metric
from glassml.spec import ReadOptions


def _guardrails(
    table: pd.DataFrame,
    target_column: str = "y",
    *,
    validation: str = "auto",
    metric: str | None = None,
    ignore_columns: tuple[str, ...] = (),
    purpose_overrides: dict[str, str] | None = None,
    read: ReadOptions | None = None,
    raw_token_counts: dict[str, dict[str, int]] | None = None,
) -> dict[str, Guardrail]:
    """Profile the table with the real profiling code, as the engine does, and check it."""
    labelled = table[table[target_column].notna()]
    target = infer_target(labelled[target_column])
    columns = profile_columns(table, target_column, ignore_columns=ignore_columns, purpose_overrides=purpose_overrides)
    y = labelled[target_column]
    if target.class_labels is not None:
        y = y.astype(target.dtype)
    guardrails = check_guardrails(
        table,
        target=target,
        columns=columns,
        validation=plan_validation(validation, None, target, y, len(labelled)),
        dropped_target_rows=len(table) - len(labelled),
        metric=resolve_metric(target.task, metric),
        read=read,
        raw_token_counts=raw_token_counts,
    )
    return {guardrail.name: guardrail for guardrail in guardrails}


def _clean_table(n_rows: int = 1_200, seed: int = 0) -> pd.DataFrame:
    """Return a table that passes every guardrail, with enough rows, balanced classes and no gaps or leaks."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n_rows)
    x2 = rng.normal(size=n_rows)
    colour = rng.choice(["red", "green", "blue"], n_rows)
    signal = x1 + 0.5 * x2 + (colour == "red") + rng.normal(scale=1.0, size=n_rows)
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "y": np.where(signal > 0.3, "yes", "no")})


def test_check_guardrails_clean_table_passes_all() -> None:
    guardrails = _guardrails(_clean_table())

    assert list(guardrails) == list(GUARDRAIL_NAMES)
    for name, guardrail in guardrails.items():
        assert guardrail.status == "passed", f"{name}: {guardrail.detail}"
        assert guardrail.columns == []
        assert guardrail.detail
        assert issubclass(guardrail.warning, GuardrailWarning)
        assert issubclass(guardrail.warning, GlassmlWarning)


def test_missing_values_penguins_fixed(table_path) -> None:
    path, target = table_path("penguins")
    table = pd.read_parquet(path)

    guardrail = _guardrails(table, target)["missing_values"]

    assert guardrail.status == "fixed"
    assert "bill_length_mm" in guardrail.columns
    assert "sex" in guardrail.columns
    n_missing_sex = int(table.loc[table[target].notna(), "sex"].isna().sum())
    assert f"'sex' ({n_missing_sex} rows)" in guardrail.detail
    assert "median" in guardrail.detail
    assert "category of their own" in guardrail.detail


def test_missing_values_text_only_wording() -> None:
    table = _clean_table()
    table["colour"] = table["colour"].mask(np.arange(len(table)) < 4)

    guardrail = _guardrails(table)["missing_values"]

    assert guardrail.status == "fixed"
    assert guardrail.columns == ["colour"]
    assert "'colour' (4 rows)" in guardrail.detail
    assert "median" not in guardrail.detail


def test_missing_target_fixed_with_count() -> None:
    table = _clean_table()
    table["y"] = table["y"].mask(np.arange(len(table)) % 100 == 0)

    guardrail = _guardrails(table)["missing_target"]

    assert guardrail.status == "fixed"
    assert guardrail.columns == ["y"]
    assert guardrail.detail == "12 rows without a value in target 'y' were dropped. Training uses the other 1,188 rows."


def test_dropped_columns_lists_automatic_drops_only() -> None:
    table = _clean_table()
    table["country"] = "US"
    table["empty"] = np.nan
    table["customer_id"] = [f"C{index:05d}" for index in range(len(table))]
    table["notes"] = "kept out by the user"
    table["x3"] = np.arange(len(table)) % 7

    guardrail = _guardrails(table, ignore_columns=("notes",), purpose_overrides={"x3": "ignore"})["dropped_columns"]

    assert guardrail.status == "fixed"
    assert guardrail.columns == ["country", "empty", "customer_id"]
    assert "'country': constant (one value: 'US')" in guardrail.detail
    assert "'empty': all values missing" in guardrail.detail
    assert "'customer_id': identifier" in guardrail.detail
    assert "notes" not in guardrail.detail
    assert "x3" not in guardrail.detail


def test_dropped_columns_long_list_shortened() -> None:
    table = _clean_table()
    for index in range(12):
        table[f"constant_{index}"] = index

    guardrail = _guardrails(table)["dropped_columns"]

    assert len(guardrail.columns) == 12
    assert "'constant_7'" in guardrail.detail
    assert "'constant_8'" not in guardrail.detail
    assert "and 4 more" in guardrail.detail


def test_high_cardinality_fixed_with_distinct_count() -> None:
    table = _clean_table()
    table["city"] = [f"city {index % 30}" for index in range(len(table))]

    guardrail = _guardrails(table)["high_cardinality"]

    assert guardrail.status == "fixed"
    assert guardrail.columns == ["city"]
    assert "'city' (30 distinct values)" in guardrail.detail
    assert "not one-hot" in guardrail.detail


def _imbalanced_table() -> pd.DataFrame:
    table = _clean_table()
    table["y"] = np.where(np.arange(len(table)) % 20 == 0, "fraud", "normal")
    return table


def test_class_imbalance_accuracy_suggests_metrics() -> None:
    guardrail = _guardrails(_imbalanced_table(), metric="accuracy")["class_imbalance"]

    assert guardrail.status == "alerted"
    assert guardrail.columns == ["y"]
    assert "('normal', 1,140 rows) has 19.0 times the rows of the smallest ('fraud', 60 rows)" in guardrail.detail
    assert "always predicting 'normal' scores 0.950" in guardrail.detail
    assert "--metric balanced_accuracy or --metric log_loss" in guardrail.detail
    assert "later trials try balanced class weights" in guardrail.detail


def test_class_imbalance_other_metric_named() -> None:
    guardrail = _guardrails(_imbalanced_table())["class_imbalance"]

    assert guardrail.status == "alerted"
    assert "Candidates are ranked by roc_auc" in guardrail.detail
    assert "--metric" not in guardrail.detail


def test_class_imbalance_below_ratio_passes() -> None:
    table = _clean_table()
    table["y"] = np.where(np.arange(len(table)) % 5 == 0, "rare", "common")

    guardrail = _guardrails(table)["class_imbalance"]

    assert guardrail.status == "passed"
    assert "4.0 times" in guardrail.detail


def _rare_class_table() -> pd.DataFrame:
    # Class counts 200/150/46/3/1, as in a multiclass table with a class seen once.
    rng = np.random.default_rng(3)
    labels = ["A"] * 200 + ["B"] * 150 + ["C"] * 46 + ["D"] * 3 + ["E"]
    return pd.DataFrame({"f1": rng.normal(size=400), "f2": rng.normal(size=400), "y": rng.permutation(labels)})


def test_rare_classes_cv_alerted() -> None:
    guardrail = _guardrails(_rare_class_table())["rare_classes"]

    assert guardrail.status == "alerted"
    assert guardrail.columns == ["y"]
    assert "fewer than the 5 rows that stratified 5-fold cross-validation needs" in guardrail.detail
    assert "'D' (3 rows), 'E' (1 row)" in guardrail.detail
    assert "not stratified" in guardrail.detail


def test_rare_classes_holdout_needs_two_rows() -> None:
    guardrail = _guardrails(_rare_class_table(), validation="holdout:0.2")["rare_classes"]

    assert guardrail.status == "alerted"
    assert "'E' (1 row)" in guardrail.detail
    assert "'D'" not in guardrail.detail


def test_rare_classes_regression_not_applicable() -> None:
    table = _clean_table()
    table["y"] = table["x1"] * 2.5 + np.random.default_rng(0).normal(size=len(table))

    guardrails = _guardrails(table)

    assert guardrails["rare_classes"].status == "passed"
    assert guardrails["class_imbalance"].detail == "Not applicable: regression target."


def test_infinite_values_fixed_per_column() -> None:
    table = _clean_table()
    table.loc[[0, 1], "x1"] = np.inf
    table.loc[2, "x2"] = -np.inf
    table.loc[[3, 4, 5], "x2"] = 1e39
    table.loc[6, "x2"] = 3e38  # within float32's range

    guardrail = _guardrails(table)["infinite_values"]

    assert guardrail.status == "fixed"
    assert guardrail.columns == ["x1", "x2"]
    assert "'x1' (2 rows), 'x2' (4 rows)" in guardrail.detail
    assert "count as missing" in guardrail.detail


def _write_csv_with_tokens(path: Path) -> None:
    rng = np.random.default_rng(4)
    amounts = [f"{value:.2f}" for value in rng.normal(100, 20, 60)]
    amounts[0] = amounts[1] = "NA"
    amounts[2] = "-"
    amounts[3] = ""
    labels = rng.choice(["yes", "no"], 60)
    labels[5] = "NA"
    lines = ["amount,label"] + [f"{amount},{label}" for amount, label in zip(amounts, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def test_missing_tokens_csv_numeric_column_fixed(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    _write_csv_with_tokens(path)
    read = detect_read_options(path)
    table = load_reader(read)(str(path))
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    counts = count_missing_tokens(text, read.missing_tokens)

    guardrail = _guardrails(table, "label", read=read, raw_token_counts=counts)["missing_tokens"]

    assert read.column_dtypes["amount"] == "float64"
    assert counts == {"amount": {"NA": 2, "-": 1, "": 1}, "label": {"NA": 1}}
    assert guardrail.status == "fixed"
    assert guardrail.columns == ["amount"]
    assert "'amount' ('NA' 2 times, '-' once)" in guardrail.detail
    assert "label" not in guardrail.detail


def test_missing_tokens_without_counts_passes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    _write_csv_with_tokens(path)
    read = detect_read_options(path)
    table = load_reader(read)(str(path))

    guardrail = _guardrails(table, "label", read=read)["missing_tokens"]

    assert guardrail.status == "passed"
    assert guardrail.detail.startswith("Not checked")


def test_missing_tokens_parquet_not_applicable(table_path) -> None:
    path, target = table_path("penguins")
    read = detect_read_options(path)
    table = load_reader(read)(str(path))

    guardrail = _guardrails(table, target, read=read, raw_token_counts={"sex": {"NA": 3}})["missing_tokens"]

    assert guardrail.status == "passed"
    assert "Parquet" in guardrail.detail


def test_count_missing_tokens_strips_values() -> None:
    text = pd.DataFrame({" amount": ["1.5", " NA", "-  ", "2"]})

    stripped = count_missing_tokens(text, ["NA", "-"], strip_values=True, strip_header=True)
    assert stripped == {"amount": {"NA": 1, "-": 1}}
    assert count_missing_tokens(text, ["NA", "-"], strip_values=True) == {" amount": {"NA": 1, "-": 1}}
    assert count_missing_tokens(text, ["NA", "-"]) == {}


def test_small_data_cv_fixed() -> None:
    guardrail = _guardrails(_clean_table(n_rows=300))["small_data"]

    assert guardrail.status == "fixed"
    assert "Only 300 rows have a target" in guardrail.detail
    assert "5-fold cross-validation" in guardrail.detail


def test_small_data_holdout_alerted() -> None:
    guardrail = _guardrails(_clean_table(n_rows=300), validation="holdout:0.2")["small_data"]

    assert guardrail.status == "alerted"
    assert "holdout of about 60 rows" in guardrail.detail
    assert "--validation cv:5" in guardrail.detail


def test_wide_data_alerted() -> None:
    rng = np.random.default_rng(5)
    table = pd.DataFrame(rng.integers(0, 3, size=(20, 30)), columns=[f"snp_{index}" for index in range(30)])
    table["y"] = rng.choice(["case", "control"], 20)

    guardrail = _guardrails(table)["wide_data"]

    assert guardrail.status == "alerted"
    assert guardrail.detail.startswith("30 feature columns and 20 rows with a target")
    assert "--ignore-columns" in guardrail.detail


def test_duplicate_rows_alerted_with_count() -> None:
    table = _clean_table()
    table = pd.concat([table, table.iloc[:7], table.iloc[:2]], ignore_index=True)

    guardrail = _guardrails(table)["duplicate_rows"]

    assert guardrail.status == "alerted"
    assert guardrail.detail.startswith("9 rows repeat an earlier row in every feature column and the target.")


def test_duplicate_rows_differ_only_in_ignored_column() -> None:
    table = _clean_table()
    table = pd.concat([table, table.iloc[:1]], ignore_index=True)
    table["row_id"] = [f"R{index:05d}" for index in range(len(table))]

    guardrail = _guardrails(table)["duplicate_rows"]

    assert guardrail.status == "alerted"
    assert guardrail.detail.startswith("1 row repeats an earlier row")


def test_target_leakage_classification_alerted() -> None:
    table = _clean_table()
    rng = np.random.default_rng(6)
    table["refund issued"] = (table["y"] == "yes") + rng.normal(scale=0.05, size=len(table))

    guardrail = _guardrails(table)["target_leakage"]

    assert guardrail.status == "alerted"
    assert guardrail.columns == ["refund issued"]
    assert "'refund issued' (balanced accuracy 1.000)" in guardrail.detail
    assert "--column-purpose 'refund issued=ignore'" in guardrail.detail
    assert "glassml keeps such a column in training" in guardrail.detail


def test_target_leakage_category_copy_alerted() -> None:
    table = _clean_table()
    table["status"] = table["y"].map({"yes": "closed", "no": "open"})

    guardrail = _guardrails(table)["target_leakage"]

    assert guardrail.status == "alerted"
    assert guardrail.columns == ["status"]


def test_target_leakage_regression_noisy_copy_alerted() -> None:
    table = _clean_table()
    rng = np.random.default_rng(7)
    table["y"] = rng.normal(50, 10, size=len(table))
    table["y_copy"] = table["y"] + rng.normal(scale=0.3, size=len(table))

    guardrail = _guardrails(table)["target_leakage"]

    assert guardrail.status == "alerted"
    assert guardrail.columns == ["y_copy"]
    assert "R^2 0.99" in guardrail.detail
    assert "--column-purpose y_copy=ignore" in guardrail.detail


def test_target_leakage_strong_feature_passes() -> None:
    table = _clean_table()
    rng = np.random.default_rng(8)
    table["y"] = 3 * table["x1"] + rng.normal(scale=1.0, size=len(table))

    guardrail = _guardrails(table)["target_leakage"]

    assert guardrail.status == "passed"
    assert "depth-8 decision tree" in guardrail.detail


def test_target_leakage_column_limit_stated() -> None:
    rng = np.random.default_rng(9)
    table = pd.DataFrame(rng.normal(size=(200, 105)), columns=[f"x{index}" for index in range(105)])
    table["y"] = np.where(table["x104"] > 0, "up", "down")

    guardrail = _guardrails(table)["target_leakage"]

    assert guardrail.status == "passed"
    assert "the 5 columns after the first 100 were not checked" in guardrail.detail


def test_target_leakage_small_table_not_checked() -> None:
    table = _clean_table(n_rows=30)
    table["copy"] = table["y"]

    guardrail = _guardrails(table)["target_leakage"]

    assert guardrail.status == "passed"
    assert guardrail.detail.startswith("Not checked")


def test_emit_warns_for_non_passed_only() -> None:
    table = _clean_table()
    table["y"] = table["y"].mask(np.arange(len(table)) < 3)
    guardrails = list(_guardrails(table).values())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emit(guardrails)

    assert [warning.category for warning in caught] == [MissingTargetWarning]
    assert Path(caught[0].filename).resolve() == Path(__file__).resolve()


def test_emit_messages_pinned() -> None:
    table = _clean_table()
    table = pd.concat([table, table.iloc[:2]], ignore_index=True)
    table["y"] = table["y"].mask(np.arange(len(table)) == 10)
    table["leak"] = table["y"].map({"yes": 1.0, "no": 0.0})
    guardrails = list(_guardrails(table).values())

    with (
        pytest.warns(MissingTargetWarning, match=r"^1 row without a value in target 'y' was dropped"),
        pytest.warns(DuplicateRowsWarning, match=r"^2 rows repeat an earlier row"),
        pytest.warns(TargetLeakageWarning, match=r"almost perfectly: 'leak' \(balanced accuracy 1\.000\)"),
    ):
        emit(guardrails)


def test_guardrails_table_json_rows() -> None:
    table = _clean_table()
    table.loc[0, "x1"] = np.inf
    guardrails = list(_guardrails(table).values())

    rows = guardrails_table(guardrails)

    assert json.loads(json.dumps(rows)) == rows
    assert [row["name"] for row in rows] == list(GUARDRAIL_NAMES)
    assert set(rows[0]) == {"name", "status", "detail", "columns"}
    infinite = next(row for row in rows if row["name"] == "infinite_values")
    assert infinite["status"] == "fixed"
    assert infinite["columns"] == ["x1"]


def test_check_guardrails_mixed_dtypes() -> None:
    table = _clean_table()
    n_rows = len(table)
    table["visits"] = pd.array(np.arange(n_rows) % 13, dtype="Int64")
    table.loc[:4, "visits"] = pd.NA
    table["member"] = np.arange(n_rows) % 3 == 0
    table["signed_up"] = pd.date_range("2020-01-01", periods=n_rows, freq="h", tz="UTC")
    table.loc[:1, "signed_up"] = pd.NaT
    table["closed_at"] = table["signed_up"].where(table["y"] == "yes", pd.Timestamp("2030-01-01", tz="UTC"))

    guardrails = _guardrails(table)

    assert guardrails["missing_values"].columns == ["visits", "signed_up", "closed_at"]
    assert "'visits' (5 rows)" in guardrails["missing_values"].detail
    assert guardrails["infinite_values"].status == "passed"
    assert guardrails["target_leakage"].status == "alerted"
    assert guardrails["target_leakage"].columns == ["closed_at"]
