"""The demo's string columns: converted by Arrow, the columns pandas makes of the same arrays."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.demo import _text


def test_text_is_the_column_pandas_makes():
    rng = np.random.default_rng(0)
    for values in (np.array(["C100000", "C100001", "Łukasz", ""])[rng.integers(0, 4, 1000)],
                   np.where(rng.random(50) < 0.5, "treatment", "control")):
        expected = pd.DataFrame({"v": values})["v"]
        got = pd.DataFrame({"v": _text(values)})["v"]
        assert got.dtype == expected.dtype
        pd.testing.assert_series_equal(got, expected, check_exact=True)
