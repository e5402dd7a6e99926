"""The uplift lookups through Arrow: level codes are ``pd.Index(levels).get_indexer`` of the values
as text, members are ``isin``."""
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


@pytest.mark.parametrize("values, among", [
    (pd.Series(["C1", "C2", None, "C3", "C1"], dtype="str"), {"C1", "C3"}),
    (pd.Series(["C1", "C2", None], dtype="str"), pd.Index(["C2", "C9"], dtype="str")),
    (pd.Series(["C1", "C2", None], dtype="str"), ["C2", None]),              # a missing value among them
    (pd.Series(["C1", "C2"], dtype="str"), []),
    (pd.Series([1, 2, 3]), {2, 3}),
    (pd.Series(["1", "2"], dtype="str"), [1, 2]),                             # numbers are not their text
    (pd.Series(["a", "b"], dtype=object), {"a"}),
])
def test_members_are_isin(values, among):
    from microseg.plugins.campaign_response.inputs import members
    expected = values.isin(among).to_numpy()
    got = members(values, among)
    assert got.dtype == bool and np.array_equal(got, expected)
