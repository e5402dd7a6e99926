"""Each candidate segment's decision, from what the gate did to its customers: released (with
a note when some were coarsened), merged into its parent, or withheld — a reason in words,
never a count or a customer."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from microseg.compose import KEY_SEP
from microseg.privacy.columns import MICRO, WITHHELD, Column, micro_keys
from microseg.privacy.gate import GateOutcome, Strata


def candidate_rows(spec: Any, segs: list[Any], columns: list[Column], outcome: GateOutcome,
                   strata: Strata, gate_index: np.ndarray, members: dict[str, np.ndarray],
                   earlier_runs: list[int]) -> list[dict[str, Any]]:
    """One row per candidate segment: status, released_as and the reason in words."""
    col_of = {c.name: j for j, c in enumerate(columns)}
    coarse = outcome.coarsened()
    released_micro = MICRO in spec.families and bool(spec.micro_dims)
    micro_now, micro_names = micro_keys(spec.micro_dims, columns, outcome.codes) if released_micro else (None, [])
    micro_code = {key: i for i, key in enumerate(micro_names)}
    below_of = _finer_names(micro_names)
    runs_text = ", ".join(map(str, earlier_runs))
    # per customer: held in some microsegment dimension (once, not a copy of those rows per candidate)
    micro_held = outcome.held[[col_of[d] for d in spec.micro_dims]].any(axis=0) if released_micro else None
    seen_all = strata.code > 0
    flags: dict[int, np.ndarray] = {}          # per family column: its customers' fate as bits (_fate_bits)
    rows = []
    for s in segs:
        size_out = len(members.get(s.key, ()))
        row = {"key": s.key, "family": s.family, "method": s.method, "label": s.label, "description": s.description,
               "parent_key": s.parent, "size": int(len(s.members)), "released_size": int(size_out),
               "released_as": None}
        mine = gate_index[s.members]
        mine = mine[mine >= 0]
        if s.family == MICRO and not released_micro or s.family != MICRO and s.family not in col_of:
            row |= {"status": "not-released", "reason": "its family is not in release.families"}
        elif not len(mine):
            row |= {"status": "withheld", "reason": "none of its customers may be released (marketing consent)"}
        else:
            if s.family == MICRO:
                now = micro_now[mine]
                below = np.zeros(len(micro_names), dtype=bool)
                below[below_of.get(s.key, [])] = True       # names starting with s.key + KEY_SEP
                finer = below[now]                          # released in one of its finer microsegments
                lowered = (now != micro_code.get(s.key, -1)) & ~finer
                any_lowered = bool(lowered.any())
                counts = np.bincount(now[lowered], minlength=len(micro_names)) if any_lowered else np.zeros(1)
                target = micro_names[int(counts.argmax())] if counts.any() else None
                fate = Fate(any_lowered, bool(finer.any()), bool(finer.all()), bool(micro_held[mine].any()),
                            bool((lowered & seen_all[mine]).any()))
            else:
                j = col_of[s.family]
                if j not in flags:
                    flags[j] = _fate_bits(coarse[j], outcome.held[j], outcome.codes[j] == 0, seen_all)
                bits = int(np.bitwise_or.reduce(flags[j][mine]))
                target = f"{s.family}:{WITHHELD}" if bits & WITHHELD_BIT else None
                fate = Fate(bool(bits & LOWERED_BIT), False, False, bool(bits & HELD_BIT), bool(bits & SEEN_BIT))
            row |= decision(s, size_out, fate, target, runs_text)
        rows.append(row)
    return rows


def _finer_names(names: list[str]) -> dict[str, list[int]]:
    """Key → indices of the ``names`` that start with the key followed by ``KEY_SEP`` (every
    prefix of a name that ends just before an occurrence of the separator), in one pass."""
    out: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        at = name.find(KEY_SEP)
        while at >= 0:
            out.setdefault(name[:at], []).append(i)
            at = name.find(KEY_SEP, at + 1)
    return out


class Fate(NamedTuple):
    """What the gate did to a candidate's releasable members: some ``lowered`` (released coarser or
    not at all), some / all ``finer`` (in a finer microsegment), some ``held``, some lowered that
    were ``seen`` in an earlier release."""

    lowered: bool
    some_finer: bool
    all_finer: bool
    held: bool
    lowered_seen: bool


LOWERED_BIT, HELD_BIT, WITHHELD_BIT, SEEN_BIT = 1, 2, 4, 8


def _fate_bits(lowered: np.ndarray, held: np.ndarray, withheld: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Per customer of one column: lowered, held, released as ``*``, lowered and seen, as bits
    (a candidate's fate is then one gather and one OR-reduce)."""
    return (lowered * np.uint8(LOWERED_BIT) | held * np.uint8(HELD_BIT) | withheld * np.uint8(WITHHELD_BIT)
            | (lowered & seen) * np.uint8(SEEN_BIT)).astype(np.uint8)


def decision(s: Any, size_out: int, fate: Fate, target: str | None, runs_text: str) -> dict[str, Any]:
    """Status and reason of one candidate from its members' :class:`Fate`."""
    across = ""
    if fate.held:
        across = f"; some customers keep the value an earlier release gave them (runs {runs_text})"
    elif fate.lowered_seen and runs_text:
        across = f"; checked together with earlier releases (runs {runs_text})"
    if size_out:
        notes = (["released as the remainder of its released finer microsegments"] if fate.some_finer else []) + (
            ["partly released: some customers are released with a coarser value, which keeps every cell ≥ k"
             + across] if fate.lowered else [])
        return {"status": "released", "reason": "; ".join(notes)}
    if fate.all_finer:
        return {"status": "withheld", "reason": "every one of its released customers is in one of its finer "
                                                "microsegments"}
    if s.family == MICRO and s.parent is not None and target and not target.endswith(f":{WITHHELD}"):
        return {"status": "merged", "released_as": target,
                "reason": f"merged into its parent: on its own it would form cells of fewer than k customers{across}"}
    return {"status": "withheld", "released_as": target,
            "reason": f"withheld: releasing it would form cells of fewer than k customers{across}"}
