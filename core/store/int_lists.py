"""Lists of non-negative integers per owner as JSON array text, built and parsed in bulk.

The store keeps one row per released customer with the ids of its segments as a JSON array
(``[3, 17,145]``): SQL can read it (SQLite ``json_each``, PostgreSQL ``::jsonb``) and writing a
million of them costs one vectorised pass instead of a million ``json.dumps`` calls. Numbers are
right-aligned in a fixed width, so some carry leading spaces — valid JSON.
"""
from __future__ import annotations

import numpy as np

SPACE, COMMA, OPEN, CLOSE, NEWLINE = (ord(c) for c in " ,[]\n")


def _digit_table(numbers: np.ndarray, width: int) -> np.ndarray:
    """ASCII of ``numbers`` right-aligned in ``width`` characters (one row per number)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers) % 10
    leading = np.cumsum(digits, axis=1) == 0
    leading[:, -1] = False                                   # zero itself keeps its digit
    return np.where(leading, SPACE, ord("0") + digits).astype(np.uint8)


def _by_owner(owners: np.ndarray, values: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs grouped by owner (ascending), each owner's values in their given order. Values
    given in ascending order (a run's memberships, by segment id) are then ascending per owner
    too: one sort of the keys ``owner × (top + 1) + value`` gives that order, without a stable
    argsort and two gathers. The keys then come as ascending runs (a segment's owners, ascending
    as the gate gives them): the stable sort (timsort) merges those runs, ~4x faster here than
    the default sort (180,000 memberships of 293 segments: 12 -> 3 ms; the same sorted keys)."""
    base = top + 1
    if len(values) > 1 and owners.min() >= 0 and int(owners.max()) < 2 ** 62 // base \
            and (values[1:] >= values[:-1]).all():
        return np.divmod(np.sort(owners * base + values, kind="stable"), base)
    order = np.argsort(owners, kind="stable")
    return owners[order], values[order]


def group_int_lists(owners: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Distinct ``owners`` (ascending) and, for each, its ``values`` as JSON array text.

    Pairs are grouped by owner; within an owner the values keep their given order.
    """
    owners = np.asarray(owners, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    if len(owners) == 0:
        return owners, []
    if values.min() < 0:
        raise ValueError("only non-negative integers are encoded")
    top = int(values.max())
    owners, values = _by_owner(owners, values, top)
    first = np.r_[True, owners[1:] != owners[:-1]]
    starts = np.flatnonzero(first)
    width = len(str(top))
    token = width + 1                                        # separator + digits
    if top <= 4 * len(values):                               # ids of a run's segments: a table by value
        digits = _digit_table(np.arange(top + 1, dtype=np.int64), width)[values]
    else:
        import pandas as pd                                  # on use: reading a store needs no pandas
        codes, distinct = pd.factorize(values)
        digits = _digit_table(np.asarray(distinct, dtype=np.int64), width)[codes]
    # one buffer, every text followed by "]\n": value i's token starts after i tokens and the
    # "]\n" of the owners before its own
    at = np.arange(len(values)) * token + 2 * (np.cumsum(first) - 1)
    out = np.empty(len(values) * token + 2 * len(starts), dtype=np.uint8)
    out[at] = np.where(first, OPEN, COMMA)
    for d in range(width):
        out[at + 1 + d] = digits[:, d]
    ends = np.r_[at[starts[1:]], len(out)]
    out[ends - 2], out[ends - 1] = CLOSE, NEWLINE
    texts = out.tobytes().decode("ascii").split("\n")[:-1]   # one decode and split for all
    return owners[starts], texts


def parse_int_lists(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`group_int_lists`: (row index per value, values) for JSON array texts."""
    if not texts:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    counts = np.fromiter((t.count(",") + 1 if t.strip("[] ") else 0 for t in texts), dtype=np.int64,
                         count=len(texts))
    body = ",".join(t for t in texts if t.strip("[] ")).translate(_BRACKETS)
    values = np.fromstring(body, dtype=np.int64, sep=",") if body else np.array([], dtype=np.int64)
    if len(values) != counts.sum():
        raise ValueError("not a list of integers")
    return np.repeat(np.arange(len(texts)), counts), values


_BRACKETS = str.maketrans("", "", "[]")
