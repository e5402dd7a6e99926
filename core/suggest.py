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
    options = [str(c) for c in choices]
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=CUTOFF)
    return lowered[found[0]] if found else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    hint = closest(str(name), choices)
    return f"; did you mean {hint!r}?" if hint else ""
