"""A multi-membership family's released value per customer is the sorted set of their labels
(oracle: the memberships themselves), whatever the number of labels."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.privacy.columns import NO_LABEL, SET_SEP, family_column


@settings(max_examples=60)
@given(n=st.integers(1, 60), n_labels=st.sampled_from([1, 3, 12, 63, 64, 80]), data=st.data())
def test_each_customer_holds_the_sorted_set_of_their_labels(n: int, n_labels: int, data: st.DataObject) -> None:
    names = [f"label {i:02d}" for i in range(n_labels)]
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n_labels - 1)), max_size=4 * n))
    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    labels = np.array([names[c] for _, c in pairs], dtype=object)
    col = family_column("f", rows, labels, n)
    for i in range(n):
        mine = sorted({names[c] for r, c in pairs if r == i})
        assert col.values[col.paths[1, i]] == (SET_SEP.join(mine) if mine else NO_LABEL)
