"""Evaluation metrics shared by the built-in methods (binary classification and uplift).

Every metric takes optional row weights: a 1-D array gives one value; a 2-D array of shape
(rows, resamples) — one column of weights per bootstrap resample, see
:mod:`microseg.plugins.comparison` — gives one value per column, all computed together from one
sort of the scores (running sums go down the rows, over contiguous resample vectors). Unit
weights give the ordinary metric (tested against scikit-learn and scikit-uplift). Ties in the
scores are handled as a group (the expected value under a random order within the tie), so a
constant score — the base-rate predictor — has ROC AUC 0.5, PR AUC equal to the positive rate and
top-decile lift 1.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np


def _weights(w: np.ndarray | None, n: int) -> tuple[np.ndarray, bool]:
    """Weights as a 2-D (rows × resamples) array, and whether the input was 1-D or absent."""
    if w is None:
        return np.ones((n, 1)), True
    w = np.asarray(w)
    if w.dtype.kind != "f":
        w = w.astype(float)
    return (w[:, None], True) if w.ndim == 1 else (w, False)


def _out(values: np.ndarray, single: bool) -> float | np.ndarray:
    return float(values[0]) if single else values


class _Reuse:
    """Weight-independent work (sorts, group indicators) kept while :func:`reused` is active: the
    bootstrap calls every metric once per chunk of resamples on the same rows and scores. Entries
    match by identity or equal contents (the arrays are not changed while it is active)."""

    entries: list[tuple[tuple[np.ndarray, ...], object, object]] | None = None

    @classmethod
    def get(cls, arrays: tuple[np.ndarray, ...], tag: object, make):
        if cls.entries is None:
            return make()
        for held, held_tag, value in cls.entries:
            if held_tag == tag and all(a is b or (a.shape == b.shape and np.array_equal(a, b))
                                       for a, b in zip(held, arrays)):
                return value
        value = make()
        cls.entries.append((arrays, tag, value))
        return value


@contextmanager
def reused() -> Iterator[None]:
    """Within the block, metrics on the same rows and scores sort them (and group them) once."""
    outer = _Reuse.entries
    _Reuse.entries = [] if outer is None else outer
    try:
        yield
    finally:
        _Reuse.entries = outer


def _descending_groups(score: np.ndarray, stable_reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Row order by descending score and the start of each group of tied scores."""
    score = np.asarray(score, dtype=float)
    return _Reuse.get((score,), ("order", stable_reverse), lambda: _sorted_groups(score, stable_reverse))


def _sorted_groups(score: np.ndarray, stable_reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(score, kind="mergesort")[::-1] if stable_reverse else np.argsort(-score, kind="mergesort")
    s = score[order]
    return order, np.r_[0, np.flatnonzero(np.diff(s)) + 1]


#: ties at most this long are summed row by row (a pass per row of the longest tie), longer ones by reduceat
SHORT_TIES = 16


def _by_group(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums over each group of tied rows (no work when there is no tie).

    A few short ties (scores are mostly distinct) are added in place, the j-th row of every tie at
    once, onto a copy of each group's first row — the additions of ``np.add.reduceat`` in its order
    (the same numbers), without its pass over every row."""
    if len(starts) == len(values):
        return values
    sizes = np.diff(np.r_[starts, len(values)])
    longest = int(sizes.max())
    if longest > SHORT_TIES or (len(values) - len(starts)) * 8 > len(values):
        return np.add.reduceat(values, starts, axis=0)
    out = values[starts]
    for j in range(1, longest):
        tied = np.flatnonzero(sizes > j)
        out[tied] += values[starts[tied] + j]
    return out


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return a / b


def ranked_counts(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted positives and negatives per group of tied scores, by descending score (2-D)."""
    y = np.asarray(y, dtype=float)
    w, _ = _weights(w, len(y))
    order, starts = _descending_groups(score)
    ws = np.take(w, order, axis=0)      # rows in score order (np.take: ~3x faster than w[order] here)
    pos = ws * y[order][:, None].astype(ws.dtype)
    ws -= pos
    return _by_group(pos, starts), _by_group(ws, starts)


#: whole numbers up to here are exact in the dtype: sums of whole numbers below it are exact, in any order
EXACT_UP_TO = {np.dtype(np.float32): 2.0 ** 24, np.dtype(np.float64): 2.0 ** 53}
#: rows per block of :func:`_running_sums` (0.33 ms for 5,370 × 46 float32; 64: 0.37, 128: 0.51)
RUNNING_BLOCK = 32


def whole_counts(y: np.ndarray, w: np.ndarray) -> bool:
    """True when the running sums of :func:`ranked_counts` of ``y`` and ``w`` are exact whatever
    the order of their additions: outcomes 0/1 and weights (rows × resamples) non-negative
    whole numbers — bootstrap draw counts — whose column totals the dtype holds exactly."""
    limit = EXACT_UP_TO.get(w.dtype)
    if limit is None or w.ndim != 2 or not w.size:
        return False
    y = np.asarray(y)
    return bool(((y == 0) | (y == 1)).all() and w.min() >= 0 and w.sum(axis=0, dtype=np.float64).max() < limit
                and (np.trunc(w) == w).all())


def _running_sums(x: np.ndarray, exact: bool) -> np.ndarray:
    """``np.cumsum(x, axis=0)``, the same numbers. ``exact`` (:func:`whole_counts`): every partial
    sum is a whole number the dtype holds exactly, so the additions may run in another order —
    down blocks of :data:`RUNNING_BLOCK` rows, one vector add across all blocks and columns per
    step, then each block's offset — instead of numpy's one element at a time down each column
    (5,370 × 46 float32: 0.81 -> 0.33 ms). Any trailing shape: the sums run down the first axis."""
    n = len(x)
    if not exact or n < 4 * RUNNING_BLOCK:
        return np.cumsum(x, axis=0)
    blocks = -(-n // RUNNING_BLOCK)
    out = np.zeros((blocks * RUNNING_BLOCK,) + x.shape[1:], dtype=x.dtype)
    out[:n] = x
    by_block = out.reshape((blocks, RUNNING_BLOCK) + x.shape[1:])
    for j in range(1, RUNNING_BLOCK):
        np.add(by_block[:, j - 1], by_block[:, j], out=by_block[:, j])
    by_block[1:] += np.cumsum(by_block[:-1, -1], axis=0)[:, None]
    return out[:n]


def ranked_metrics(pos: np.ndarray, neg: np.ndarray, fraction: float = 0.1, *,
                   exact: bool = False) -> dict[str, np.ndarray]:
    """ROC AUC, average precision and top-``fraction`` lift per resample from
    :func:`ranked_counts` (running sums shared by the three; column-wise dot products, and the
    lift only over the leading groups that reach into the top ``fraction``). ``exact``: the
    counts came from :func:`whole_counts` weights (faster running sums, the same numbers)."""
    tp, fp = _running_sums(pos, exact), _running_sums(neg, exact)
    n_pos, n_neg = tp[-1].copy(), fp[-1].copy()
    # ROC AUC: each positive outranks the negatives below it, and half of those tied with it
    below = n_pos * n_neg - _dot(pos, fp) + 0.5 * _dot(pos, neg)
    auc = _ratio(below, n_pos * n_neg)
    seen = tp + fp                      # rows with nothing seen yet have no positive weight either
    total = seen[-1].copy()
    cut = np.ceil(total * fraction)
    # leading groups that reach into the top: those whose preceding weight is below the cut
    lead = _leading(seen, cut)
    g_pos, g_neg, g_seen = pos[:lead], neg[:lead], seen[:lead]
    group = g_pos + g_neg
    inside = np.clip(cut - (g_seen - group), 0, group)
    share = np.divide(inside, group, out=np.zeros_like(group), where=group > 0)
    lift = _ratio(_ratio(_dot(g_pos, share), cut), _ratio(n_pos, total))
    np.maximum(seen, np.finfo(seen.dtype).tiny, out=seen)
    np.divide(tp, seen, out=seen)       # precision at each group
    ap = _ratio(_dot(pos, seen), n_pos)
    return {"roc_auc": auc, "pr_auc": ap, "top_decile_lift": lift}


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise dot products of two (rows × resamples) arrays."""
    return np.einsum("ij,ij->j", a, b)


def _leading(seen: np.ndarray, cut: np.ndarray) -> int:
    """How many leading rows can reach into the top ``cut`` of some column: up to and including,
    in every column, the first row whose running total (``seen``, non-decreasing) reaches it."""
    n = len(seen)
    m = min(n, 64)
    while m < n and not (seen[m - 1] >= cut).all():      # look at a growing head, not every row
        m = min(n, 2 * m)
    reached = seen[:m] >= cut
    first = np.where(reached.any(axis=0), reached.argmax(axis=0), m - 1)
    return int(first.max()) + 1 if n else 0


def _inside_top(group: np.ndarray, fraction: float) -> np.ndarray:
    """Weight of each (sorted) row inside the top ``fraction`` (rounded down) of the total."""
    end = np.cumsum(group, axis=0)
    cut = np.floor(end[-1] * fraction)
    return np.clip(cut - (end - group), 0, group)


def _single(name: str, y: np.ndarray, score: np.ndarray, w: np.ndarray | None) -> float | np.ndarray:
    return _out(ranked_metrics(*ranked_counts(y, score, w))[name], w is None or np.ndim(w) == 1)


def roc_auc(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Area under the ROC curve (probability a positive outranks a negative, ties count half)."""
    return _single("roc_auc", y, score, w)


def average_precision(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Area under the precision-recall curve as scikit-learn's ``average_precision_score``."""
    return _single("pr_auc", y, score, w)


def top_lift(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Positive rate among the top 10 % by score ÷ the overall positive rate."""
    return _single("top_decile_lift", y, score, w)


def classification_report(y: np.ndarray, p: np.ndarray) -> dict[str, float | int]:
    """ROC AUC, PR AUC, top-decile lift and Brier score (NaN-free inputs)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    out: dict[str, float | int] = {"rows": int(len(y)), "positive_rate": float(y.mean()) if len(y) else float("nan")}
    if len(np.unique(y)) < 2:
        return out | {"roc_auc": None, "pr_auc": None, "top_decile_lift": None, "brier": None}
    out.update({name: float(v[0]) for name, v in ranked_metrics(*ranked_counts(y, p)).items()})
    out["brier"] = float(np.mean((p - y) ** 2))
    return out


def _group_sums(w: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``columns`` (rows × j) summed with each resample's weights: (j × resamples)."""
    return (w.T @ columns.astype(w.dtype)).T          # this orientation is ~5x faster in BLAS


def uplift_at_k(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray, k: float = 0.3,
                w: np.ndarray | None = None) -> float | np.ndarray:
    """scikit-uplift's ``uplift_at_k(strategy='overall')``: response-rate difference (treated −
    control) among the top k of rows by uplift (ties in row order, as scikit-uplift)."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    w, single = _weights(w, len(y))
    order, _ = _descending_groups(uplift, stable_reverse=True)
    top = _inside_top(np.take(w, order, axis=0), k)
    yo, to = y[order], t[order]
    s = _group_sums(top, np.column_stack([yo * to, to, yo * (1 - to), 1 - to]))
    return _out(_ratio(s[0], s[1]) - _ratio(s[2], s[3]), single)


def treatment_effect(y: np.ndarray, treatment: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Response rate of the treated − of the controls: what random targeting gains per customer."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    w, single = _weights(w, len(y))
    s = _group_sums(w, np.column_stack([y * t, t, y * (1 - t), 1 - t]))
    return _out(_ratio(s[0], s[1]) - _ratio(s[2], s[3]), single)


def _qini(y: np.ndarray, t: np.ndarray, score: np.ndarray, w: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Qini curve points at the ends of tie groups (best uplift first): weight per group, number
    targeted so far and incremental responders (rows: groups, columns: resamples)."""
    g, dense, indicator = _Reuse.get((y, t, score), ("qini", w.dtype), lambda: _qini_indicator(y, t, score, w.dtype))
    both = _group_sums(w, indicator) if dense else np.asarray(indicator @ w)
    return _qini_points(both, g)[:3]


def _qini_points(both: np.ndarray, g: int) -> tuple[np.ndarray, ...]:
    """From the (4 groups × resamples) sums of :func:`_qini_indicator`: weight per group, number
    targeted so far, incremental responders, and the running sums of treated, treated responders
    and control responders."""
    sums = [both[j * g:(j + 1) * g] for j in range(4)]
    n_all, n_t, y_t, y_c = (np.cumsum(v, axis=0) for v in sums)
    n_c = n_all - n_t
    curve = y_t - np.divide(y_c * n_t, n_c, out=np.zeros_like(n_c), where=n_c > 0)
    return sums[0], n_all, curve, n_t, y_t, y_c


#: up to this many tie groups the Qini sums are one dense matrix product (e.g. the perfect ranking)
DENSE_GROUPS = 64


def _qini_indicator(y: np.ndarray, t: np.ndarray, score: np.ndarray, dtype: np.dtype) -> tuple[int, bool, object]:
    """The number of tie groups and the (4 groups × rows) indicator whose product with the weights
    gives each group's weight, treated, treated responders and control responders."""
    order, g, group_of, parts = _qini_parts(y, t, score)
    if g <= DENSE_GROUPS:                 # few groups: sums by matrix product
        indicator = np.zeros((len(y), 4 * g))
        for j in range(4):
            indicator[order, j * g + group_of] = parts[:, j]
        return g, True, indicator
    return g, False, _sparse_indicator(order, g, group_of, parts, len(y), dtype)


def _qini_parts(y: np.ndarray, t: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Rows by descending uplift (ties in row order), the number of tie groups, each sorted row's
    group, and its (1, treated, treated responder, control responder) parts."""
    order, starts = _descending_groups(score, stable_reverse=True)
    yo, to = y[order], t[order]
    parts = np.column_stack([np.ones_like(yo), to, yo * to, yo * (1 - to)])
    group_of = np.searchsorted(starts, np.arange(len(y)), side="right") - 1
    return order, len(starts), group_of, parts


def _sparse_indicator(columns: np.ndarray, g: int, group_of: np.ndarray, parts: np.ndarray, width: int,
                      dtype: np.dtype) -> object:
    """(4 groups × ``width``) sparse indicator: sorted row i adds its parts to column ``columns[i]``
    (entries of rows sharing a column are summed)."""
    from scipy.sparse import csr_matrix   # one sparse (4 groups × rows) product: one pass over the weights
    nz = parts != 0
    rows = (np.arange(4) * g)[None, :] + group_of[:, None]
    cols = np.broadcast_to(columns[:, None], parts.shape)
    return csr_matrix((parts[nz].astype(dtype), (rows[nz], cols[nz])), shape=(4 * g, width))


def qini_curve(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve points (x = number targeted, y = incremental responders), as scikit-uplift."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    _, n_all, curve = _qini(y, t, uplift, np.ones((len(y), 1)))
    return np.r_[0, n_all[:, 0]], np.r_[0, curve[:, 0]]


def _qini_area(y: np.ndarray, t: np.ndarray, score: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area under the Qini curve and under the random line."""
    return _area(*_qini(y, t, score, w))


def _area(group: np.ndarray, n_all: np.ndarray, curve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    previous = np.concatenate([np.zeros((1, curve.shape[1]), dtype=curve.dtype), curve[:-1]], axis=0)
    area = (group * (curve + previous)).sum(axis=0) / 2             # trapezoids: width = group weight
    return area, n_all[-1] * curve[-1] / 2


def qini_auc_score(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray,
                   w: np.ndarray | None = None) -> float | np.ndarray:
    """scikit-uplift's ``qini_auc_score``: area between the model's Qini curve and the random
    line, normalised by the perfect model's (``negative_effect=True``)."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    w, single = _weights(w, len(y))
    area, rand = _qini_area(y, t, uplift, w)
    best, best_rand = _qini_area(y, t, y * t - y * (1 - t), w)
    return _out(_ratio(area - rand, best - best_rand), single)


class _UnitSums:
    """Weight-independent parts of :func:`uplift_resampled`: per tie group, the sparse sums of
    each unit's rows (model and perfect ranking), and uplift@k's rows in order with their units and
    where each tie group starts among them."""

    def __init__(self, y: np.ndarray, t: np.ndarray, score: np.ndarray, units: np.ndarray | None, width: int,
                 dtype: np.dtype) -> None:
        y, t = np.asarray(y, float), np.asarray(t, float)
        self.usable = bool(len(y) and ((y == 0) | (y == 1)).all() and ((t == 0) | (t == 1)).all())
        units = np.arange(len(y)) if units is None else np.asarray(units)
        self.sizes = np.bincount(units, minlength=width).astype(np.float64)    # rows per unit
        self.model = self._qini(y, t, score, units, width, dtype)
        self.best = self._qini(y, t, y * t - y * (1 - t), units, width, dtype)
        order, starts = _descending_groups(score, stable_reverse=True)
        yo, to = y[order], t[order]
        self.top_units = units[order]
        self.top_starts = np.r_[starts, len(y)]
        self.top_columns = np.column_stack([yo * to, to, yo * (1 - to), 1 - to]).astype(dtype)

    @staticmethod
    def _qini(y: np.ndarray, t: np.ndarray, score: np.ndarray, units: np.ndarray, width: int,
              dtype: np.dtype) -> tuple[int, object]:
        order, g, group_of, parts = _qini_parts(y, t, score)
        return g, _sparse_indicator(units[order], g, group_of, parts, width, dtype)


def _whole_unit_counts(counts: np.ndarray, sizes: np.ndarray) -> bool:
    """:func:`whole_counts` of the row weights ``counts[units]``, from the units' counts: non-negative whole
    numbers whose row totals (``sizes`` rows per unit) the dtype holds exactly."""
    limit = EXACT_UP_TO.get(counts.dtype)
    if limit is None or counts.ndim != 2 or not counts.size:
        return False
    return bool(counts.min() >= 0 and (sizes @ counts.astype(np.float64)).max() < limit
                and (np.trunc(counts) == counts).all())


def _qini_areas(qini: tuple[int, object], counts: np.ndarray, step: int) -> tuple[np.ndarray, ...]:
    """Area under the Qini curve and under the random line, and the running sums (groups × resamples) of
    the weight, treated, treated responders and control responders, for the row weights — :func:`_qini_area`'s
    numbers. The sums are exact, so they are :func:`_qini`'s; each area's additions run as in
    :func:`_qini_area` on ``step`` resamples at a time (down a C-ordered array, one row after the
    other; a lone resample: numpy's pairwise sum). Few tie groups: :func:`_qini`'s own steps, laid
    out as its dense product (Fortran order: each resample's area is its own pairwise sum)."""
    g, indicator = qini
    b = counts.shape[1]
    if g <= DENSE_GROUPS:            # every array in Fortran order: each column's area summed on its own, pairwise
        group, n_all, curve, n_t, y_t, y_c = _qini_points(np.asfortranarray(np.asarray(indicator @ counts)), g)
        area, rand = _area(group, n_all, curve)
        return area, rand, (n_all, n_t, y_t, y_c)
    both = np.asarray(indicator @ counts)                                # (4 groups × resamples)
    by_group = both.reshape(4, g, b).transpose(1, 0, 2)
    n_all, n_t, y_t, y_c = _running_sums(by_group, exact=b >= WIDE).transpose(1, 0, 2)
    n_c = n_all - n_t
    curve = y_t - np.divide(y_c * n_t, n_c, out=np.zeros_like(n_c), where=n_c > 0)
    previous = np.concatenate([np.zeros((1, b), dtype=curve.dtype), curve[:-1]], axis=0)
    heights = both[:g] * (curve + previous)                              # trapezoids: width = group weight
    area = heights.sum(axis=0) / 2                  # down each column in turn, whatever the number of columns
    for at in range(b) if step == 1 else [b - 1] if b % step == 1 else []:
        area[at] = np.ascontiguousarray(heights[:, at]).sum() / 2          # a resample alone: pairwise sum
    return area, n_all[-1] * curve[-1] / 2, (n_all, n_t, y_t, y_c)


def _top_sums(sums: _UnitSums, counts: np.ndarray, running: tuple[np.ndarray, ...], k: float) -> np.ndarray:
    """:func:`uplift_at_k`'s four sums over the top ``k`` (treated responders, treated, control
    responders, controls; whole-number weights: exact). Its rows are in the Qini curve's order, so
    the tie groups wholly inside the top are the Qini's running sums up to the group where the
    running weight reaches the cut; only that group's rows are summed one by one."""
    n_all, n_t, y_t, y_c = running
    g, b = n_all.shape
    cut = np.floor(n_all[-1] * k)
    # each resample's crossing group: the first whose running weight (non-decreasing) reaches the cut
    at = np.minimum([np.searchsorted(n_all[:, j], cut[j]) for j in range(b)], g - 1)
    columns = np.arange(b)
    before = np.maximum(at - 1, 0), columns
    t_resp, treated, c_resp, weight = (np.where(at > 0, v[before], 0) for v in (y_t, n_t, y_c, n_all))
    full = [t_resp, treated, c_resp, weight - treated, weight]
    first, size = sums.top_starts[at], np.diff(sums.top_starts)[at]
    offset = np.arange(size.max())[:, None]
    inside = offset < size                                            # (rows of the group × resamples)
    rows = np.where(inside, first + offset, 0)
    group = np.where(inside, counts[sums.top_units[rows], columns], 0)
    end = full[4] + np.cumsum(group, axis=0)
    top = np.clip(cut - (end - group), 0, group)
    return np.stack(full[:4]) + np.einsum("rb,rbc->cb", top, sums.top_columns[rows])


def uplift_resampled(y: np.ndarray, treatment: np.ndarray, uplift: np.ndarray, counts: np.ndarray,
                     units: np.ndarray | None = None, k: float = 0.3, step: int = 2) -> dict[str, np.ndarray] | None:
    """:func:`qini_auc_score`, :func:`uplift_at_k` and :func:`treatment_effect` with the row weights
    ``counts[units]`` (``counts``: units × resamples of bootstrap draw counts; ``units``: each row's
    unit, e.g. its customer, None: the rows themselves), given to them ``step`` resamples at a time —
    the very same numbers, found from sums over the units (a customer's rows summed once) instead of
    over the rows. Whole-number weights make every sum exact whatever the order of its additions;
    the other steps are the functions' own. None when the counts are not such whole numbers: then
    use the functions on the row weights."""
    width = len(counts)
    key = (y, treatment, uplift) + (() if units is None else (units,))
    sums = _Reuse.get(key, ("units", units is None, width, counts.dtype),
                      lambda: _UnitSums(y, treatment, uplift, units, width, counts.dtype))
    if not sums.usable or not _whole_unit_counts(counts, sums.sizes):
        return None
    # resamples in blocks of whole steps whose (4 groups × resamples) sums stay in the CPU cache
    block = step * max(1, UNIT_CELLS // (step * 4 * sums.model[0]))
    parts = [_uplift_block(sums, np.ascontiguousarray(counts[:, at:at + block]), k, step)
             for at in range(0, counts.shape[1], block)]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


#: units × resamples per block of :func:`uplift_resampled` (the demo's 16,749 tie groups × 500 resamples: 0.34 s
#: a bootstrap at 1.6M, i.e. 21 resamples a block; 0.38 s at 0.8M, 0.45 s at 4M, 0.46 s for whole chunks)
UNIT_CELLS = 1_600_000
#: from this many resamples, running sums in blocks of rows (:func:`_running_sums`) beat numpy's
WIDE = 8


def _uplift_block(sums: _UnitSums, counts: np.ndarray, k: float, step: int) -> dict[str, np.ndarray]:
    area, rand, running = _qini_areas(sums.model, counts, step)
    best, best_rand = _qini_areas(sums.best, counts, step)[:2]
    s = _top_sums(sums, counts, running, k)
    n_all, n_t, y_t, y_c = (v[-1] for v in running)
    return {"qini_auc": _ratio(area - rand, best - best_rand),
            "uplift_at_k": _ratio(s[0], s[1]) - _ratio(s[2], s[3]),
            "treatment_effect": _ratio(y_t, n_t) - _ratio(y_c, n_all - n_t)}
