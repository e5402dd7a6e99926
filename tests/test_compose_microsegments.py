"""Microsegment candidates against their definition: every level's label combinations and members."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.compose import UNASSIGNED, microsegments
from microseg.method import Assignment


def test_every_level_is_the_customers_sharing_its_labels():
    rng = np.random.default_rng(11)
    n = 500
    ids = pd.Index(np.arange(1000, 1000 + n), name="customer_id")
    a = pd.Series(rng.choice(["x", "y", "z"], n), index=ids)
    b = pd.Series(rng.integers(0, 12, n), index=ids)                   # numbers: labels as text, sorted as text
    c = pd.Series(rng.choice(["p", "q"], n), index=ids).iloc[: n - 40]  # some customers without a label
    got = microsegments(["a", "b", "c"], {"a": Assignment(a), "b": Assignment(b), "c": Assignment(c)}, ids)
    table = pd.DataFrame({"a": a, "b": b.astype(str), "c": c.reindex(ids).fillna(UNASSIGNED)})
    want = []
    for level, dims in enumerate((["a"], ["a", "b"], ["a", "b", "c"]), start=1):
        for parts, rows in sorted(table.groupby(dims).indices.items()):
            parts = parts if isinstance(parts, tuple) else (parts,)
            want.append(("micro:" + "|".join(parts), " × ".join(parts), level, np.sort(rows).tolist()))
    assert [(s.key, s.label, s.level, s.members.tolist()) for s in got] == want
    assert all(s.parent == (None if s.level == 1 else s.key.rsplit("|", 1)[0]) for s in got)


def test_method_segments_are_each_labels_customers_in_order():
    """Labels in customer order (one stable sort) or not (lexsort), one or several per customer."""
    from microseg.compose import method_segments
    rng = np.random.default_rng(12)
    ids = pd.Index(np.arange(300), name="customer_id")
    single = pd.Series(rng.choice(["b", "a", "c"], 300), index=ids)
    multi = pd.Series(rng.choice(["b", "a", "c"], 450), index=np.sort(rng.integers(0, 300, 450)))
    for labels in (single, single.sample(frac=1, random_state=1), multi, multi.sample(frac=1, random_state=2)):
        got = method_segments("m", "rules", Assignment(labels), ids)
        want = {lab: np.unique(ids.get_indexer(labels.index[labels == lab])).tolist()
                for lab in sorted(set(labels))}
        assert {s.label: s.members.tolist() for s in got} == want and [s.label for s in got] == sorted(want)
