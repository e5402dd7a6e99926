"""The released table's columns and their generalisation hierarchies.

A release is a table: one row per released customer, one column per released family (a label; a
multi-membership family: the set of its labels), score band or attribute. Each column is a tree
of values whose root is :data:`WITHHELD` (``"*"``); a customer's *true* value is a leaf, and the
gate may release any ancestor of it instead (a coarser value):

* a family: label (or label set) → ``"*"`` (the family's "other": withheld);
* a score band: quantile band → the pair of bands it belongs to → … → two halves → ``"*"``;
* an attribute: the :mod:`microseg.privacy.kanon` hierarchy (age 37 → 35-39 → 30-39 → 20-39 → ``"*"``).

:class:`Column` stores, per customer, the value code at every depth of that tree (``paths``), so
"one level finer towards the truth" is a table look-up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microseg.compose import KEY_SEP, UNASSIGNED

WITHHELD = "*"
#: the released value of a customer the method gave no score
NO_SCORE = "no score"
#: the microsegment column: not a column of the gate, derived from its dimensions
MICRO = "micro"
#: text of a family value for a customer the method gave no label
NO_LABEL = ""
SET_SEP = ";"


@dataclass
class Column:
    """One released column.

    ``values[code]`` is the text of a value (code 0 is :data:`WITHHELD`); ``paths[d, i]`` is the
    code of customer ``i``'s value at depth ``d`` (row 0 is all zeros, the last row the truth).
    """

    name: str
    kind: str                      # "family" | "score" | "attribute"
    values: list[str]
    paths: np.ndarray              # (depth + 1, n) int32
    holdable: bool = False         # a value from an earlier run may be held (one-level families)
    #: families: the labels behind each value code (a set for multi-membership families)
    parts: list[tuple[str, ...]] | None = None
    #: the gate refines lower tiers first: 0 microsegment dimensions (in order), 1 other families,
    #: 2 score bands, 3 attributes
    tier: int = 1

    @property
    def depth(self) -> int:
        return self.paths.shape[0] - 1

    @property
    def truth(self) -> np.ndarray:
        return self.paths[-1]

    def code_of(self, text: str) -> int:
        """The code of a value text at the finest depth, or -1."""
        try:
            return self.values.index(text)
        except ValueError:
            return -1


def _two_level(name: str, kind: str, texts: np.ndarray, holdable: bool, tier: int) -> Column:
    codes, uniques = pd.factorize(pd.Series(texts, dtype=object), sort=True)
    values = [WITHHELD, *[str(u) for u in uniques]]
    paths = np.zeros((2, len(texts)), dtype=np.int32)
    paths[1] = codes + 1
    return Column(name=name, kind=kind, values=values, paths=paths, holdable=holdable, tier=tier)


def family_column(name: str, rows: np.ndarray, labels: np.ndarray, n: int, tier: int = 1) -> Column:
    """A method family's column from its memberships: ``rows[i]`` (customer position) holds
    ``labels[i]``. A customer with several labels has their sorted set as one value (``a;b``);
    one without any has :data:`NO_LABEL`."""
    label_codes, label_names = pd.factorize(pd.Series(labels, dtype=object).astype(str), sort=True)
    return family_column_of_codes(name, rows, label_codes, [str(x) for x in label_names], n, tier)


def family_column_of_codes(name: str, rows: np.ndarray, label_codes: np.ndarray, label_names: list[str], n: int,
                           tier: int = 1) -> Column:
    """:func:`family_column` from label codes: ``rows[i]`` holds ``label_names[label_codes[i]]``
    (``label_names`` sorted, each used by some row)."""
    sets = np.full(n, -1, dtype=np.int64)           # per customer: a code of their label set
    set_parts: list[tuple[str, ...]] = []
    if len(rows):
        order = np.lexsort((label_codes, rows))
        rows, label_codes = rows[order], label_codes[order]
        first = np.r_[True, rows[1:] != rows[:-1]]
        if first.all():
            sets[rows] = label_codes
            set_parts = [(str(x),) for x in label_names]
        else:
            combo, members = _label_sets(rows, label_codes, first, len(label_names))
            sets[rows[first]] = combo
            set_parts = [tuple(str(label_names[c]) for c in m) for m in members]
    codes, used = pd.factorize(sets, sort=True)
    parts = [()] + [set_parts[u] if u >= 0 else () for u in used.tolist()]
    values = [WITHHELD] + [SET_SEP.join(p) if p else NO_LABEL for p in parts[1:]]
    paths = np.zeros((2, n), dtype=np.int32)
    paths[1] = codes + 1
    return Column(name=name, kind="family", values=values, paths=paths, holdable=True, parts=parts, tier=tier)


def _label_sets(rows: np.ndarray, codes: np.ndarray, first: np.ndarray,
                n_labels: int) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Per customer (``rows`` sorted, then ``codes``; ``first`` marks each customer's first entry):
    a code of their set of label codes, in order of first appearance, and each set's label codes in
    ascending order. Sets are bit masks when there are at most 63 labels (vectorised), else text."""
    if n_labels <= 63:
        keep = np.r_[True, (rows[1:] != rows[:-1]) | (codes[1:] != codes[:-1])]     # a label once
        bits = np.left_shift(np.uint64(1), codes[keep].astype(np.uint64))
        starts = np.flatnonzero(first[keep])
        masks = np.add.reduceat(bits, starts)                                         # distinct bits: OR
        combo, uniq = pd.factorize(masks)
        members = [tuple(c for c in range(n_labels) if int(u) >> c & 1) for u in uniq]
        return combo, members
    group = np.cumsum(first) - 1
    as_text = pd.Series(codes.astype(str)).groupby(group, sort=True).agg(",".join).to_numpy()
    combo, uniq = pd.factorize(as_text)
    return combo, [tuple(int(c) for c in u.split(",")) for u in uniq]


def _round_sig(x: np.ndarray, digits: int = 2) -> np.ndarray:
    """Round to ``digits`` significant figures (band edges never repeat one customer's score)."""
    out = np.zeros_like(x, dtype=float)
    nz = x != 0
    mag = np.floor(np.log10(np.abs(x[nz])))
    scale = 10.0 ** (digits - 1 - mag)
    out[nz] = np.round(x[nz] * scale) / scale
    return out


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def band_edges(values: np.ndarray, bands: int) -> np.ndarray:
    """Quantile edges (at 1/bands, 2/bands, …) rounded to two significant figures, distinct,
    strictly above the smallest value (so every band holds someone)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return np.array([], dtype=float)
    qs = np.quantile(finite, np.arange(1, bands) / bands)
    edges = np.unique(_round_sig(qs))
    return edges[edges > finite.min()]


def _band_label(lo: float, hi: float) -> str:
    if lo == -np.inf:
        return "any" if hi == np.inf else f"< {_fmt(hi)}"
    return f"≥ {_fmt(lo)}" if hi == np.inf else f"{_fmt(lo)}–{_fmt(hi)}"


def score_column(name: str, values: pd.Series, bands: int) -> Column:
    """A per-customer score as quantile bands that widen pairwise up to two halves.

    Numeric scores get ``bands`` quantile bands labelled ``"< 0.12"``, ``"0.12–0.25"`` (lower
    bound included), ``"≥ 0.8"``; a customer without a score has ``"no score"`` at every depth.
    Text scores (e.g. an RFM code) are a one-level column like a family.
    """
    n = len(values)
    numeric = pd.to_numeric(values, errors="coerce") if values.dtype == object else values
    if not (pd.api.types.is_numeric_dtype(numeric) and not pd.api.types.is_bool_dtype(numeric)) or (
            values.notna() & pd.isna(numeric)).any():
        texts = values.astype("string").fillna(NO_SCORE).to_numpy(dtype=object)
        return _two_level(name, "score", texts, holdable=False, tier=2)
    x = numeric.to_numpy(dtype=float, na_value=np.nan)
    edges = band_edges(x, bands)
    fine = np.searchsorted(edges, x, side="right")         # 0 .. len(edges)
    missing = ~np.isfinite(x)
    levels = [np.arange(len(edges) + 1)]                  # fine band -> band at each coarser level
    while len(np.unique(levels[-1])) > 2:
        levels.append(levels[-1] // 2)
    levels.reverse()                                       # coarsest (≤ 2 bands) first
    values_out, paths = [WITHHELD], np.zeros((len(levels) + 1, n), dtype=np.int32)
    bounds = np.r_[-np.inf, edges, np.inf]
    for depth, group_of in enumerate(levels, start=1):
        offset = len(values_out)
        groups = np.unique(group_of)
        for g in groups:
            members = np.flatnonzero(group_of == g)
            lo, hi = bounds[members[0]], bounds[members[-1] + 1]
            values_out.append(_band_label(lo, hi))
        paths[depth] = offset + np.searchsorted(groups, group_of[fine])
        if missing.any():
            paths[depth, missing] = len(values_out)
            values_out.append(NO_SCORE)
    return Column(name=name, kind="score", values=values_out, paths=paths, tier=2)


def attribute_column(name: str, values: pd.Series, start_level: int = 0) -> Column:
    """A customer attribute with its :mod:`~microseg.privacy.kanon` hierarchy; ``start_level``
    1 releases at most the first generalisation (the policy action ``generalise``)."""
    from microseg.privacy.kanon import generalise_level, max_level
    top = max_level(values)
    start = min(start_level, top)
    n = len(values)
    paths = np.zeros((top - start + 1, n), dtype=np.int32)
    texts_out = [WITHHELD]
    for depth, level in enumerate(range(top - 1, start - 1, -1), start=1):
        text = generalise_level(values, level).astype("string").fillna("missing").to_numpy(dtype=object)
        codes, uniques = pd.factorize(text, sort=True)
        # a value text may recur at another depth (e.g. "missing"): codes stay distinct per depth
        paths[depth] = codes + len(texts_out)
        texts_out += [str(u) for u in uniques]
    return Column(name=name, kind="attribute", values=texts_out, paths=paths, tier=3)


def micro_keys(dims: list[str], columns: list[Column], codes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each customer's microsegment — the longest run of released dimensions ``dims`` given the
    released value ``codes[j, i]`` of column ``j`` — as a code into the returned keys
    (``micro:*`` when the first dimension is withheld)."""
    n = codes.shape[1]
    idx = [next(j for j, c in enumerate(columns) if c.name == d) for d in dims]
    alive = np.ones(n, dtype=bool)
    level = np.zeros(n, dtype=np.int64)
    combined = np.zeros(n, dtype=np.int64)
    for j in idx:
        code = codes[j].astype(np.int64)
        alive &= code > 0
        level += alive
        combined = np.where(alive, combined * (len(columns[j].values) + 1) + code, combined)
    prefix, uniq = pd.factorize(combined * (len(idx) + 1) + level)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[prefix[::-1]] = np.arange(n)[::-1]
    keys = []
    for i in first.tolist():
        parts = [columns[j].values[codes[j, i]] for j in idx[: int(level[i])]]
        parts = [UNASSIGNED if p == NO_LABEL else p for p in parts]
        keys.append(f"{MICRO}:" + (KEY_SEP.join(parts) if parts else WITHHELD))
    return prefix.astype(np.int64), keys
