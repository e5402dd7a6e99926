"""Vectorised evaluation of a parsed rule over the customer frame: a boolean mask.

Nulls never match a comparison (only ``is null``); types are checked, not coerced silently.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pandas as pd

from microseg.errors import ConfigError
from microseg.plugins.rules.parser import AsOf, Col, Lit, Node, caret

_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}


class _Ctx:
    def __init__(self, frame: pd.DataFrame, as_of: pd.Timestamp, expr: str, segment: str) -> None:
        self.frame, self.as_of, self.expr, self.segment = frame, as_of, expr, segment

    def fail(self, message: str, pos: int | None = None) -> ConfigError:
        where = f" at position {pos + 1}{caret(self.expr, pos)}" if pos is not None else ""
        return ConfigError(f"rules segment {self.segment!r}: {message}{where}")


def _shift(a: AsOf, as_of: pd.Timestamp) -> pd.Timestamp:
    if not a.sign:
        return as_of
    offset = pd.DateOffset(**{a.unit: int(a.amount)}) if a.unit in ("months", "years") else \
        pd.Timedelta(**{a.unit: a.amount})
    return as_of + offset if a.sign > 0 else as_of - offset


def _value(x: Any, ctx: _Ctx) -> tuple[Any, str, int | None]:
    """(values, kind, position): kind is 'number', 'text', 'date', 'bool'."""
    if isinstance(x, Col):
        s = ctx.frame[x.name]
        if pd.api.types.is_bool_dtype(s):
            return s, "bool", x.pos
        if pd.api.types.is_numeric_dtype(s):
            return s, "number", x.pos
        if pd.api.types.is_datetime64_any_dtype(s):
            return s, "date", x.pos
        return s, "text", x.pos
    if isinstance(x, AsOf):
        return _shift(x, ctx.as_of), "date", None
    value = x.value
    if isinstance(value, bool):
        return value, "bool", None
    if isinstance(value, (int, float)):
        return value, "number", None
    if isinstance(value, pd.Timestamp):
        return value, "date", None
    return value, "text", None


def _compatible(a: str, b: str) -> bool:
    return a == b or {a, b} <= {"number", "bool"}


def _notna(v: Any, n: int) -> np.ndarray:
    return v.notna().to_numpy() if isinstance(v, pd.Series) else np.ones(n, dtype=bool)


def _mask(node: Any, ctx: _Ctx) -> np.ndarray:
    n = len(ctx.frame)
    if not isinstance(node, Node):
        raise ctx.fail("a condition is needed here, not a bare value")
    op = node.op
    if op == "and":
        out = np.ones(n, dtype=bool)
        for part in node.args:
            out &= _mask(part, ctx)
        return out
    if op == "or":
        out = np.zeros(n, dtype=bool)
        for part in node.args:
            out |= _mask(part, ctx)
        return out
    if op == "not":
        return ~_mask(node.args[0], ctx)
    if op == "truthy":
        col = node.args[0]
        v, kind, pos = _value(col, ctx)
        if kind not in ("bool", "number"):
            raise ctx.fail(f"column {col.name!r} is not true/false; compare it to a value", pos)
        return (v.fillna(0).to_numpy() != 0)
    if op in ("is_null", "not_null"):
        v, _, _ = _value(node.args[0], ctx)
        isna = ~_notna(v, n)
        return isna if op == "is_null" else ~isna
    if op == "compare":
        (lv, lk, lp), (rv, rk, rp) = (_value(a, ctx) for a in node.args)
        if not _compatible(lk, rk):
            raise ctx.fail(f"cannot compare {lk} with {rk}", lp if lp is not None else rp)
        if lk == "text" and node.extra not in ("==", "!="):
            pass  # lexical order is allowed for text
        res = _OPS[node.extra](lv, rv)
        res = res.to_numpy(dtype=bool) if isinstance(res, pd.Series) else np.full(n, bool(res))
        return res & _notna(lv, n) & _notna(rv, n)
    if op == "between":
        (xv, xk, xp), (lo, lok, _), (hi, hik, _) = (_value(a, ctx) for a in node.args)
        if not (_compatible(xk, lok) and _compatible(xk, hik)):
            raise ctx.fail(f"'between' bounds must be {xk}s", xp)
        res = (xv >= lo) & (xv <= hi)
        res = res.to_numpy(dtype=bool) if isinstance(res, pd.Series) else np.full(n, bool(res))
        return res & _notna(xv, n)
    if op in ("in", "not_in"):
        xv, xk, xp = _value(node.args[0], ctx)
        values = list(node.extra)
        kinds = {_value(Lit(v), ctx)[1] for v in values}
        if any(not _compatible(xk, k) for k in kinds):
            raise ctx.fail(f"'in' list values must be {xk}s", xp)
        if xk == "date":
            values = [pd.Timestamp(v) for v in values]
        isin = xv.isin(values).to_numpy() if isinstance(xv, pd.Series) else np.full(n, xv in values)
        present = _notna(xv, n)
        return (isin if op == "in" else ~isin) & present
    if op in ("contains", "startswith", "endswith", "matches"):
        xv, xk, xp = _value(node.args[0], ctx)
        if xk != "text" or not isinstance(xv, pd.Series):
            raise ctx.fail(f"{op!r} needs a text column", xp)
        text = xv.astype("string")
        if op == "contains":
            res = text.str.contains(node.extra, regex=False)
        elif op == "startswith":
            res = text.str.startswith(node.extra)
        elif op == "endswith":
            res = text.str.endswith(node.extra)
        else:
            res = text.str.contains(node.extra, regex=True)
        return res.fillna(False).to_numpy(dtype=bool)
    raise ctx.fail(f"unsupported operation {op}")  # pragma: no cover


def evaluate(node: Any, frame: pd.DataFrame, as_of: pd.Timestamp, expr: str = "", segment: str = "") -> np.ndarray:
    """Boolean mask over ``frame``'s rows for a parsed expression."""
    return _mask(node, _Ctx(frame, pd.Timestamp(as_of), expr, segment))
