"""``rules``: named segments from expressions over customer attributes and behaviour features.

Demographic (``age >= 65``), geographic (``Country in ('Norway', 'Sweden')``), psychographic
(``interest == 'outdoors'``) or behavioural (``recency_days <= 30 and frequency >= 5``)
conditions, combined with and/or/not. Modes: ``first`` (priority order, one segment each) or
``multi`` (every matching segment). See ``docs/methods-rules.md``.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

import microseg
from microseg.errors import ConfigError
from microseg.plugins.rules.evaluate import evaluate
from microseg.plugins.rules.levels import tests_of
from microseg.plugins.rules.parser import caret, columns, parse
from microseg.suggest import did_you_mean

MODES = ("first", "multi")


class Rules(microseg.SegmentationMethod):
    """Rule-based segments.

    Parameters
    ----------
    segments : list of {name, when, description?}
        In priority order.
    mode : "first" or "multi"
    default : label of customers matching no rule
    as_of : date for ``as_of`` in expressions (default: the run's as_of, else today)

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [20, 70]}, index=["a", "b"])
    >>> Rules(segments=[{"name": "Seniors", "when": "age >= 65"}]).fit(frame).assign(frame).tolist()
    ['Other', 'Seniors']
    """

    name = "rules"
    summary = "Named segments from multi-condition expressions (demographic, geographic, psychographic)"
    previewable = True

    def __init__(self, *, segments: list[dict[str, Any]] | None = None, mode: str = "first",
                 default: str = "Other", as_of: str | None = None) -> None:
        self.segments = segments
        self.mode = mode
        self.default = default
        self.as_of = as_of

    def _specs(self) -> list[dict[str, Any]]:
        if not self.segments:
            raise ConfigError("rules: give at least one segment: segments = [{ name = ..., when = ... }]")
        out, seen = [], set()
        for i, seg in enumerate(self.segments):
            if not isinstance(seg, dict) or "name" not in seg or "when" not in seg:
                raise ConfigError(f"rules: segments[{i}] needs 'name' and 'when'")
            unknown = set(seg) - {"name", "when", "description"}
            if unknown:
                raise ConfigError(f"rules: segments[{i}] has unknown key(s) {sorted(unknown)}")
            if seg["name"] in seen or seg["name"] == self.default:
                raise ConfigError(f"rules: segment name {seg['name']!r} is used twice (or equals the default)")
            seen.add(seg["name"])
            out.append(seg)
        return out

    def _as_of(self, data: Any) -> pd.Timestamp:
        if self.as_of is not None:
            return pd.Timestamp(self.as_of)
        if data is not None and getattr(data, "as_of", None) is not None:
            return pd.Timestamp(data.as_of)
        return pd.Timestamp.today().normalize()

    def _parsed(self, available: Collection[str]) -> tuple[list[tuple[dict[str, Any], Any]], list[str]]:
        """The rules parsed, and the problems: syntax errors and columns not in ``available``."""
        parsed: list[tuple[dict[str, Any], Any]] = []
        problems = [] if self.mode in ("first", "multi") else \
            [f"rules: mode must be 'first' or 'multi', not {self.mode!r}" + did_you_mean(str(self.mode), MODES)]
        for seg in self._specs():
            try:
                tree = parse(seg["when"], seg["name"])
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            problems += [f"rules segment {seg['name']!r}: unknown column {col.name!r} at position "
                         f"{col.pos + 1}{did_you_mean(col.name, available)}{caret(seg['when'], col.pos)}"
                         for col in columns(tree) if col.name not in available]
            parsed.append((seg, tree))
        return parsed, problems

    def check_columns(self, available: Collection[str]) -> list[str]:
        """Bad parameters (``mode``, segments), syntax errors and unknown columns, without data."""
        try:
            return self._parsed(available)[1]
        except ConfigError as exc:
            return [str(exc)]

    def level_tests(self) -> list[Any]:
        """The text levels the rules name (``Country in ('Iceland', 'Malta')``): the run evaluates
        them on those levels as written, even where rare levels are folded into "other"
        (:mod:`microseg.privacy.declared`). Rules that do not parse name nothing (fit says why)."""
        try:
            specs = self._specs()
        except ConfigError:
            return []
        out = []
        for seg in specs:
            try:
                out += list(tests_of(parse(seg["when"], seg["name"])))
            except ConfigError:
                continue
        return out

    def fit(self, customers: pd.DataFrame, *, data: Any = None) -> "Rules":
        parsed, problems = self._parsed(customers.columns)
        if problems:
            raise ConfigError(problems[0])
        self.rules_ = parsed
        self.as_of_ = self._as_of(data)
        return self

    def masks(self, customers: pd.DataFrame) -> np.ndarray:
        """One boolean column per rule (customers × rules)."""
        return np.column_stack([evaluate(tree, customers, self.as_of_, seg["when"], seg["name"])
                                for seg, tree in self.rules_]) if self.rules_ else np.zeros((len(customers), 0), bool)

    def assign(self, customers: pd.DataFrame, *, data: Any = None) -> pd.Series:
        m = self.masks(customers)
        names = np.array([seg["name"] for seg, _ in self.rules_] + [self.default], dtype=object)
        if self.mode == "first":
            first = np.where(m.any(axis=1), m.argmax(axis=1), len(self.rules_))
            labels = pd.Series(names[first], index=customers.index)
        else:
            rows, cols = np.nonzero(m)
            none = np.flatnonzero(~m.any(axis=1))
            idx = np.concatenate([rows, none])
            lab = np.concatenate([names[cols], np.full(len(none), self.default, dtype=object)])
            order = np.argsort(idx, kind="stable")
            labels = pd.Series(lab[order], index=customers.index[idx[order]])
        return labels

    def describe(self, label: str) -> str:
        for seg in self.segments or []:
            if seg["name"] == label:
                return seg.get("description") or f"customers where {seg['when']}"
        return "customers matching no rule" if label == self.default else str(label)

    def report(self) -> dict[str, Any]:
        return {"mode": self.mode, "definitions": {str(seg["name"]): str(seg["when"]) for seg in self.segments or []}}


@microseg.hookimpl
def register_methods(register):
    register(Rules)
