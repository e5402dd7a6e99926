"""Parse rule expressions into a small AST; errors point at the position in the expression."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from microseg.errors import ConfigError
from microseg.plugins.rules.grammar import GRAMMAR


# ---------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class Col:
    name: str
    pos: int


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class AsOf:
    sign: int = 0
    amount: float = 0
    unit: str = "days"


@dataclass(frozen=True)
class Node:
    op: str                 # compare, between, in, not_in, contains, startswith, endswith, matches,
    args: tuple             # is_null, not_null, truthy, and, or, not
    extra: Any = None       # comparison operator, compiled regex ...


class RuleSyntaxError(ConfigError):
    pass


def caret(expr: str, pos: int) -> str:
    """The expression with a caret under position ``pos`` (0-based)."""
    return f"\n    {expr}\n    {' ' * pos}^"


@v_args(inline=True)
class _ToAst(Transformer):
    def column(self, tok: Token) -> Col:
        name = tok[1:-1] if tok.type == "QUOTED_NAME" else str(tok)
        return Col(name, tok.start_pos or 0)

    def number(self, tok: Token) -> Lit:
        text = str(tok)
        return Lit(int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text))

    def string(self, tok: Token) -> Lit:
        body = str(tok)[1:-1]
        return Lit(re.sub(r"\\(.)", r"\1", body))

    def true(self) -> Lit:
        return Lit(True)

    def false(self) -> Lit:
        return Lit(False)

    def as_of(self) -> AsOf:
        return AsOf()

    def as_of_shift(self, sign: Token, amount: Token, unit: Token) -> AsOf:
        u = str(unit).lower().rstrip("s") + "s"
        return AsOf(1 if str(sign) == "+" else -1, float(amount), u)

    def date(self, text: Token) -> Lit:
        raw = str(text)[1:-1]
        try:
            return Lit(pd.Timestamp(raw))
        except (ValueError, TypeError):
            raise ValueError(f"not a date: {raw!r}", text.start_pos) from None

    def literal_list(self, *items: Lit) -> tuple:
        return tuple(i.value for i in items)

    def compare(self, left, op: Token, right) -> Node:
        return Node("compare", (left, right), "==" if str(op) == "=" else str(op))

    def between(self, x, lo, hi) -> Node:
        return Node("between", (x, lo, hi))

    def in_(self, x, values) -> Node:
        return Node("in", (x,), values)

    def not_in(self, x, values) -> Node:
        return Node("not_in", (x,), values)

    def _text_op(self, name: str, x, s: Token) -> Node:
        return Node(name, (x,), re.sub(r"\\(.)", r"\1", str(s)[1:-1]))

    def contains(self, x, s):
        return self._text_op("contains", x, s)

    def startswith(self, x, s):
        return self._text_op("startswith", x, s)

    def endswith(self, x, s):
        return self._text_op("endswith", x, s)

    def matches(self, x, s: Token) -> Node:
        pattern = str(s)[1:-1]
        try:
            return Node("matches", (x,), re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc.msg}", (s.start_pos or 0) + 1 + (exc.pos or 0)) from None

    def is_null(self, x) -> Node:
        return Node("is_null", (x,))

    def not_null(self, x) -> Node:
        return Node("not_null", (x,))

    def truthy(self, col: Col) -> Node:
        return Node("truthy", (col,))

    def and_(self, *parts) -> Node:
        return Node("and", parts)

    def or_(self, *parts) -> Node:
        return Node("or", parts)

    def not_(self, part) -> Node:
        return Node("not", (part,))


#: where the expression language is explained, appended to every syntax error
HELP = " (the expression language: docs/methods-rules.md)"


def cache_file() -> Path | None:
    """Where the parser's LALR tables are cached between processes: a private folder of the user's
    cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``, then ``microseg/``); None when it cannot be made.

    Building the tables takes ~0.3–1 s on every start; loading them ~0.01 s. Lark keys the file by a
    hash of the grammar, its options, its own and Python's version (a stale or damaged file is
    rebuilt and rewritten). The folder is the user's own (mode 0700): the file is a pickle."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "microseg"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    if (hasattr(os, "getuid") and info.st_uid != os.getuid()) or info.st_mode & 0o022:
        return None                      # another user's or a writable-by-others folder: no pickle from it
    return folder / "rules-grammar.lark"


@lru_cache(maxsize=1)
def _parser() -> Lark:
    cached = cache_file()
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False, propagate_positions=False,
                cache=str(cached) if cached else False)


@lru_cache(maxsize=1024)
def parse(expr: str, segment: str = "") -> Node | Col:
    """Parse ``expr``; raises :class:`RuleSyntaxError` naming the segment and the position."""
    where = f"rules segment {segment!r}: " if segment else ""
    if not isinstance(expr, str) or not expr.strip():
        raise RuleSyntaxError(f"{where}empty expression")
    try:
        tree = _parser().parse(expr)
        return _ToAst().transform(tree)
    except VisitError as exc:
        orig = exc.orig_exc
        pos = orig.args[1] if isinstance(orig, ValueError) and len(orig.args) > 1 else 0
        raise RuleSyntaxError(f"{where}{orig.args[0]} at position {pos + 1}{HELP}{caret(expr, pos)}") from None
    except UnexpectedEOF:
        pos = len(expr)
        raise RuleSyntaxError(f"{where}the expression ends too early at position {pos + 1}{HELP}"
                              f"{caret(expr, pos)}") from None
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        raise RuleSyntaxError(f"{where}unexpected character at position {pos + 1}{HELP}{caret(expr, pos)}") from None
    except UnexpectedInput as exc:
        pos = getattr(exc, "pos_in_stream", None)
        tok = getattr(exc, "token", None)
        if pos is None and tok is not None:
            pos = tok.start_pos
        if tok is not None and tok.type == "$END":
            pos = len(expr)
        pos = pos if pos is not None and pos >= 0 else len(expr)
        what = "the expression ends too early" if tok is not None and tok.type == "$END" else "unexpected input"
        raise RuleSyntaxError(f"{where}{what} at position {pos + 1}{HELP}{caret(expr, min(pos, len(expr)))}") from None
    except LarkError as exc:  # pragma: no cover - any other parser failure
        raise RuleSyntaxError(f"{where}cannot parse the expression ({type(exc).__name__})") from None


def columns(node: Any) -> list[Col]:
    """Every column referenced by a parsed expression."""
    if isinstance(node, Col):
        return [node]
    if isinstance(node, Node):
        return [c for a in node.args for c in columns(a)]
    return []
