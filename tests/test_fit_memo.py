"""FitMemo: what fit computed is handed back only for the very objects it was computed for."""
from __future__ import annotations

import gc

import pandas as pd

from microseg.fit_memo import FitMemo, memo_for


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2, 3]}, index=pd.Index(["a", "b", "c"], name="customer_id"))


class _Data:
    """Any object a method is given beside the frame (weakly referenceable, as CustomerData)."""


def test_the_same_frame_and_data_get_the_value() -> None:
    customers, data = _frame(), _Data()
    memo = FitMemo("labels", customers, data)
    assert memo.get(customers, data) == "labels"


def test_an_equal_copy_other_data_or_a_new_index_get_nothing() -> None:
    customers, data = _frame(), _Data()
    memo = FitMemo("labels", customers, data)
    assert memo.get(customers.copy(), data) is None
    assert memo.get(customers, _Data()) is None
    assert memo.get(customers) is None                      # fewer objects than it was computed for
    customers.index = pd.Index(["c", "b", "a"], name="customer_id")
    assert memo.get(customers, data) is None


def test_none_data_is_matched_and_frames_are_not_kept_alive() -> None:
    customers = _frame()
    memo = FitMemo(42, customers, None)
    assert memo.get(customers, None) == 42
    assert memo.get(customers, _Data()) is None
    del customers
    gc.collect()
    assert memo._refs[0]() is None                          # the memo did not keep the frame alive


def test_memo_for_reads_a_method_attribute() -> None:
    class Method:
        pass

    method, customers = Method(), _frame()
    assert memo_for(method, "_scored", customers) is None   # nothing stored yet
    method._scored = FitMemo("s", customers)
    assert memo_for(method, "_scored", customers) == "s"
    assert memo_for(method, "_scored", _frame()) is None
