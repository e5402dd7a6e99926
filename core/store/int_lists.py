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
    order = np.argsort(owners, kind="stable")
    owners, values = owners[order], values[order]
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    counts = np.diff(np.r_[starts, len(owners)])
    top = int(values.max())
    width = len(str(top))
    token = width + 1                                        # separator + digits
    rank = np.arange(len(values)) - np.repeat(starts, counts)
    row = np.repeat(np.arange(len(starts)), counts)
    tokens = np.empty((len(values), token), dtype=np.uint8)
    tokens[:, 0] = np.where(rank == 0, OPEN, COMMA)
    if top <= 4 * len(values):                               # ids of a run's segments: a table by value
        tokens[:, 1:] = _digit_table(np.arange(top + 1, dtype=np.int64), width)[values]
    else:
        import pandas as pd                                  # on use: reading a store needs no pandas
        codes, distinct = pd.factorize(values)
        tokens[:, 1:] = _digit_table(np.asarray(distinct, dtype=np.int64), width)[codes]
    line = token * int(counts.max()) + 2
    grid = np.zeros((len(starts), line), dtype=np.uint8)     # NUL padding: dropped below
    grid[:, :-2].reshape(len(starts), -1, token)[row, rank] = tokens
    ends = counts * token
    grid[np.arange(len(starts)), ends] = CLOSE
    grid[:, -1] = NEWLINE                                    # after every text: one decode and split for all
    texts = grid[grid != 0].tobytes().decode("ascii").split("\n")[:-1]
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
