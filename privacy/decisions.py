"""Each candidate segment's decision, from what the gate did to its customers: released (with
a note when some were coarsened), merged into its parent, or withheld — a reason in words,
never a count or a customer."""
from __future__ import annotations

from typing import Any

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
            finer = np.zeros(len(mine), dtype=bool)
            if s.family == MICRO:
                now = micro_now[mine]
                below = np.zeros(len(micro_names), dtype=bool)
                below[below_of.get(s.key, [])] = True       # names starting with s.key + KEY_SEP
                finer = below[now]                          # released in one of its finer microsegments
                lowered = (now != micro_code.get(s.key, -1)) & ~finer
                held = micro_held[mine]
                counts = np.bincount(now[lowered], minlength=len(micro_names)) if lowered.any() else np.zeros(1)
                target = micro_names[int(counts.argmax())] if counts.any() else None
            else:
                j = col_of[s.family]
                lowered = coarse[j, mine]
                held = outcome.held[j, mine]
                target = f"{s.family}:{WITHHELD}" if (outcome.codes[j, mine] == 0).any() else None
            row |= decision(s, size_out, lowered, finer, held, strata.code[mine] > 0, target, runs_text)
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


def decision(s: Any, size_out: int, lowered: np.ndarray, finer: np.ndarray, held: np.ndarray, seen: np.ndarray,
              target: str | None, runs_text: str) -> dict[str, Any]:
    """Status and reason of one candidate from its members' fate: ``lowered`` (released coarser or
    not at all), ``finer`` (in a finer microsegment), ``held``, ``seen`` (in an earlier release)."""
    across = ""
    if held.any():
        across = f"; some customers keep the value an earlier release gave them (runs {runs_text})"
    elif (lowered & seen).any() and runs_text:
        across = f"; checked together with earlier releases (runs {runs_text})"
    if size_out:
        notes = (["released as the remainder of its released finer microsegments"] if finer.any() else []) + (
            ["partly released: some customers are released with a coarser value, which keeps every cell ≥ k"
             + across] if lowered.any() else [])
        return {"status": "released", "reason": "; ".join(notes)}
    if finer.all():
        return {"status": "withheld", "reason": "every one of its released customers is in one of its finer "
                                                "microsegments"}
    if s.family == MICRO and s.parent is not None and target and not target.endswith(f":{WITHHELD}"):
        return {"status": "merged", "released_as": target,
                "reason": f"merged into its parent: on its own it would form cells of fewer than k customers{across}"}
    return {"status": "withheld", "released_as": target,
            "reason": f"withheld: releasing it would form cells of fewer than k customers{across}"}
