"""Microsegments: intersections of several methods' labels, with a parent chain.

For dimensions ``[rfm, geo, channel]`` the microsegment ``Champions × UK × email`` has the
parent ``Champions × UK``, whose parent is ``Champions``: dropping the last dimension always
gives a coarser segment the release gate can merge a too-small one into.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microseg.errors import ConfigError
from microseg.method import Assignment
from microseg.sorting import stable_order

KEY_SEP = "|"
UNASSIGNED = "Unassigned"


@dataclass
class SegmentSpec:
    """A candidate segment before the gate: where it comes from and who is in it."""

    key: str
    family: str
    method: str
    label: str
    description: str
    members: np.ndarray          # sorted customer positions
    parent: str | None = None
    level: int = 1


def method_segments(instance_id: str, method_name: str, assignment: Assignment,
                    ids: pd.Index) -> list[SegmentSpec]:
    """One candidate per label of one method (multi-membership allowed)."""
    index = assignment.labels.index
    pos = np.arange(len(ids)) if index.equals(ids) else ids.get_indexer(index)
    codes, uniques = pd.factorize(assignment.labels, sort=True)      # on the Series: no object copy
    ok = pos >= 0
    pos, codes = pos[ok].astype("int64"), codes[ok]
    # by label, then customer: customers already in order need only a stable sort by label
    in_order = len(pos) < 2 or bool((pos[1:] >= pos[:-1]).all())
    order = stable_order(codes) if in_order else np.lexsort((pos, codes))
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    out = []
    for chunk in np.split(order, bounds) if len(order) else []:
        label = str(uniques[codes[chunk[0]]])
        members = pos[chunk]                       # sorted by the lexsort; a customer may repeat a label
        if len(members) > 1 and not (members[1:] > members[:-1]).all():
            members = np.unique(members)
        out.append(SegmentSpec(key=f"{instance_id}:{label}", family=instance_id, method=method_name,
                               label=label, description=assignment.descriptions.get(label, label),
                               members=members))
    return out


def microsegments(dimensions: list[str], assignments: dict[str, Assignment], ids: pd.Index,
                  separator: str = " × ") -> list[SegmentSpec]:
    """Candidates for every level 1..D of the dimension chain (family ``micro``)."""
    if len(dimensions) < 2:
        return []
    n = len(ids)
    label_arrays, desc_maps = [], []
    for dim in dimensions:
        a = assignments[dim]
        if a.multi_membership:
            raise ConfigError(f"method {dim!r} assigns several segments per customer (multi mode); "
                              "it cannot be a microsegment dimension", key="microsegments.dimensions")
        label_arrays.append(pd.factorize(a.labels.reindex(ids).fillna(UNASSIGNED).astype(str), sort=True))
        desc_maps.append(a.descriptions)
    out: list[SegmentSpec] = []
    combined = np.zeros(n, dtype="int64")
    parts_of: dict[int, tuple[str, ...]] = {}
    for level, (codes, uniques) in enumerate(label_arrays, start=1):
        combined = combined * (len(uniques) + 1) + codes
        combined_codes, combined_uniques = pd.factorize(combined, sort=True)
        order = stable_order(combined_codes)
        names = [str(u) for u in uniques]                 # once per level, not one Index lookup per segment
        bounds = np.flatnonzero(np.diff(combined_codes[order])) + 1
        new_parts: dict[int, tuple[str, ...]] = {}
        for chunk in np.split(order, bounds):
            first = chunk[0]
            parts = (*([] if level == 1 else parts_of[int(prev_codes[first])]), names[codes[first]])
            new_parts[int(combined_codes[first])] = parts
            descs = [desc_maps[i].get(p, p) for i, p in enumerate(parts)]
            out.append(SegmentSpec(
                key="micro:" + KEY_SEP.join(parts), family="micro", method="microsegments",
                label=separator.join(parts), description="; ".join(descs),
                members=chunk.astype("int64"),            # ascending: the argsort is stable
                parent=None if level == 1 else "micro:" + KEY_SEP.join(parts[:-1]), level=level))
        parts_of, prev_codes = new_parts, combined_codes
        combined = combined_codes.astype("int64")
    return out
