"""What a method's ``fit`` computed for the very frame it was given, reused by ``assign`` / ``scores``.

A run fits, assigns and scores the same customers frame; a method that already labelled or scored
them while fitting keeps the result in a :class:`FitMemo` and hands it back only for those same
objects (identity, not equality: a different frame with equal values is computed anew). The memo
holds weak references, so it never keeps a run's frames alive, and changes no state when read (the
method contract's ``assign_leaves_state_unchanged``).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Generic, TypeVar

import pandas as pd

T = TypeVar("T")


def _ref(obj: Any) -> Callable[[], Any]:
    return (lambda: None) if obj is None else weakref.ref(obj)


class FitMemo(Generic[T]):
    """``value``, computed in ``fit`` for ``customers`` (and ``others``, e.g. the run's data)."""

    def __init__(self, value: T, customers: pd.DataFrame, *others: Any) -> None:
        self.value = value
        self._refs = (_ref(customers), *(_ref(o) for o in others))
        self._index = customers.index

    def get(self, customers: pd.DataFrame, *others: Any) -> T | None:
        """The value when these are the very objects it was computed for (the frame and its index
        unchanged), else None."""
        objs = (customers, *others)
        if len(objs) != len(self._refs) or customers.index is not self._index:
            return None
        return self.value if all(ref() is obj for ref, obj in zip(self._refs, objs)) else None


def memo_for(method: Any, attribute: str, customers: pd.DataFrame, *others: Any) -> Any:
    """``method``'s :class:`FitMemo` in ``attribute`` for these objects, or None (none stored, or
    stored for other objects)."""
    memo = getattr(method, attribute, None)
    return memo.get(customers, *others) if memo is not None else None
