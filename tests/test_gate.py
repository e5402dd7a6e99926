"""Concrete release-gate cases."""
from __future__ import annotations

import numpy as np
import pytest

from microseg.privacy.gate import Candidate, GatePolicy, apply_gate, display_size

R = np.arange


def test_display_size():
    assert display_size(49, 50) == "< 50" and display_size(50, 50) == 50 and display_size(0, 50) == 0


def test_k_boundary():
    res = apply_gate([Candidate("a:x", "a", R(0, 50)), Candidate("a:y", "a", R(50, 99))], 99, GatePolicy(k=50))
    assert res.decisions["a:x"].status == "released" and res.decisions["a:y"].status == "suppressed"
    assert res.decisions["a:y"].reason == "size < k"


def test_small_leaf_merges_into_parent_remainder():
    cands = [Candidate("m:A", "m", R(0, 130)),
             Candidate("m:A|x", "m", R(0, 70), "m:A"), Candidate("m:A|y", "m", R(70, 100), "m:A"),
             Candidate("m:A|z", "m", R(100, 130), "m:A")]
    res = apply_gate(cands, 130, GatePolicy(k=50, check_differencing=False))
    assert res.decisions["m:A|x"].status == "released"
    assert res.decisions["m:A|y"].status == "merged" and res.decisions["m:A|y"].released_as == "m:A"
    assert res.released["m:A"].tolist() == list(range(70, 130))     # the remainder, not all of A
    assert "remainder" in res.decisions["m:A"].reason


def test_merge_chain_up_two_levels_and_suppression_at_top():
    cands = [Candidate("m:A", "m", R(0, 60)), Candidate("m:A|x", "m", R(0, 60), "m:A"),
             Candidate("m:A|x|1", "m", R(0, 20), "m:A|x"), Candidate("m:A|x|2", "m", R(20, 60), "m:A|x"),
             Candidate("m:B", "m", R(60, 70))]
    res = apply_gate(cands, 70, GatePolicy(k=50))
    assert res.decisions["m:A|x|1"].released_as == "m:A|x" and res.released["m:A|x"].size == 60
    assert res.decisions["m:B"].status == "suppressed"
    assert res.suppressed_customers["m"].tolist() == list(range(60, 70))


def test_suppress_mode_withholds_small_children_from_the_parent():
    cands = [Candidate("m:A", "m", R(0, 200)), Candidate("m:A|x", "m", R(0, 10), "m:A"),
             Candidate("m:A|y", "m", R(10, 200), "m:A")]
    res = apply_gate(cands, 200, GatePolicy(k=50, small="suppress"))
    assert res.decisions["m:A|x"].status == "suppressed"
    assert set(res.released) == {"m:A|y"}   # A's remainder would be x: withheld, not re-released


def test_differencing_pair_across_families():
    cands = [Candidate("rules:young", "rules", R(0, 100)), Candidate("rules2:young-ish", "rules2", R(0, 103))]
    res = apply_gate(cands, 200, GatePolicy(k=50))
    assert res.decisions["rules:young"].status == "suppressed"
    assert "differencing with 'rules2:young-ish'" in res.decisions["rules:young"].reason
    assert res.decisions["rules2:young-ish"].status == "released"


def test_parent_minus_released_children_chain():
    # rfm:A (100) contains micro A|x (60) released; A's remainder (40) is suppressed: 100 - 60 = 40 < k
    cands = [Candidate("rfm:A", "rfm", R(0, 100)), Candidate("m:A", "m", R(0, 100)),
             Candidate("m:A|x", "m", R(0, 60), "m:A"), Candidate("m:A|y", "m", R(60, 100), "m:A")]
    res = apply_gate(cands, 100, GatePolicy(k=50))
    assert res.decisions["m:A|x"].status == "merged"            # merged back so A is released whole
    assert res.released["m:A"].size == 100 and res.released["rfm:A"].size == 100


def test_chain_over_several_children_is_detected():
    # S = 0..150; two disjoint released children of another family cover 0..120: S minus them = 30
    cands = [Candidate("s:S", "s", R(0, 150)), Candidate("f:a", "f", R(0, 60)), Candidate("f:b", "f", R(60, 120)),
             Candidate("f:c", "f", R(150, 300))]
    res = apply_gate(cands, 300, GatePolicy(k=50))
    assert res.decisions["s:S"].status == "suppressed" and "minus its released sub-segments" in res.decisions["s:S"].reason


def test_unknown_parent_and_bad_k():
    with pytest.raises(ValueError, match="parent"):
        apply_gate([Candidate("a", "m", R(3), "nope")], 3, GatePolicy())
    with pytest.raises(ValueError, match="k must be"):
        apply_gate([], 3, GatePolicy(k=1))
