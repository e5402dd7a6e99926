"""The release gate: minimum size k, merge-into-parent, and differencing.

Semantics (``docs/privacy-gate.md`` has the full argument):

* A family whose candidates have parents (microsegments) is released as a **partition**: each
  candidate is released with its *remainder* — its members minus those released in its released
  descendants. A remainder smaller than k is merged into its parent's remainder, level by level;
  one still smaller than k at the top is suppressed. Released sets of one family are therefore
  disjoint and each has ≥ k members, so no two of them can be differenced.
* A family without parents (one method's labels) releases each segment of ≥ k members and
  suppresses the rest.
* Across everything released the gate then removes, until none is left:
  - **pairs**: two released segments whose symmetric difference has 1..k−1 customers;
  - **chains**: a released segment S minus the union of one family's released segments contained
    in S (e.g. RFM ``Champions`` minus its released microsegments) leaving 1..k−1 customers.
  A violation is resolved by merging a microsegment into its parent (when it has one) or by
  suppressing the smaller segment; each step withdraws one segment for good, so it terminates.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Candidate:
    key: str
    family: str
    members: np.ndarray
    parent: str | None = None
    label: str = ""


@dataclass
class GatePolicy:
    k: int = 50
    small: str = "merge"            # "merge" into the parent, or "suppress"
    differencing: str = "suppress"  # "suppress" or "merge"
    check_differencing: bool = True


@dataclass
class Decision:
    key: str
    status: str                     # released | suppressed | merged
    size: int
    released_as: str | None
    reason: str


@dataclass
class GateResult:
    decisions: dict[str, Decision]
    released: dict[str, np.ndarray]
    suppressed_customers: dict[str, np.ndarray] = field(default_factory=dict)   # per family
    rounds: int = 0

    def released_keys(self) -> list[str]:
        return sorted(self.released)


def display_size(size: int, k: int) -> int | str:
    """A size as it may be printed: counts of 1..k−1 become ``"< k"``."""
    return f"< {k}" if 0 < size < k else int(size)


class _Gate:
    def __init__(self, candidates: list[Candidate], n: int, policy: GatePolicy) -> None:
        self.c = {c.key: c for c in candidates}
        if len(self.c) != len(candidates):
            raise ValueError("candidate keys must be unique")
        self.n, self.p = n, policy
        self.children: dict[str, list[str]] = {}
        for c in candidates:
            if c.parent is not None:
                if c.parent not in self.c:
                    raise ValueError(f"candidate {c.key!r}: parent {c.parent!r} is not a candidate")
                self.children.setdefault(c.parent, []).append(c.key)
        self.depth = {key: self._depth(key) for key in self.c}
        self.withdrawn: dict[str, str] = {}        # key -> reason (forced merge/suppress)

    def _depth(self, key: str) -> int:
        d, c = 0, self.c[key]
        while c.parent is not None:
            d, c = d + 1, self.c[c.parent]
        return d

    def _family_is_tree(self, family: str) -> bool:
        return any(self.c[k].parent is not None for k in self.c if self.c[k].family == family)

    # ------------------------------------------------------------------ one pass
    def assign(self) -> tuple[dict[str, Decision], dict[str, np.ndarray], dict[str, np.ndarray]]:
        k = self.p.k
        decisions: dict[str, Decision] = {}
        released: dict[str, np.ndarray] = {}
        passed_up: dict[str, np.ndarray] = {}        # customers a merged sub-segment hands to its parent
        suppressed: dict[str, list[np.ndarray]] = {}
        for key in sorted(self.c, key=lambda x: (-self.depth[x], x)):        # deepest first
            cand = self.c[key]
            size = len(cand.members)
            kids = self.children.get(key, [])
            if kids:
                # the remainder: customers of this segment not taken (released or withheld) below it
                own = np.setdiff1d(cand.members, np.concatenate([self.c[ch].members for ch in kids]),
                                   assume_unique=True)
                pool = np.union1d(own, np.concatenate([passed_up.get(ch, np.array([], np.int64)) for ch in kids]))
            else:
                pool = cand.members
            forced = self.withdrawn.get(key)
            if not forced and len(pool) >= k:
                released[key] = pool
                reason = "" if len(pool) == size else "released as the remainder of its released sub-segments"
                decisions[key] = Decision(key, "released", size, key, reason)
                continue
            reason = forced or ("size < k" if len(pool) == size else "remainder after its sub-segments < k")
            if cand.parent is not None and self.p.small == "merge":
                decisions[key] = Decision(key, "merged", size, None,
                                          reason + ("; merged into the parent" if len(pool) else ""))
                passed_up[key] = pool
            else:
                decisions[key] = Decision(key, "suppressed", size, None, reason)
                if len(pool):
                    suppressed.setdefault(cand.family, []).append(pool)
        for key, d in decisions.items():
            if d.status == "merged":
                d.released_as = self._absorber(key, released)
                if d.released_as is None:
                    d.status, d.reason = "suppressed", d.reason + "; no ancestor reached k"
        return decisions, released, {f: np.unique(np.concatenate(v)) for f, v in suppressed.items()}

    def _absorber(self, key: str, released: dict[str, np.ndarray]) -> str | None:
        parent = self.c[key].parent
        while parent is not None:
            if parent in released:
                return parent
            parent = self.c[parent].parent
        return None

    # ------------------------------------------------------------------ violations
    def violations(self, released: dict[str, np.ndarray]) -> list[tuple[str, str, str]]:
        """(key to withdraw, other key, reason) for every differencing problem found."""
        k = self.p.k
        keys = sorted(released)
        if len(keys) < 2:
            return []
        rows = np.concatenate([released[x] for x in keys])
        cols = np.repeat(np.arange(len(keys)), [len(released[x]) for x in keys])
        import scipy.sparse as sp          # on use: `microseg segments` needs only display_size
        m = sp.csc_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(self.n, len(keys)))
        inter = (m.T @ m).toarray()
        size = np.diag(inter).copy()
        found: list[tuple[str, str, str]] = []
        sym = size[:, None] + size[None, :] - 2 * inter
        ii, jj = np.nonzero(np.triu((sym >= 1) & (sym < k), 1))
        for i, j in zip(ii.tolist(), jj.tolist()):
            victim = self._pick(keys[i], keys[j])
            other = keys[j] if victim == keys[i] else keys[i]
            found.append((victim, other, f"differencing with {other!r}: difference < k"))
        # chains: S minus the union of one family's released segments inside S
        families: dict[str, list[int]] = {}
        for idx, key in enumerate(keys):
            families.setdefault(self.c[key].family, []).append(idx)
        for s in range(len(keys)):
            contained = inter[s] == size                     # R ⊆ S
            contained[s] = False
            if not contained.any():
                continue
            for fam, idxs in families.items():
                inside = [r for r in idxs if contained[r] and size[r] < size[s]]
                if not inside:
                    continue
                union = int(size[inside].sum())
                if union > size[s] or self._overlapping(inside, inter):
                    union = len(np.unique(np.concatenate([released[keys[r]] for r in inside])))
                rest = int(size[s]) - union
                if 1 <= rest < k:
                    victim = min(inside, key=lambda r: (size[r], keys[r]))
                    child = keys[victim]
                    target, other = (child, keys[s]) if self.c[child].parent is not None else (keys[s], child)
                    found.append((target, other, f"differencing: {keys[s]!r} minus its released "
                                                   f"sub-segments of {fam!r} leaves < k"))
        return found

    @staticmethod
    def _overlapping(idxs: list[int], inter: np.ndarray) -> bool:
        sub = inter[np.ix_(idxs, idxs)]
        return bool((sub - np.diag(np.diag(sub))).any())

    def _pick(self, a: str, b: str) -> str:
        """Which of a pair to withdraw: a microsegment with a parent first (merge), else the smaller."""
        ca, cb = self.c[a], self.c[b]
        if self.p.differencing == "merge":
            if (ca.parent is not None) != (cb.parent is not None):
                return a if ca.parent is not None else b
        la, lb = len(ca.members), len(cb.members)
        return a if (la, a) < (lb, b) else b

    # ------------------------------------------------------------------ fixed point
    def run(self) -> GateResult:
        rounds = 0
        while True:
            rounds += 1
            decisions, released, suppressed = self.assign()
            if not self.p.check_differencing:
                break
            problems = self.violations(released)
            if not problems:
                break
            touched: set[str] = set()
            for victim, other, reason in problems:      # withdraw only independent ones per round:
                if victim in touched or other in touched:  # one fix often resolves its neighbours
                    continue
                self.withdrawn[victim] = reason
                touched |= {victim, other}
        return GateResult(decisions=decisions, released=released, suppressed_customers=suppressed, rounds=rounds)


def apply_gate(candidates: list[Candidate], n_customers: int, policy: GatePolicy) -> GateResult:
    """Decide, for every candidate, whether it is released, merged into a parent, or suppressed."""
    if policy.k < 2:
        raise ValueError("k must be at least 2")
    return _Gate(candidates, n_customers, policy).run()
