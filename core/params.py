"""Method parameters checked against their ``__init__`` annotations at config time.

``check_value(value, annotation)`` returns what is wrong in words (``"expected an integer, got
text 'many'"``) or None. Only the shapes a TOML config can give are judged — ``int``, ``float``,
``bool``, ``str``, ``Literal[...]``, ``list[...]`` / ``tuple[...]``, ``dict[...]``, unions and
``None``; any other annotation (a class, ``Any``) is the method's own business.
"""
from __future__ import annotations

import types
from collections import abc
import typing
from typing import Any, Literal, Union

from microseg.suggest import did_you_mean

_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string (text)",
          list: "a list", tuple: "a list", dict: "a table ({ key = value })", type(None): "nothing"}


def kind_of(value: Any) -> str:
    """How a TOML value reads to a user: text 'x', the number 2.5, true, a list, a table."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def check_value(value: Any, annotation: Any) -> str | None:
    """What is wrong with ``value`` for ``annotation`` (None: nothing, or not judged)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (Any, object) or isinstance(annotation, (str, typing.TypeVar)):
        return None
    if origin in (Union, types.UnionType):
        problems = [check_value(value, a) for a in args]
        if any(p is None for p in problems):
            return None
        same_shape = [p for a, p in zip(args, problems) if _shape(a) is not None and isinstance(value, _shape(a))]
        if same_shape:                      # a list given where a list is wanted: say what is wrong inside
            return next((p for p in same_shape if p.startswith("item")), same_shape[0])
        wanted = " or ".join(dict.fromkeys(_expected(a) for a in args if a is not type(None)))
        return f"expected {wanted}, got {kind_of(value)}"
    if origin is Literal:
        if value in args:
            return None
        choices = ", ".join(repr(a) for a in args)
        return f"expected one of {choices}, got {kind_of(value)}" + did_you_mean(str(value), [str(a) for a in args])
    if annotation is type(None):
        return None if value is None else f"expected nothing, got {kind_of(value)}"
    if annotation is bool:
        return None if isinstance(value, bool) else f"expected true or false, got {kind_of(value)}"
    if annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected an integer, got {kind_of(value)}"
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"expected a number, got {kind_of(value)}"
    if annotation is str:
        return None if isinstance(value, str) else f"expected a string (text), got {kind_of(value)}"
    if origin in (list, tuple, abc.Sequence) or annotation in (list, tuple):
        return _check_sequence(value, origin or annotation, args)
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            return f"expected {_NAMES[dict]}, got {kind_of(value)}"
        return None
    return None


def _check_sequence(value: Any, origin: Any, args: tuple[Any, ...]) -> str | None:
    if not isinstance(value, (list, tuple)):
        return f"expected a list, got {kind_of(value)}"
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            return f"expected a list of {len(args)} items, got {len(value)}"
        items = list(zip(value, args))
    else:
        items = [(v, args[0]) for v in value] if args else []
    for i, (item, ann) in enumerate(items):
        problem = check_value(item, ann)
        if problem:
            return f"item {i + 1}: {problem}"
    return None


def _shape(annotation: Any) -> type | tuple[type, ...] | None:
    """The container type a value must have for ``annotation`` (list, dict), if it is a container."""
    origin = typing.get_origin(annotation) or annotation
    if origin in (list, tuple, abc.Sequence):
        return (list, tuple)
    return dict if origin is dict else None


def _expected(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    return _NAMES.get(origin or annotation, getattr(annotation, "__name__", str(annotation)))


def annotations_of(cls: type) -> dict[str, Any]:
    """``cls.__init__``'s parameter annotations, resolved ({} when they cannot be)."""
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation naming something unimportable: not judged
        return {}
