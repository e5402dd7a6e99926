"""The cells of a released table, and which are small — the release invariant in one place.

A *cell* is the set of rows (customers) that share every released value. The invariant: every
cell holds 0 or at least k customers. Any set expression over released values — an intersection
of labels, a difference, a parent minus its children — is a union of cells, so it too holds 0 or
at least k customers.

Across runs a row is a customer present in at least one release in scope, and a column is one
run's released value (``-1``: absent from that run's release — absence is a value too).

The gate checks its own result with :func:`check_cells` before anything is written; ``microseg
audit`` recomputes the same check from the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd


def cell_ids(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Dense cell id per row (rows equal in every column share one) and the size of each cell.

    ``columns`` are integer codes (any range, ``-1`` allowed) or hashable object values, one
    array per released column, all of the same length.
    """
    n = len(columns[0]) if len(columns) else 0
    ids = np.zeros(n, dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(np.asarray(col), use_na_sentinel=False)
        ids = pd.factorize(ids * (len(uniques) + 1) + codes)[0].astype(np.int64)
    sizes = np.bincount(ids, minlength=int(ids.max()) + 1 if n else 0)
    return ids, sizes


@dataclass
class CellCheck:
    """The outcome of checking a released table (one run, or several runs joined)."""

    k: int
    rows: int
    cells: int
    smallest: int
    small_cells: int
    rows_in_small_cells: int

    @property
    def ok(self) -> bool:
        return self.small_cells == 0

    def as_dict(self) -> dict[str, int | bool]:
        return {"k": self.k, "rows": self.rows, "cells": self.cells, "smallest_cell": self.smallest,
                "small_cells": self.small_cells, "ok": self.ok}


def check_cells(columns: Sequence[np.ndarray], k: int) -> CellCheck:
    """Count the cells of 1..k−1 rows."""
    ids, sizes = cell_ids(columns)
    small = (sizes > 0) & (sizes < k)
    return CellCheck(k=k, rows=len(ids), cells=int((sizes > 0).sum()),
                     smallest=int(sizes[sizes > 0].min()) if (sizes > 0).any() else 0,
                     small_cells=int(small.sum()), rows_in_small_cells=int(small[ids].sum()) if len(ids) else 0)
