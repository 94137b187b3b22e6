from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassml.data import profile_columns
from glassml.errors import UserInputError


def _penguins() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n_rows = 60
    return pd.DataFrame(
        {
            "species": rng.choice(["Adelie", "Chinstrap", "Gentoo"], n_rows),
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n_rows),
            "bill_length_mm": np.where(np.arange(n_rows) < 2, np.nan, rng.normal(44, 5, n_rows).round(1)),
            "body_mass_g": rng.integers(2700, 6300, n_rows).astype(float),
            "sex": pd.Series(rng.choice(["male", "female"], n_rows)).mask(np.arange(n_rows) % 10 == 0),
            "year": rng.choice([2007, 2008, 2009], n_rows),
        }
    )


def _telco() -> pd.DataFrame:
    n_rows = 40
    rng = np.random.default_rng(1)
    words = ["great", "service", "slow", "support", "price", "fast", "network", "bad", "good", "billing"]
    return pd.DataFrame(
        {
            "customer_id": [f"C{index:05d}" for index in range(n_rows)],
            "row_number": np.arange(1, n_rows + 1),
            "accountId": rng.permutation(10_000)[:n_rows] + 50_000,
            "tenure": rng.integers(0, 72, n_rows),
            "contract": rng.choice(["Month-to-month", "One year", "Two year"], n_rows),
            "paperless": rng.choice([True, False], n_rows),
            "signed_up": pd.date_range("2020-01-01", periods=n_rows, freq="D"),
            "city": [f"city {index % 30}" for index in range(n_rows)],
            "comment": [" ".join(rng.choice(words, 8)) + f" {index}" for index in range(n_rows)],
            "country": "US",
            "empty": np.nan,
            "weight": rng.random(n_rows),
            "churn": rng.choice(["Yes", "No"], n_rows),
        }
    )


def test_profile_columns_penguins() -> None:
    profiles = {profile.name: profile for profile in profile_columns(_penguins(), "species")}

    assert list(profiles) == ["island", "bill_length_mm", "body_mass_g", "sex", "year"]
    assert profiles["island"].purpose == "categorical"
    assert profiles["island"].reason == "3 distinct values (at most 20)"
    assert profiles["bill_length_mm"].purpose == "numeric"
    assert profiles["bill_length_mm"].n_missing == 2
    assert profiles["bill_length_mm"].reason.endswith(", 2 missing")
    assert profiles["sex"].purpose == "categorical"
    assert profiles["sex"].n_missing == 6
    assert profiles["sex"].n_unique == 2
    assert profiles["year"].purpose == "numeric"
    assert profiles["year"].dtype == "int64"


def test_profile_columns_telco_purposes() -> None:
    profiles = profile_columns(_telco(), "churn", weight_column="weight")

    purposes = {profile.name: profile.purpose for profile in profiles}
    assert purposes == {
        "customer_id": "ignore",
        "row_number": "ignore",
        "accountId": "ignore",
        "tenure": "numeric",
        "contract": "categorical",
        "paperless": "boolean",
        "signed_up": "datetime",
        "city": "high_cardinality",
        "comment": "text",
        "country": "ignore",
        "empty": "ignore",
    }


def test_profile_columns_ignore_reasons() -> None:
    reasons = {profile.name: profile.reason for profile in profile_columns(_telco(), "churn", weight_column="weight")}

    assert reasons["customer_id"] == "identifier (every value distinct, such as 'C00000')"
    assert reasons["row_number"].startswith("identifier (every value distinct, consecutive integers")
    assert reasons["accountId"] == "identifier (every value distinct and the name marks an identifier)"
    assert reasons["country"] == "constant (one value: 'US')"
    assert reasons["empty"] == "all values missing"


def test_profile_columns_user_choices() -> None:
    profiles = profile_columns(
        _telco(),
        "churn",
        ignore_columns=["tenure"],
        purpose_overrides={"city": "categorical", "row_number": "numeric"},
    )

    by_name = {profile.name: profile for profile in profiles}
    assert (by_name["tenure"].purpose, by_name["tenure"].reason) == ("ignore", "ignored by the user")
    assert (by_name["city"].purpose, by_name["city"].reason) == ("categorical", "purpose set by the user")
    assert by_name["row_number"].purpose == "numeric"
    assert by_name["weight"].purpose == "numeric"


def test_profile_columns_unknown_column_suggests_names() -> None:
    with pytest.raises(UserInputError, match="ignored column 'tenur' not found in the data; did you mean 'tenure'"):
        profile_columns(_telco(), "churn", ignore_columns=["tenur"])


def test_profile_columns_unknown_override_column() -> None:
    with pytest.raises(UserInputError, match="overridden column 'contrakt' not found .* did you mean 'contract'"):
        profile_columns(_telco(), "churn", purpose_overrides={"contrakt": "text"})


def test_profile_columns_unknown_purpose_lists_valid() -> None:
    with pytest.raises(
        UserInputError, match="unknown purpose 'ordinal' for column 'contract'; valid purposes are numeric"
    ):
        profile_columns(_telco(), "churn", purpose_overrides={"contract": "ordinal"})


def test_profile_columns_purpose_must_fit_values() -> None:
    with pytest.raises(
        UserInputError, match=r"column 'contract' cannot have the purpose 'numeric': its values \(dtype object"
    ):
        profile_columns(_telco(), "churn", purpose_overrides={"contract": "numeric"})


def test_profile_columns_target_cannot_be_ignored() -> None:
    with pytest.raises(UserInputError, match="ignored column 'churn' is the target or weight column"):
        profile_columns(_telco(), "churn", ignore_columns=["churn"])


def test_profile_columns_ignored_and_overridden() -> None:
    with pytest.raises(UserInputError, match="column 'city' is both ignored and given the purpose 'text'"):
        profile_columns(_telco(), "churn", ignore_columns=["city"], purpose_overrides={"city": "text"})


def test_profile_columns_small_all_distinct_is_categorical() -> None:
    frame = pd.DataFrame({"name": ["a", "b", "c", "d"], "y": [0, 1, 0, 1]})

    (profile,) = profile_columns(frame, "y")

    assert profile.purpose == "categorical"
