"""The history's cell table: cells over value *texts*, found from the value codes."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.privacy.cells import cell_ids
from microseg.privacy.columns import Column
from microseg.privacy.gate import GateOutcome
from microseg.privacy.history import cell_table


def _reference(outcome: GateOutcome) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """A text per customer and column, then the cells of those texts (the definition)."""
    rel = outcome.released
    texts = [np.asarray(c.values, dtype=object)[outcome.codes[j, rel]] for j, c in enumerate(outcome.columns)]
    codes, _ = cell_ids(texts)
    families = [j for j, c in enumerate(outcome.columns) if c.holdable]
    first = {}
    for i, c in enumerate(codes.tolist()):
        first.setdefault(c, i)
    values = [[str(texts[j][first[c]]) for j in families] for c in range(len(first))]
    return codes.astype(np.int32), [outcome.columns[j].name for j in families], values


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 60), st.lists(st.lists(st.sampled_from(["*", "a", "b", "c", "a|b"]), min_size=1, max_size=5),
                                    min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_cells_are_those_of_the_texts(n, vocabularies, rnd):
    """Also when two codes of a column carry the same text."""
    columns, rows = [], []
    for j, words in enumerate(vocabularies):
        values = ["*", *words]
        columns.append(Column(f"c{j}", "family", values, np.zeros((1, n), np.int32), holdable=j % 2 == 0))
        rows.append([rnd.randrange(len(values)) for _ in range(n)])
    codes = np.array(rows, dtype=np.int32)
    outcome = GateOutcome(columns=columns, codes=codes, held=np.zeros_like(codes, dtype=bool), rounds=0, k=1)
    got, want = cell_table(outcome), _reference(outcome)
    assert np.array_equal(got[0], want[0]) and got[0].dtype == want[0].dtype
    assert got[1:] == want[1:]
