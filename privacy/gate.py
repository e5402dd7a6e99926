"""The release gate: every cell of the released table holds 0 or at least k customers.

Input: the released table's columns (:mod:`microseg.privacy.columns`), each customer's true
value in each, k, and — across runs — the *strata* of earlier releases in scope
(:mod:`microseg.privacy.history`). Output: the value each customer is released with in each
column, at the true value or coarser.

The algorithm is a top-down specialisation with local recoding (in the spirit of Mondrian and
top-down specialisation in the k-anonymity literature; ``docs/privacy-gate.md`` has the argument):

1. Every customer starts with every column withheld (``"*"``), in one cell per stratum (without
   earlier releases: one cell). A customer whose columns are all withheld is not released.
2. Each round, every cell considers, for every column, the step one level finer towards each
   member's true value. Members whose finer value is shared by ≥ k members of the cell move; the
   others stay behind (the *remainder*, which keeps the cell's values). A remainder of 1..k−1 is
   not allowed (withheld is a value too): it is topped up with members of the largest group when
   that group can spare them, else the smallest group stays behind whole. The cell refines the
   lowest *tier* of columns that can move anyone — microsegment dimensions first, in their order
   (so the microsegment tree is refined top-down, a too-small leaf staying in its parent), then
   the other families, score bands, attributes; within tiers 1..3 it takes the column that moves
   the most members (weighted by 1/depth of the column, so a full step in any column counts the
   same); ties go to the column listed first.
3. Cells split; a cell where no column moves anyone is final. Each round moves somebody one level
   down a finite tree, so the loop ends.

Every cell is ≥ k whenever it is visible, so the final table satisfies the invariant by
construction; :func:`apply_gate` re-checks it with :func:`microseg.privacy.cells.check_cells`
and refuses to return a table that does not.

Across runs, the cells start as strata (customers who shared every released value in every
earlier release in scope). The all-withheld remainder of a stratum counts the stratum's
customers absent from this run (leavers): absence is visible to whoever holds both exports. For
customers new to every release in scope, not being released is invisible. A *holdable* column
(a family) may give members whose move would form a small group the stratum's value from the
earlier release instead ("held"), when that value's group is ≥ k.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from microseg.privacy.cells import check_cells
from microseg.privacy.columns import Column
from microseg.privacy.counts import display_size  # noqa: F401  (re-exported: microseg.migration uses it)
from microseg.sorting import stable_order


@dataclass
class Strata:
    """Earlier releases in scope, as seen by this run's releasable customers.

    ``code[i]``: customer ``i``'s stratum (0: in no earlier release in scope). Per stratum:
    ``absent`` (its customers of earlier releases who are not releasable now), ``visible``
    (False only for stratum 0) and, per holdable column name, ``hold`` (the stratum's value code
    in that column in its latest earlier release; -1: none).
    """

    code: np.ndarray
    absent: np.ndarray
    visible: np.ndarray
    hold: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def none(cls, n: int) -> "Strata":
        return cls(code=np.zeros(n, dtype=np.int64), absent=np.zeros(1, dtype=np.int64),
                   visible=np.zeros(1, dtype=bool))


@dataclass
class GateOutcome:
    """Released value codes (``codes[j, i]``: column ``j``, customer ``i``; 0 = withheld)."""

    columns: list[Column]
    codes: np.ndarray
    held: np.ndarray
    rounds: int
    k: int
    #: customers of strata already smaller than k (e.g. an earlier run with a smaller k): withheld
    stranded: int = 0

    @property
    def released(self) -> np.ndarray:
        """Customers released at all (some column not withheld)."""
        return self.codes.any(axis=0) if len(self.codes) else np.zeros(0, dtype=bool)

    def coarsened(self) -> np.ndarray:
        """(columns × customers) True where the released value is not the true one."""
        truths = np.stack([c.truth for c in self.columns]) if self.columns else self.codes
        return self.codes != truths

    def loss(self) -> dict[str, object]:
        """Share of released customers whose value was coarsened or held, per column and overall."""
        rel = self.released
        n_rel = int(rel.sum())
        co = self.coarsened()[:, rel]
        share = (lambda x: round(float(x) / n_rel, 4)) if n_rel else (lambda x: 0.0)
        return {"released_customers": n_rel,
                "coarsened_share": share(co.any(axis=0).sum()),
                "per_column": {c.name: {"coarsened_share": share(co[j].sum()),
                                        "withheld_share": share((self.codes[j, rel] == 0).sum()),
                                        "held_share": share(self.held[j, rel].sum())}
                               for j, c in enumerate(self.columns)},
                "rounds": self.rounds}


class _State:
    def __init__(self, columns: list[Column], k: int, strata: Strata) -> None:
        self.cols, self.k, self.strata = columns, k, strata
        n = len(strata.code)
        m = len(columns)
        self.cur = np.zeros((m, n), dtype=np.int32)
        self.depth = np.zeros((m, n), dtype=np.int16)
        self.stuck = np.zeros((m, n), dtype=bool)
        self.held = np.zeros((m, n), dtype=bool)
        codes, uniq = pd.factorize(strata.code, sort=True)
        self.cell = codes.astype(np.int64)
        self.cell_stratum = np.asarray(uniq, dtype=np.int64)
        self.cell_root = np.ones(len(uniq), dtype=bool)
        self.cell_active = np.ones(len(uniq), dtype=bool)
        self.width = max((len(c.values) for c in columns), default=1) + 1
        for j in range(m):
            self._advance_unchanged(j, np.arange(n))

    def _advance_unchanged(self, j: int, idx: np.ndarray) -> None:
        """Move customers down levels where their value does not change (e.g. "no score")."""
        col = self.cols[j]
        while len(idx):
            d = self.depth[j, idx]
            ok = (d < col.depth) & ~self.held[j, idx]
            idx, d = idx[ok], d[ok]
            same = col.paths[d + 1, idx] == self.cur[j, idx]
            idx = idx[same]
            self.depth[j, idx] += 1

    # ------------------------------------------------------------------ one column, all cells
    def plan(self, j: int, active: np.ndarray, total: np.ndarray, needs_k: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(candidates, their target code or -1, held flags, gain per cell) for column ``j``."""
        col, k = self.cols[j], self.k
        n_cells = len(total)
        cand = np.flatnonzero(active & (self.depth[j] < col.depth) & ~self.stuck[j])
        if not len(cand):
            return cand, cand, cand.astype(bool), np.zeros(n_cells)
        nxt = col.paths[self.depth[j, cand] + 1, cand].astype(np.int64)
        c = self.cell[cand]
        width = len(col.values)
        groups, keys = pd.factorize(c * width + nxt)
        gsize = np.bincount(groups)
        big = gsize >= k
        target = np.where(big[groups], nxt, -1)
        held = np.zeros(len(cand), dtype=bool)
        hold = self.strata.hold.get(col.name) if col.holdable else None
        if hold is not None:
            hc = hold[self.cell_stratum[c]]
            maybe = (target < 0) & (hc > 0)
            if maybe.any():
                ok = np.isin(c[maybe] * width + hc[maybe], keys[big])
                where = np.flatnonzero(maybe)[ok]
                target[where], held[where] = hc[where], True
        moved = np.bincount(c[target >= 0], minlength=n_cells)
        rem = total - moved
        fix = (moved > 0) & (rem > 0) & (rem < k) & needs_k
        if fix.any():
            self._top_up(c, target, held, np.where(fix, k - rem, 0), width)
            moved = np.bincount(c[target >= 0], minlength=n_cells)
        return cand, target, held, moved / col.depth

    def _top_up(self, c: np.ndarray, target: np.ndarray, held: np.ndarray, need: np.ndarray, width: int) -> None:
        """Make each small remainder ≥ k (``need[cell]`` members short): take that many members of
        the cell's largest moving group when it keeps ≥ k, else keep the smallest moving group
        behind whole. Changes ``target`` / ``held`` in place."""
        sel = np.flatnonzero((target >= 0) & (need[c] > 0))
        groups, keys = pd.factorize(c[sel] * width + target[sel])
        gsize = np.bincount(groups)
        cell_of = np.asarray(keys, dtype=np.int64) // width
        # groups by cell, then size, then group number: each cell's smallest group first, its largest last
        by_size = np.lexsort((np.arange(len(gsize)), gsize, cell_of))
        cells = cell_of[by_size]
        edge = np.flatnonzero(cells[1:] != cells[:-1])
        smallest, largest = by_size[np.r_[0, edge + 1]], by_size[np.r_[edge, len(by_size) - 1]]
        order = stable_order(groups)                  # each group's members, lowest customer first
        starts = np.r_[0, np.cumsum(gsize)]
        back = []
        for g, s_g in zip(largest.tolist(), smallest.tolist()):
            short = int(need[cell_of[g]])
            if gsize[g] - short >= self.k:
                back.append(sel[order[starts[g]:starts[g] + short]])
            else:
                back.append(sel[order[starts[s_g]:starts[s_g + 1]]])
        idx = np.concatenate(back)
        target[idx], held[idx] = -1, False

    # ------------------------------------------------------------------ rounds
    def round(self) -> bool:
        """One round: every active cell takes its best column. False when nothing moved."""
        n_cells = len(self.cell_stratum)
        sizes = np.bincount(self.cell, minlength=n_cells)
        absent = np.where(self.cell_root, self.strata.absent[self.cell_stratum], 0)
        total = sizes + absent
        needs_k = ~self.cell_root | self.strata.visible[self.cell_stratum]
        active = self.cell_active[self.cell]
        best = np.zeros(n_cells)
        choice = np.full(n_cells, -1)
        tier = np.full(n_cells, 99)
        plans = []
        for j in range(len(self.cols)):
            plan = self.plan(j, active, total, needs_k)
            t = self.cols[j].tier
            gain = plan[3]
            # a lower tier wins; in tier 0 the first column that moves anyone; else the largest gain
            better = (gain > 0) & ((t < tier) | ((t == tier) & (t > 0) & (gain > best + 1e-12)))
            best[better], choice[better], tier[better] = gain[better], j, t
            plans.append(plan)
        if not (best > 0).any():
            return False
        tag = np.zeros(len(self.cell), dtype=np.int64)
        for j, (cand, target, held, _) in enumerate(plans):
            mine = choice[self.cell[cand]] == j
            if not mine.any():
                continue
            movers = mine & (target >= 0)
            idx = cand[movers]
            self.cur[j, idx] = target[movers]
            self.depth[j, idx] += 1
            h = idx[held[movers]]
            self.held[j, h] = True
            self.depth[j, h] = self.cols[j].depth
            self.stuck[j, cand[mine & (target < 0)]] = True
            tag[idx] = self.cur[j, idx].astype(np.int64) + 1
            self._advance_unchanged(j, idx)
        old = self.cell
        new, keys = pd.factorize(old * self.width + tag)
        first = np.zeros(len(keys), dtype=np.int64)
        first[new[::-1]] = np.arange(len(new))[::-1]
        parent = old[first]
        self.cell = new.astype(np.int64)
        self.cell_stratum = self.cell_stratum[parent]
        self.cell_root = self.cell_root[parent] & (tag[first] == 0)
        self.cell_active = self.cell_active[parent] & (best[parent] > 0)
        return True


def apply_gate(columns: list[Column], k: int, strata: Strata | None = None) -> GateOutcome:
    """Release every column at the finest values that keep every visible cell ≥ k."""
    if k < 2:
        raise ValueError("k must be at least 2")
    n = len(columns[0].truth) if columns else (len(strata.code) if strata is not None else 0)
    strata = strata if strata is not None else Strata.none(n)
    state = _State(columns, k, strata)
    rounds = 0
    while state.round():
        rounds += 1
    outcome = GateOutcome(columns=columns, codes=state.cur, held=state.held, rounds=rounds, k=k)
    outcome.stranded = _self_check(outcome, strata)
    return outcome


def _self_check(outcome: GateOutcome, strata: Strata) -> int:
    """Re-check the invariant on the result (one implementation: :mod:`microseg.privacy.cells`);
    returns the customers of strata that were already below k."""
    k, rel = outcome.k, outcome.released
    check = check_cells([strata.code[rel], *outcome.codes[:, rel]], k)
    present = np.bincount(strata.code, minlength=len(strata.absent))
    unreleased = np.bincount(strata.code[~rel], minlength=len(strata.absent))
    stratum_size = present + strata.absent
    absent_now = unreleased + strata.absent
    small_absent = strata.visible & (stratum_size >= k) & (absent_now > 0) & (absent_now < k)
    if not check.ok or small_absent.any():
        raise RuntimeError(f"release gate: internal error, {check.small_cells} released cells and "
                           f"{int(small_absent.sum())} absent cells below k; nothing was released")
    return int(present[strata.visible & (stratum_size < k)].sum())
