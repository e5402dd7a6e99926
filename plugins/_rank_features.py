"""Cross-sectional rank features for ``clv-decline``: where a customer stands among the eligible
customers of the same cutoff.

Training stacks several cutoffs, and levels such as spend drift between them (a shop grows, a
season comes): an absolute 500 means something else at each. A level's percentile among the
cutoff's eligible customers (net spend in the last H days > 0) does not drift, so the model can
use "top 10 % spender" alike at every cutoff and at the scoring date. Only the cutoff's own
features are used, so nothing at or after it.

``<level>_rank``
    the level's percentile among the eligible customers with a value (ties share their mean
    rank, the largest value is 1); missing for customers who are not eligible or have no value

The levels (:func:`ranked_columns`): spend, purchase counts, basket sizes, recency, tenure and the
usual gap — not ratios, shares or trends, which are scale-free already.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from microseg.feature_words import RANK_SUFFIX

LEVELS = frozenset({"monetary", "frequency", "avg_basket", "recency_days", "tenure_days", "interpurchase_days",
                    "spend_prev_window", "spend_per_tenure_day", "lines_per_invoice", "units_per_invoice"})
#: spend windows (clv-decline's and the behaviour frame's) and the frame's purchase counts
LEVEL_PATTERN = re.compile(r"^(?:spend_last_\d+d|spend_\d+d|spend_prev_\d+d|purchases_\d+d)$")


def ranked_columns(names: Iterable[str]) -> list[str]:
    """The level columns among ``names`` (in their order) that get a rank."""
    return [c for c in names if c in LEVELS or LEVEL_PATTERN.match(c)]


def percentiles(values: np.ndarray) -> np.ndarray:
    """Each value's percentile among the non-missing ``values``: its rank (ties share their mean
    rank) ÷ their count, NaN where missing — bit for bit ``pd.Series(values).rank(pct=True)``.
    Whole numbers in a narrow range (counts, days) are counted rather than sorted."""
    values = np.asarray(values, dtype="float64")
    out = np.full(len(values), np.nan)
    at, pct = _placed_percentiles(values)
    out[at] = pct
    return out


def _placed_percentiles(values: np.ndarray) -> tuple[np.ndarray | slice, np.ndarray]:
    """The non-missing ``values``' percentiles (:func:`percentiles`) and where they go: positions
    in ``values`` (or a slice of all), one array each, so the caller writes them in one pass."""
    missing = np.isnan(values)
    known = np.flatnonzero(~missing) if missing.any() else None
    x = values if known is None else values[known]
    if not len(x):
        return slice(0, 0), x
    lo, hi = x.min(), x.max()
    if np.isfinite(lo) and np.isfinite(hi) and hi - lo <= 4 * len(x) and np.array_equal(x, np.floor(x)):
        at, pct = slice(None), _mean_ranks_by_count((x - lo).astype(np.int64), len(x))
    else:
        at, pct = _mean_ranks_by_sort(x, len(x))
    return (at if known is None else known[at]), pct


def _mean_ranks_by_count(codes: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Each of the non-negative integer ``codes``' rank, ties sharing their mean: with ``start``
    smaller values and ``end`` not larger ones, the mean of ranks start+1 .. end (an exact half);
    ÷ ``scale`` (per distinct value, so each equals its rank ÷ ``scale``)."""
    counts = np.bincount(codes)
    end = np.cumsum(counts)
    return ((2 * end - counts + 1) / 2.0 / scale)[codes]


def _float32_order(x: np.ndarray) -> np.ndarray:
    """The positions that sort ``x`` by its float32 values (equal ones in position order): one
    SIMD sort of 64-bit keys — the float32 value's bits made order-preserving as unsigned, then
    the position — about half the time of an argsort of the float32 values."""
    with np.errstate(over="ignore"):                         # beyond float32's range: ±inf, still in order
        bits = x.astype(np.float32).view(np.uint32)
    # negative floats: every bit flipped (larger magnitude first); the others: the sign bit set
    flip = (-(bits >> np.uint32(31)).view(np.int32)).view(np.uint32) | np.uint32(1 << 31)
    key = (bits ^ flip).astype(np.uint64) << np.uint64(32)
    key |= np.arange(len(x), dtype=np.uint64)
    key.sort()
    key &= np.uint64(0xFFFFFFFF)
    return key.view(np.int64)


def _mean_ranks_by_sort(x: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`_mean_ranks_by_count` for any values (no NaN), from one sort of float32 keys: the
    positions in sorted order and their ranks ÷ ``scale`` (``ranks[order] = means`` in one pass).

    float32 rounding keeps order, so only values it merges into one float32 value can come out
    of order; those values' groups are re-sorted on ``x`` (a group's values all lie between its
    neighbours', so one sort of all of them together keeps the groups apart). Ties share their
    group's bounds, so the order within equal values does not matter."""
    order = _float32_order(x) if len(x) < 2 ** 32 else np.argsort(x.astype(np.float32))
    ordered = x[order]
    out_of_order = np.flatnonzero(ordered[1:] < ordered[:-1])
    if len(out_of_order):
        with np.errstate(over="ignore"):
            merged = x.astype(np.float32)[order]
        group = np.cumsum(np.append(True, merged[1:] != merged[:-1])) - 1
        redo = np.zeros(group[-1] + 1, dtype=bool)
        redo[group[out_of_order]] = True
        at = np.flatnonzero(redo[group])                     # the positions of the groups to re-sort
        fixed = at[np.argsort(ordered[at], kind="stable")]
        order[at], ordered[at] = order[fixed], ordered[fixed]
    first = np.empty(len(x), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.empty_like(starts)
    ends[:-1], ends[-1] = starts[1:], len(x)
    mean = (starts + 1 + ends) / 2.0 / scale
    return order, mean[np.cumsum(first) - 1]


def cutoff_ranks(columns: dict[str, np.ndarray], eligible: np.ndarray) -> dict[str, np.ndarray]:
    """``<name>_rank`` for each of :func:`ranked_columns` in ``columns``: its percentile among the
    ``eligible`` rows with a value (NaN elsewhere)."""
    eligible = np.asarray(eligible, dtype=bool)
    rows = np.flatnonzero(eligible)                  # the eligible rows, found once for every column
    out = {}
    for name in ranked_columns(columns):
        rank = np.full(len(eligible), np.nan)
        at, pct = _placed_percentiles(np.asarray(columns[name], dtype="float64")[rows])
        rank[rows[at]] = pct
        out[name + RANK_SUFFIX] = rank
    return out
