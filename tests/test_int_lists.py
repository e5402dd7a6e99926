"""The store's per-customer segment lists: JSON text built and parsed in bulk."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.store.int_lists import group_int_lists, parse_int_lists

pairs = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 10**12)), max_size=200)


@settings(max_examples=300, deadline=None)
@given(pairs)
def test_lists_are_json_and_round_trip(items):
    owners = np.array([o for o, _ in items], dtype=np.int64)
    values = np.array([v for _, v in items], dtype=np.int64)
    distinct, texts = group_int_lists(owners, values)
    assert distinct.tolist() == sorted(set(owners.tolist()))
    for owner, text in zip(distinct.tolist(), texts):
        assert json.loads(text) == [v for o, v in items if o == owner]      # order kept within an owner
    row, parsed = parse_int_lists(texts)
    assert sorted(zip(distinct[row].tolist(), parsed.tolist())) == sorted(items)


def test_parse_accepts_any_json_spacing_and_empty_lists():
    row, values = parse_int_lists(["[1,2]", "[]", "[ 30 ,  4 ]", "[7]"])
    assert row.tolist() == [0, 0, 2, 2, 3] and values.tolist() == [1, 2, 30, 4, 7]


def test_negative_values_are_refused():
    with pytest.raises(ValueError):
        group_int_lists(np.array([1]), np.array([-1]))


def _reference_texts(owners: np.ndarray, values: np.ndarray) -> tuple[list[int], list[str]]:
    """The stored format spelled out: each number right-aligned in the width of the largest."""
    width = len(str(int(values.max())))
    distinct = sorted(set(owners.tolist()))
    return distinct, ["[" + ",".join(str(v).rjust(width) for o, v in zip(owners.tolist(), values.tolist()) if o == d)
                      + "]" for d in distinct]


@settings(max_examples=200, deadline=None)
@given(pairs, st.booleans())
def test_texts_are_the_fixed_width_format(items, small):
    """Byte for byte the stored format, for small values (looked up by value) and large ones (by code)."""
    if not items:
        return
    owners = np.array([o for o, _ in items], dtype=np.int64)
    values = np.array([v % 1000 if small else v for _, v in items], dtype=np.int64)
    distinct, texts = group_int_lists(owners, values)
    assert (distinct.tolist(), texts) == _reference_texts(owners, values)
