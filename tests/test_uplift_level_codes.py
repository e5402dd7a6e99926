"""The uplift design's level codes are ``pd.Index(levels).get_indexer`` of the values as text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.plugins._uplift import level_codes


@pytest.mark.parametrize("values", [
    pd.Series(["a", "b", None, "c", "a", "é", ""], dtype="str"),
    pd.Series(["a", "b", np.nan, "zz", "a"], dtype=object),
    pd.Series([1, 2, 3, 1, None], dtype=object),                      # numbers as text: "1", "2"
    pd.Series(pd.Categorical(["b", "a", None, "b"])),
    pd.Series(["x"] * 5, dtype="string"),
    pd.Series([], dtype="str"),
])
def test_level_codes_are_get_indexer(values):
    text = values.astype("string")
    levels = text.value_counts().index.tolist()[:2] + ["never seen"]
    got = level_codes(values, levels)
    assert got.dtype == np.int64
    assert np.array_equal(got, pd.Index(levels).get_indexer(text))
