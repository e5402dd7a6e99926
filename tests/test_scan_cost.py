"""The PII scan's shortcuts give the findings of the long way: integer samples, distinct counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.privacy import scan
from microseg.privacy.recognizers import ColumnNameRecognizer
from microseg.registry import Registry


@pytest.fixture(scope="module")
def reg():
    return Registry(entry_points=False)


@pytest.mark.parametrize("values", [
    pd.Series(np.random.default_rng(1).integers(-10**9, 10**9, 5_000)),            # more distinct values than sampled
    pd.Series([3, None, 3, 7, 12, None, -1] * 40, dtype="Int64"),                  # missing values, fewer than sampled
    pd.Series(np.arange(300, dtype=np.uint16)[::-1]),
])
def test_integers_are_sampled_as_their_text_is(values):
    """Only the sampled integers become text; the sample is the one of the same values as text."""
    assert scan._sample_distinct(values, 200) == scan._sample_distinct(values.astype("string"), 200)


def test_distinct_count_only_for_a_recognizer_that_reads_it(reg, monkeypatch):
    """``customer_id`` and ``city`` have no ``max_distinct``: no distinct count; ``gender`` has one
    (20): counted, and 25 distinct genders still void the name."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(1000)],
                          "city": rng.choice(["Oslo", "Leeds", "Madrid"], 1000),
                          "gender": rng.choice([f"g{i}" for i in range(25)], 1000)})
    counted = []
    real = pd.Series.nunique
    monkeypatch.setattr(pd.Series, "nunique", lambda self, *a, **k: counted.append(self.name) or real(self, *a, **k))
    got = {f.column: (f.kind, f.entity) for f in scan.scan_frame(frame, registry=reg)}
    assert counted == ["gender"]
    assert got == {"customer_id": ("identifier", "CUSTOMER_ID"), "city": ("quasi", "LOCATION"), "gender": ("none", None)}


def test_a_recognizer_with_its_own_check_gets_the_distinct_count():
    class FewLevels(ColumnNameRecognizer):
        def check_values(self, values, n_distinct):
            return n_distinct <= 3, 1.0

    rec = FewLevels("tier", "TIER", "quasi", [r"tier"])
    assert scan._best_name_match(pd.Series(["a", "b", "c"]), "tier", [rec], ["a", "b", "c"]) is rec
    assert scan._best_name_match(pd.Series(["a", "b", "c", "d"]), "tier", [rec], ["a", "b", "c", "d"]) is None
