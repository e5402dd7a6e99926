"""The release's family columns built from label codes equal those built from label texts."""
from __future__ import annotations

import numpy as np
import pytest

from microseg.compose import SegmentSpec
from microseg.privacy.columns import family_column
from microseg.privacy.release import ReleaseSpec, _columns


@pytest.mark.parametrize("seed,n_labels", [(0, 5), (1, 70), (2, 3)])
def test_family_columns_equal_the_text_built_ones(seed, n_labels):
    rng = np.random.default_rng(seed)
    n = 2_000
    labels = [f"L{i:02d} é" if i % 3 else str(i) for i in range(n_labels)]      # mixed texts: order as a sort
    segs = []
    for fam, multi in (("a", False), ("b", True)):
        owner = rng.integers(0, n_labels, n)
        for i, label in enumerate(labels):
            members = np.flatnonzero(owner == i)
            if multi:                                   # customers with several labels of the family
                members = np.union1d(members, rng.choice(n, 40, replace=False))
            segs.append(SegmentSpec(key=f"{fam}:{label}", family=fam, method="m", label=label, description="",
                                    members=members))
    segs.append(SegmentSpec(key="a:nobody", family="a", method="m", label="nobody", description="",
                            members=np.arange(5)))            # none of its customers releasable
    releasable = np.sort(rng.choice(np.arange(5, n), n // 2, replace=False))
    gate_index = np.full(n, -1, dtype=np.int64)
    gate_index[releasable] = np.arange(len(releasable))
    spec = ReleaseSpec(families=["a", "b"], micro_dims=["a"], k=5)
    got = _columns(spec, segs, None, gate_index)
    for col, fam in zip(got, ("a", "b")):
        mine = [s for s in segs if s.family == fam]
        rows = np.concatenate([gate_index[s.members] for s in mine])
        texts = np.concatenate([np.full(len(s.members), s.label, dtype=object) for s in mine])
        ok = rows >= 0
        want = family_column(fam, rows[ok], texts[ok], len(releasable), tier=col.tier)
        assert col.values == want.values and col.parts == want.parts and col.tier == (0 if fam == "a" else 1)
        np.testing.assert_array_equal(col.paths, want.paths)
    assert "nobody" not in got[0].values
