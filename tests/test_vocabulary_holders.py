"""Level holders: the same customers, in the same order, whatever number of rows is looked at first."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.privacy import vocabulary


@pytest.mark.parametrize("erase", [False, True])
def test_holders_do_not_depend_on_the_prefix(monkeypatch, erase):
    rng = np.random.default_rng(5)
    n = 3_000
    levels = np.array(["common", "web", "rare", "rarer", None], dtype=object)
    frame = pd.DataFrame({"customer_id": rng.integers(0, 400, n),
                          "channel": levels[rng.choice(5, n, p=[0.6, 0.3, 0.05, 0.01, 0.04])],
                          "city": pd.Categorical(rng.choice(["Oslo", "Bergen", "Tromsø"], n, p=[0.9, 0.09, 0.01]))})
    erased = pd.Index(rng.choice(400, 60, replace=False)) if erase else None
    results = []
    for prefix in (200_000, 1_000, 64, 1):
        monkeypatch.setattr(vocabulary, "PREFIX_ROWS", prefix)
        results.append(vocabulary.level_holders(frame, ["channel", "city"], 7, erased))
    for other in results[1:]:
        assert list(other) == list(results[0])
        for col, found in results[0].items():
            assert list(other[col]) == list(found)                     # levels in order of first appearance
            for level, ids in found.items():
                assert np.array_equal(other[col][level], ids)          # the first 7 distinct holders, in row order
