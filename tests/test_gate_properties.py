"""Property-based tests of the release gate (hypothesis)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.privacy.gate import Candidate, GatePolicy, apply_gate


def _tree(labels: list[np.ndarray], family: str = "micro") -> list[Candidate]:
    """Nested candidates like compose.microsegments: level L groups by the first L labels."""
    out, n = [], len(labels[0])
    for level in range(1, len(labels) + 1):
        keys = ["|".join(str(labels[d][i]) for d in range(level)) for i in range(n)]
        for key in sorted(set(keys)):
            members = np.array([i for i in range(n) if keys[i] == key], dtype=np.int64)
            parent = f"{family}:{key.rsplit('|', 1)[0]}" if level > 1 else None
            out.append(Candidate(key=f"{family}:{key}", family=family, members=members, parent=parent))
    return out


def _flat(labels: np.ndarray, family: str) -> list[Candidate]:
    return [Candidate(key=f"{family}:{v}", family=family, members=np.flatnonzero(labels == v).astype(np.int64))
            for v in np.unique(labels)]


@st.composite
def scenarios(draw):
    n = draw(st.integers(10, 260))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    depth = draw(st.integers(1, 3))
    dims = [rng.integers(0, draw(st.integers(1, 5)), n) for _ in range(depth)]
    cands = _tree(dims)
    for f in range(draw(st.integers(0, 2))):
        cands += _flat(rng.integers(0, draw(st.integers(1, 6)), n), f"flat{f}")
    if draw(st.booleans()):          # an overlapping (multi-membership) family
        for j in range(draw(st.integers(1, 4))):
            members = np.flatnonzero(rng.random(n) < rng.uniform(0.05, 0.9)).astype(np.int64)
            cands.append(Candidate(key=f"multi:{j}", family="multi", members=members))
    policy = GatePolicy(k=draw(st.integers(2, 60)), small=draw(st.sampled_from(["merge", "suppress"])),
                        differencing=draw(st.sampled_from(["merge", "suppress"])))
    return n, cands, policy


def _check(n, cands, policy, result):
    k = policy.k
    rel = result.released
    by_key = {c.key: c for c in cands}
    # 1. minimum size
    assert all(len(m) >= k for m in rel.values())
    keys = sorted(rel)
    sets = {key: set(rel[key].tolist()) for key in keys}
    # 2. no differencing pair
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            d = len(sets[a] ^ sets[b])
            assert not (1 <= d < k), (a, b, d)
    # 3. no parent-minus-children chain (per family)
    for s in keys:
        for fam in {c.family for c in cands}:
            inside = [r for r in keys if r != s and by_key[r].family == fam and sets[r] < sets[s]]
            if inside:
                rest = len(sets[s] - set().union(*(sets[r] for r in inside)))
                assert not (1 <= rest < k), (s, fam, rest)
    # 4. conservation: each family's customers are released once (tree families) or suppressed
    for fam in {c.family for c in cands}:
        members = set().union(*(set(c.members.tolist()) for c in cands if c.family == fam))
        released = [sets[key] for key in keys if by_key[key].family == fam]
        suppressed = set(result.suppressed_customers.get(fam, np.array([], np.int64)).tolist())
        if any(by_key[key].parent for key in by_key if by_key[key].family == fam):
            assert sum(len(r) for r in released) == len(set().union(*released)), "tree family overlaps"
            assert set().union(*released) | suppressed == members, "customers lost or invented"
            assert not (set().union(*released) & suppressed)
    # every decision is one of the three and merged ones name a released absorber
    for key, d in result.decisions.items():
        assert d.status in ("released", "suppressed", "merged")
        if d.status == "merged":
            assert d.released_as in rel and set(rel[d.released_as]) <= set(by_key[d.released_as].members.tolist())
            assert policy.small == "merge" or "differencing" in d.reason


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_gate_properties(scenario):
    n, cands, policy = scenario
    result = apply_gate(cands, n, policy)
    _check(n, cands, policy, result)


@settings(max_examples=50, deadline=None)
@given(scenarios())
def test_gate_is_deterministic(scenario):
    n, cands, policy = scenario
    a, b = apply_gate(cands, n, policy), apply_gate(list(reversed(cands)), n, policy)
    assert {k: (d.status, d.released_as) for k, d in a.decisions.items()} == \
           {k: (d.status, d.released_as) for k, d in b.decisions.items()}
