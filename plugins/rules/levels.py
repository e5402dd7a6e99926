"""The text levels a rule names: its conditions on a column and a text literal, as level tests.

The privacy step folds rare and personal levels into ``"other"``; the levels a rule names are
the config's own words, so the rule is evaluated on them as declared
(:mod:`microseg.privacy.declared`).
"""
from __future__ import annotations

from typing import Any, Iterator

from microseg.plugins.rules.parser import Col, Lit, Node
from microseg.privacy.declared import LevelTest

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _text(x: Any) -> bool:
    return isinstance(x, Lit) and isinstance(x.value, str)


def tests_of(node: Any) -> Iterator[LevelTest]:
    """Every condition of ``node`` comparing a column with text literals."""
    if not isinstance(node, Node):
        return
    op, args = node.op, node.args
    if op in ("and", "or", "not"):
        for part in args:
            yield from tests_of(part)
    elif op == "compare":
        left, right = args
        if isinstance(left, Col) and _text(right):
            yield LevelTest(left.name, node.extra, right.value)
        elif isinstance(right, Col) and _text(left):
            yield LevelTest(right.name, _FLIP[node.extra], left.value)
    elif op in ("in", "not_in") and isinstance(args[0], Col):
        values = tuple(v for v in node.extra if isinstance(v, str))
        if values:
            yield LevelTest(args[0].name, "in", values)
    elif op == "between" and isinstance(args[0], Col) and _text(args[1]) and _text(args[2]):
        yield LevelTest(args[0].name, "between", (args[1].value, args[2].value))
    elif op in ("contains", "startswith", "endswith", "matches") and isinstance(args[0], Col):
        yield LevelTest(args[0].name, op, node.extra)
