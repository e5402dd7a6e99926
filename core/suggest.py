"""'Did you mean …?': the one place that picks the closest known name to a misspelt one.

Used for config keys, method names and parameters, columns in rules and source mappings, and
choices (``mode``, ``engine`` …). Names only — never a data value.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable

#: how alike two names must be (difflib ratio): 'uri' → 'url' and 'rmf' → 'rfm' (0.67), not 'Country' → 'amount'
CUTOFF = 0.65


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``name`` (case-insensitive), or None when nothing is close."""
    found = close_matches(name, choices, 1)
    return found[0] if found else None


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` choices like ``name``, the closest first (a case-only difference first of all)."""
    lowered: dict[str, str] = {}
    for c in choices:
        lowered.setdefault(str(c).lower(), str(c))
    exact = [lowered[name.lower()]] if name.lower() in lowered and lowered[name.lower()] != name else []
    found = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=CUTOFF)
    return list(dict.fromkeys(exact + [lowered[f] for f in found]))[:n]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    hint = closest(str(name), choices)
    return f"; did you mean {hint!r}?" if hint else ""
