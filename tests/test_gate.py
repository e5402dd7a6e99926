"""Concrete release-gate cases: columns in, released codes out (the oracle counts value tuples)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from microseg.privacy.columns import WITHHELD, attribute_column, family_column, score_column
from microseg.privacy.gate import Strata, apply_gate
from microseg.privacy.counts import display_size


def fam(name, labels, tier=1):
    labels = np.asarray(labels, dtype=object)
    return family_column(name, np.arange(len(labels)), labels, len(labels), tier=tier)


def released_rows(out):
    """Value texts per released customer, as an export would show them."""
    rel = np.flatnonzero(out.released)
    return [tuple(c.values[out.codes[j, i]] for j, c in enumerate(out.columns)) for i in rel]


def test_display_size():
    assert display_size(49, 50) == "< 50" and display_size(50, 50) == 50 and display_size(0, 50) == 0


def test_k_boundary_and_withheld_customers_are_not_released():
    out = apply_gate([fam("a", ["x"] * 50 + ["y"] * 49)], 50)
    rows = Counter(released_rows(out))
    assert rows == {("x",): 50}                       # the 49 'y' would be a cell of 49: not released


def test_intersection_of_two_families_is_coarsened():
    # a × b: (p, u) 60, (p, v) 3, (q, u) 57: the 3 would be isolated by intersecting p and v
    a = ["p"] * 63 + ["q"] * 57
    b = ["u"] * 60 + ["v"] * 3 + ["u"] * 57
    out = apply_gate([fam("a", a), fam("b", b)], 50)
    rows = Counter(released_rows(out))
    assert all(n >= 50 for n in rows.values())
    assert sum(rows.values()) == 120                  # the 3 are coarsened, not dropped: (p, *) with 47 more
    assert rows[("p", WITHHELD)] >= 50 and ("p", "v") not in rows


def test_remainder_below_k_borrows_from_the_largest_group():
    # one cell of 130: 100 'x', 30 'y' in family b; 'y' alone < k, remainder 30 < k → 20 'x' join it
    out = apply_gate([fam("a", ["s"] * 130), fam("b", ["x"] * 100 + ["y"] * 30)], 50)
    rows = Counter(released_rows(out))
    assert rows == {("s", "x"): 80, ("s", WITHHELD): 50}


def test_micro_dimensions_are_refined_in_order():
    # tier 0 (dimensions) refine rfm first even though region moves more customers
    rfm = ["A"] * 60 + ["B"] * 60
    region = ["N"] * 120
    out = apply_gate([fam("rfm", rfm, tier=0), fam("region", region, tier=0)], 50)
    assert Counter(released_rows(out)) == {("A", "N"): 60, ("B", "N"): 60}


def test_multi_membership_set_is_one_value():
    labels = np.array(["a"] * 60 + ["b"] * 60 + ["a"] * 5, dtype=object)   # 5 customers hold {a, b}
    rows = np.r_[np.arange(120), np.arange(60, 65)]
    col = family_column("m", rows, labels, 120)
    out = apply_gate([col], 50)
    got = Counter(released_rows(out))
    assert got[("a",)] == 60 and ("a;b",) not in got and sum(got.values()) == 115


def test_score_bands_widen_before_they_are_withheld():
    rng = np.random.default_rng(0)
    scores = pd.Series(rng.random(400))
    col = score_column("p", scores, 4)
    edges = np.quantile(scores, [0.25, 0.5, 0.75]).round(2)
    assert col.depth == 2 and {f"< {edges[0]:g}", f"≥ {edges[2]:g}", f"< {edges[1]:g}"} <= set(col.values)
    out = apply_gate([fam("a", ["x"] * 400), col], 120)
    texts = Counter(r[1] for r in released_rows(out))
    assert all(n >= 120 for n in texts.values()) and set(texts) <= set(col.values)
    assert any("–" not in t and t != WITHHELD for t in texts)        # halves "< 0.5" / "≥ 0.5" released


def test_attribute_hierarchy_generalises_step_by_step():
    ages = pd.Series([31] * 30 + [33] * 30 + [47] * 60)
    col = attribute_column("age", ages)
    out = apply_gate([col], 50)
    assert Counter(released_rows(out)) == {("30-34",): 60, ("47",): 60}      # 47 is shared by 60: raw


def test_strata_keep_earlier_cells_apart_and_count_leavers():
    # two earlier cells (strata 1, 2) of 60; stratum 1 lost 5 customers (leavers) since
    n = 115
    strata = Strata(code=np.r_[np.full(55, 1), np.full(60, 2)], absent=np.array([0, 5, 0]),
                    visible=np.array([False, True, True]))
    out = apply_gate([fam("a", ["x"] * n)], 50, strata)
    rel = out.released
    # stratum 1: releasing all 55 leaves an absent cell of 5 → the whole stratum stays withheld
    assert not rel[:55].any() and rel[55:].all()


def test_a_nudged_threshold_is_held_at_the_earlier_value():
    # earlier: everyone in stratum 1 was 'Other'; now 3 of them moved to 'Seniors'
    labels = ["Other"] * 97 + ["Seniors"] * 3
    col = fam("age", labels)
    strata = Strata(code=np.ones(100, dtype=np.int64), absent=np.array([0, 0]), visible=np.array([False, True]),
                    hold={"age": np.array([-1, col.values.index("Other")])})
    out = apply_gate([col], 50, strata)
    assert Counter(released_rows(out)) == {("Other",): 100}
    assert out.held[0].sum() == 3 and out.loss()["per_column"]["age"]["held_share"] == 0.03


def test_new_customers_not_released_are_invisible():
    # no earlier release: a remainder of 1..k-1 all-withheld customers is fine (nobody sees them)
    out = apply_gate([fam("a", ["x"] * 60 + ["y"] * 10)], 50)
    assert out.released.sum() == 60


def test_bad_k():
    with pytest.raises(ValueError, match="k must be"):
        apply_gate([fam("a", ["x"] * 3)], 1)


def test_a_customer_without_a_label_is_stored_with_an_empty_value(tmp_path):
    """Every released value is a stored segment, "no label" too, so the stored list of a
    customer is their whole released vector."""
    from microseg.compose import SegmentSpec
    from microseg.privacy.release import ReleaseSpec, gate_release
    ids = pd.Index([f"c{i}" for i in range(120)])
    segs = [SegmentSpec(key="a:x", family="a", method="m", label="x", description="", members=np.arange(60))]
    release = gate_release(ReleaseSpec(families=["a"], micro_dims=[], k=50), segs, ids, np.arange(120), None, None,
                           None)
    assert release.outcome.released.sum() == 120
    assert {k: len(v) for k, v in release.members.items()} == {"a:x": 60, "a:": 60}
    row = next(r for r in release.segment_rows if r["key"] == "a:")
    assert row["label"] == "" and row["method"] == "no label" and row["released_size"] == 60


def _top_up_by_rule(k, c, target, need, width):
    """The top-up rule written out cell by cell (an oracle for the vectorised ``_State._top_up``)."""
    target = target.copy()
    for cell in sorted(set(c[(target >= 0) & (need[c] > 0)].tolist())):
        members = {}
        for i in np.flatnonzero((c == cell) & (target >= 0)):
            members.setdefault(int(target[i]), []).append(i)        # customers ascending within a group
        first_seen = sorted(members, key=lambda t: members[t][0])   # group number: order of appearance
        ranked = sorted(first_seen, key=lambda t: (len(members[t]), first_seen.index(t)))
        largest, smallest = members[ranked[-1]], members[ranked[0]]
        short = int(need[cell])
        for i in (largest[:short] if len(largest) - short >= k else smallest):
            target[i] = -1
    return target


@pytest.mark.parametrize("seed", range(30))
def test_top_up_matches_the_rule_cell_by_cell(seed):
    from microseg.privacy.gate import _State
    rng = np.random.default_rng(seed)
    n, cells, width, k = int(rng.integers(5, 400)), int(rng.integers(1, 12)), int(rng.integers(2, 7)), int(rng.integers(2, 9))
    c = rng.integers(0, cells, n)
    target = np.where(rng.random(n) < 0.8, rng.integers(0, width, n), -1)
    need = np.where(rng.random(cells) < 0.7, rng.integers(1, k + 1, cells), 0)
    if not ((target >= 0) & (need[c] > 0)).any():
        need[c[target >= 0][:1]] = 1 if (target >= 0).any() else need
    if not ((target >= 0) & (need[c] > 0)).any():
        return
    state = _State.__new__(_State)
    state.k = k
    got, held = target.copy(), target >= 0
    state._top_up(c, got, held, need, width)
    want = _top_up_by_rule(k, c, target, need, width)
    assert (got == want).all()
    assert not held[got != target].any()                            # kept back: no longer held
