"""clv-decline's speed-ups give the same numbers as the straightforward code they replace."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.plugins._lgbm import as_levels, prepare


def _levels_by_row(values: pd.Series, levels: list) -> pd.Categorical:
    """The definition: every row's text looked up in ``levels`` (unseen ones become missing)."""
    text = values.astype("string")
    return pd.Categorical(text.where(text.isin(levels)), categories=levels)


def _text_columns() -> list[pd.Series]:
    rng = np.random.default_rng(11)
    words = np.array(["North", "South", "East", None, "Nowhere", "app"], dtype=object)
    drawn = rng.choice(words, 2_000)
    return [pd.Series(drawn, dtype=object), pd.Series(drawn).astype("string[pyarrow]"),
            pd.Series(drawn).astype("string[python]"), pd.Series(drawn).astype("category"),
            pd.Series(rng.integers(0, 4, 500)).astype(object), pd.Series([], dtype=object),
            pd.Series([None, None], dtype=object), pd.Series(["North", np.nan], dtype=object)]


def test_as_levels_equals_the_row_by_row_lookup():
    for values in _text_columns():
        for levels in (["East", "North", "South"], ["East", "North", "Nowhere", "South", "app"], ["1", "2"],
                       ["North"]):
            fast, slow = as_levels(values, levels), _levels_by_row(values, levels)
            np.testing.assert_array_equal(fast.codes, slow.codes)
            pd.testing.assert_index_equal(fast.categories, slow.categories)


def test_prepare_keeps_the_learned_levels_and_numbers():
    rng = np.random.default_rng(5)
    n = 1_000
    train = pd.DataFrame({"spend": rng.normal(size=n), "visits": rng.integers(0, 9, n), "vip": rng.random(n) < 0.2,
                          "region": rng.choice(["North", "South", "East"], n),
                          "city": pd.Series(rng.choice(["Oslo", "Lisbon", None], n)).astype("string[pyarrow]"),
                          "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, n), "D")})
    x, cats = prepare(train)
    assert list(x.columns) == ["spend", "visits", "vip", "region", "city"]
    assert cats == {"region": ["East", "North", "South"], "city": ["Lisbon", "Oslo"]}
    later = train.assign(region=rng.choice(["North", "West"], n))          # an unseen level
    again = prepare(later, cats)[0]
    for col in ("region", "city"):
        expected = _levels_by_row(later[col], cats[col])
        np.testing.assert_array_equal(again[col].cat.codes.to_numpy(), expected.codes)
    assert again["region"].isna().sum() == (later["region"] == "West").sum()
    assert (again["spend"].to_numpy() == train["spend"].to_numpy(dtype="float32")).all()
