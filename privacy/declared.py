"""Declared vocabulary: the levels a config names, restored for the method that names them.

Folding (:mod:`microseg.privacy.vocabulary`) turns every rare or personal level into
``"other"`` before any method runs, so a rule ``Country in ('Iceland', 'Malta')`` would match no
one when those countries are rare. A level the config itself names is the user's own word: the
method that names it may test it. A method tells which levels it names through an optional
``level_tests()`` returning :class:`LevelTest` s (the ``rules`` method does); the privacy step
collects, on the raw customers table, the customers whose level a test tells apart from
``"other"`` (:func:`declared_values`), and the pipeline gives that method — and only that
method — its frame with those levels restored (:meth:`Declared.view`).

Nothing else changes: the restored levels never leave the method (its labels and descriptions
are the config's own words), every other method, feature, label, header, report and export
still sees the folded column, and the segment a test defines is released only when the gate
finds it held by at least k customers.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import pandas as pd

from microseg.privacy.vocabulary import OTHER, is_text

_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}


@dataclass(frozen=True)
class LevelTest:
    """One condition of a config on the text levels of one column: ``level <op> value``.

    ``op`` is a comparison (``==`` ``!=`` ``<`` ``<=`` ``>`` ``>=``), ``in`` (value: a tuple),
    ``between`` (value: ``(low, high)``), ``contains``, ``startswith``, ``endswith`` (value: text)
    or ``matches`` (value: a regular expression, searched)."""

    column: str
    op: str
    value: Any

    def __call__(self, level: str) -> bool:
        op, v = self.op, self.value
        if op in _COMPARE:
            return bool(_COMPARE[op](level, v))
        if op == "in":
            return level in v
        if op == "between":
            return bool(v[0] <= level <= v[1])
        if op == "contains":
            return v in level
        if op == "startswith":
            return level.startswith(v)
        if op == "endswith":
            return level.endswith(v)
        if op == "matches":
            return re.search(v, level) is not None
        raise ValueError(f"unknown level test {op!r}")

    def names(self, level: Any) -> bool:
        """Whether this test tells ``level`` apart from ``"other"`` (so folding would change it)."""
        return isinstance(level, str) and self(level) != self(OTHER)


def level_tests(method: Any) -> tuple[LevelTest, ...]:
    """The level tests a method declares (none when it has no ``level_tests``)."""
    fn = getattr(method, "level_tests", None)
    return tuple(fn()) if callable(fn) else ()


def by_column(tests: Iterable[LevelTest]) -> dict[str, tuple[LevelTest, ...]]:
    out: dict[str, list[LevelTest]] = {}
    for t in tests:
        out.setdefault(t.column, []).append(t)
    return {c: tuple(ts) for c, ts in out.items()}


def declared_values(frame: pd.DataFrame, *, tests: Mapping[str, tuple[LevelTest, ...]],
                    kept: Mapping[str, frozenset], erased: pd.Index | None = None) -> dict[str, pd.Series]:
    """Per tested text column of a raw customers partition (ids in the column ``customer_id``):
    the raw level of each customer whose level folding removes (not in ``kept``) and a test
    names; customers in ``erased`` left out."""
    out: dict[str, pd.Series] = {}
    rows = frame
    if erased is not None and len(erased):
        rows = frame.loc[~frame["customer_id"].isin(erased).to_numpy()]
    for col, col_tests in tests.items():
        if col not in rows.columns or col not in kept or not is_text(rows[col]):
            continue
        levels = pd.unique(rows[col].dropna())
        named = [lv for lv in levels if lv not in kept[col] and any(t.names(lv) for t in col_tests)]
        if named:
            hit = rows[col].isin(named).to_numpy()
            out[col] = pd.Series(rows[col].to_numpy()[hit], index=pd.Index(rows["customer_id"].to_numpy()[hit]),
                                 dtype=object, name=col)
    return out


@dataclass
class Declared:
    """Per customers column, the raw levels some method names that folding removed (index:
    customer id). Held in memory for the methods that name them; never stored or released."""

    values: dict[str, pd.Series] = field(default_factory=dict)

    @classmethod
    def combine(cls, parts: Iterable[Mapping[str, pd.Series]]) -> "Declared":
        merged: dict[str, list[pd.Series]] = {}
        for part in parts:
            for col, s in part.items():
                merged.setdefault(col, []).append(s)
        return cls({c: pd.concat(ss) for c, ss in merged.items()})

    def view(self, frame: pd.DataFrame, tests: Iterable[LevelTest]) -> pd.DataFrame:
        """``frame`` (index: customer id) with, in each column ``tests`` are about, the levels
        those tests name restored; ``frame`` itself when there is nothing to restore."""
        restore: dict[str, pd.Series] = {}
        for col, col_tests in by_column(tests).items():
            raw = self.values.get(col)
            if raw is None or col not in frame.columns:
                continue
            raw = raw[raw.map(lambda lv: any(t.names(lv) for t in col_tests)).to_numpy(dtype=bool)]
            raw = raw[raw.index.isin(frame.index)]
            if len(raw):
                column = frame[col].astype(object)
                column.loc[raw.index] = raw.to_numpy()
                restore[col] = column
        return frame.assign(**restore) if restore else frame
