"""The release as the pipeline uses it: candidates → released table → stored rows.

:func:`gate_release` builds the released table's columns (families, score bands, attributes),
joins earlier releases in scope, runs the gate (:mod:`microseg.privacy.gate`) and turns its
outcome into segment rows (every released value is a segment: a label, a microsegment, a score
band, an attribute value, a family's withheld value ``*``) and memberships. The candidates'
statuses and reasons come from :mod:`microseg.privacy.decisions`, the run report from
:mod:`microseg.privacy.public_report`.
"""
from __future__ import annotations

import copy
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from microseg.errors import ConfigError
from microseg.privacy.columns import (MICRO, NO_SCORE, WITHHELD, Column, attribute_column, family_column_of_codes,
                                      micro_keys, score_column)
from microseg.privacy.decisions import candidate_rows
from microseg.privacy.counts import display_size
from microseg.privacy.gate import GateOutcome, Strata, apply_gate
from microseg.privacy.history import build_strata, cell_table, earlier_releases, key_hashes
from microseg.privacy.scope import ReleaseScope
from microseg.sorting import stable_order

#: segment rows that are released values of a column rather than candidate segments
VALUE_KINDS = ("score band", "attribute", "withheld", "no label")


@dataclass
class ReleaseSpec:
    """What a run releases: families (in priority order), micro's dimensions, score and attribute
    values per customer (index = customer id), and k."""

    families: list[str]
    micro_dims: list[str]
    k: int
    scores: pd.DataFrame | None = None
    score_bands: int = 4
    attributes: pd.DataFrame | None = None
    generalised: set[str] = field(default_factory=set)      # attributes released at most one level up
    scope: ReleaseScope = field(default_factory=ReleaseScope)


@dataclass
class Release:
    """The gate's outcome as rows to store and figures to report."""

    outcome: GateOutcome
    segment_rows: list[dict[str, Any]]
    members: dict[str, np.ndarray]
    cells: dict[str, Any] | None
    scope: dict[str, Any]
    k: int
    timings: dict[str, float] = field(default_factory=dict)     # seconds: columns, history, gate, rows
    _loss: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def loss(self) -> dict[str, Any]:
        """The gate's loss figures (computed once: the report and the audit trail each ask; a copy each time)."""
        if self._loss is None:
            self._loss = self.outcome.loss() | {"stranded_customers": display_size(self.outcome.stranded, self.k)}
        return copy.deepcopy(self._loss)

    def audit_summary(self) -> dict[str, Any]:
        counts = Counter(r["status"] for r in self.segment_rows)
        return {"k": self.k, "decisions": dict(counts), "scope": self.scope, "loss": self.loss(),
                "segments": [{"key": r["key"], "status": r["status"], "released_as": r["released_as"],
                              "reason": r["reason"], **({"size": r["released_size"]} if r["status"] == "released"
                                                        else {})} for r in self.segment_rows]}


# ---------------------------------------------------------------------------------- columns
def _columns(spec: ReleaseSpec, segs: list[Any], ids: pd.Index, gate_index: np.ndarray) -> list[Column]:
    n = int((gate_index >= 0).sum())
    by_family: dict[str, list[Any]] = {}
    for s in segs:
        by_family.setdefault(s.family, []).append(s)
    cols = []
    for fam in spec.families:
        if fam == MICRO:
            continue
        rows = [r[r >= 0] for r in (gate_index[s.members] for s in by_family.get(fam, []))]
        labels = [str(s.label) for r, s in zip(rows, by_family.get(fam, [])) if len(r)]
        rows = [r for r in rows if len(r)]
        names = sorted(set(labels))          # a label's code: its rank (as a sorted factorize of the labels)
        rank = {label: i for i, label in enumerate(names)}
        codes = np.repeat(np.array([rank[label] for label in labels], dtype=np.int64),
                          [len(r) for r in rows]) if rows else np.array([], np.int64)
        r = np.concatenate(rows) if rows else np.array([], np.int64)
        cols.append(family_column_of_codes(fam, r, codes, names, n, tier=0 if fam in spec.micro_dims else 1))
    keep = np.flatnonzero(gate_index >= 0)
    if spec.scores is not None:
        frame = spec.scores.reindex(ids).iloc[keep]
        cols += [score_column(c, frame[c].reset_index(drop=True), spec.score_bands) for c in frame.columns]
    if spec.attributes is not None:
        frame = spec.attributes.reindex(ids).iloc[keep]
        cols += [attribute_column(c, frame[c].reset_index(drop=True), 1 if c in spec.generalised else 0)
                 for c in frame.columns]
    return cols


# ---------------------------------------------------------------------------------- the gate
def gate_release(spec: ReleaseSpec, segs: list[Any], ids: pd.Index, releasable: np.ndarray,
                 customer_keys: np.ndarray | None, namespace: str | None, store: Any) -> Release:
    """Run the gate over the released table of ``segs`` (candidates from methods and
    microsegments) for the ``releasable`` customer positions (marketing consent)."""
    n = len(ids)
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name], clock = round(now - clock, 3), now

    gate_index = np.full(n, -1, dtype=np.int64)
    gate_index[releasable] = np.arange(len(releasable))
    columns = _columns(spec, segs, ids, gate_index)
    lap("columns")
    earlier = earlier_releases(store, namespace, spec.scope)
    hashes = key_hashes(customer_keys[releasable]) if customer_keys is not None and namespace else None
    strata = build_strata(earlier, hashes, columns, spec.scope.hold) if earlier and hashes is not None \
        else Strata.none(len(releasable))
    lap("history")
    outcome = apply_gate(columns, spec.k, strata)
    lap("gate")
    column_order = [c.name for c in columns if c.kind == "family"] + ([MICRO] if spec.micro_dims else []) + [
        c.name for c in columns if c.kind != "family"]
    scope = {"scope": spec.scope.describe(), "namespace": namespace, "earlier_runs": [e.run_id for e in earlier],
             "columns": column_order}
    members, values_rows = _released_values(spec, columns, outcome, releasable)
    rows = candidate_rows(spec, segs, columns, outcome, strata, gate_index, members, scope["earlier_runs"])
    cells = None
    if hashes is not None:
        rel = outcome.released
        codes, fams, values = cell_table(outcome)
        order = np.argsort(hashes[rel], kind="stable")
        cells = {"namespace": namespace, "keys": hashes[rel][order].astype(">u8").tobytes(),
                 "codes": codes[order].astype("<i4").tobytes(),
                 "cells": json.dumps({"columns": fams, "values": values})}
    lap("rows")
    return Release(outcome=outcome, segment_rows=rows + values_rows, members=members, cells=cells, scope=scope,
                   k=spec.k, timings=timings)


def _released_values(spec: ReleaseSpec, columns: list[Column], outcome: GateOutcome,
                     releasable: np.ndarray) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Memberships (segment key → customer positions) of every released value, and segment rows
    for the values that are not candidates (``*``, score bands, attribute values)."""
    rel = np.flatnonzero(outcome.released)
    positions = releasable[rel]
    members: dict[str, list[np.ndarray]] = {}
    extra_rows: list[dict[str, Any]] = []
    for j, col in enumerate(columns):
        code = outcome.codes[j, rel]
        order = stable_order(code)
        bounds = np.flatnonzero(np.diff(code[order])) + 1
        for chunk in np.split(order, bounds) if len(order) else []:
            c = int(code[chunk[0]])
            text = col.values[c]
            if col.kind == "family" and c and (col.parts or [])[c]:
                keys = [f"{col.name}:{label}" for label in (col.parts or [])[c]]
            else:                          # withheld, no label, a score band, an attribute value
                keys = [f"{col.name}:{text}"]
                extra_rows.append(value_row(col, text, len(chunk)))
            for key in keys:
                members.setdefault(key, []).append(positions[chunk])
    if spec.micro_dims:
        all_codes, keys_of = micro_keys(spec.micro_dims, columns, outcome.codes)
        codes = all_codes[rel]
        order = stable_order(codes)
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        for chunk in np.split(order, bounds) if len(order) else []:
            key = keys_of[codes[chunk[0]]]
            members.setdefault(key, []).append(positions[chunk])
            if key.endswith(f":{WITHHELD}"):
                extra_rows.append(value_row(Column(MICRO, "family", [WITHHELD], np.zeros((1, 0), np.int32)),
                                             WITHHELD, len(chunk)))
    # each part is ascending: a stable sort merges the runs (the same array as any sort)
    merged = {k: np.sort(np.concatenate(v), kind="stable") for k, v in members.items()}
    return merged, extra_rows


#: the ``method`` of rows that stand for a released value of a column, not for a method's segment
VALUE_ROW_METHODS = frozenset({"withheld", "no label", "score band", "attribute"})


def value_row(col: Column, text: str, size: int) -> dict[str, Any]:
    """The stored row of one released value of a column (a band, an attribute value, "*")."""
    if text == WITHHELD:
        method, desc = "withheld", f"{col.name} not released for these customers (coarsened to keep every cell ≥ k)"
    elif col.kind == "family":
        method, desc = "no label", f"customers {col.name} gave no label"
    elif col.kind == "score":
        method, desc = "score band", _band_words(col.name, text)
    else:
        method, desc = "attribute", f"{col.name} = {text}"
    return {"key": f"{col.name}:{text}", "family": col.name, "method": method, "label": text, "description": desc,
            "parent_key": None, "size": size, "status": "released", "released_as": None, "reason": "",
            "released_size": size}


def _band_words(name: str, band: str) -> str:
    """A score band in words: ``< 0.3`` → "decline_probability below 0.3"."""
    score = name.split(".", 1)[-1].replace("_", " ")
    if band == NO_SCORE:
        return f"no {score} (the method gave none)"
    if band.startswith("< "):
        return f"{score} below {band[2:]}"
    if band.startswith("≥ "):
        return f"{score} of {band[2:]} or more"
    low, _, high = band.partition("–")
    return f"{score} from {low} to below {high}" if high else f"{score} {band}"


def release_spec(cfg: Any, scores: pd.DataFrame | None, attributes: pd.DataFrame | None,
                 generalised: set[str], withheld: Iterable[str] = ()) -> ReleaseSpec:
    """The :class:`ReleaseSpec` of a config: released families in priority order (microsegment
    dimensions first, then the other methods as listed), scores and attributes. Methods the
    model quality gate ``withheld`` release nothing; microsegments stop before the first of them."""
    withheld = set(withheld)
    method_ids = [m.instance_id for m in cfg.methods]
    configured = list(cfg.microsegments.dimensions) if len(cfg.microsegments.dimensions) >= 2 else []
    wanted = cfg.release.families if cfg.release.families is not None else method_ids + ([MICRO] if configured else [])
    for i, fam in enumerate(wanted):
        if fam not in method_ids and fam != MICRO:
            raise ConfigError(f"{fam!r} is not a method id or 'micro'", key=f"release.families[{i}]")
        if fam == MICRO and not configured:
            raise ConfigError("'micro' needs [microsegments] dimensions", key=f"release.families[{i}]")
    dims = configured[:next((i for i, d in enumerate(configured) if d in withheld), len(configured))]
    families = list(dict.fromkeys([d for d in dims if MICRO in wanted] + [f for f in method_ids if f in wanted]))
    families = [f for f in families if f not in withheld]
    if MICRO in wanted and dims:
        families.append(MICRO)
    dropped = [c for c in cfg.release.attributes if c not in attributes.columns] if attributes is not None else []
    if dropped:
        raise ConfigError(f"{dropped[0]!r} is removed by its column action before release "
                          f"({cfg.privacy.columns.get(dropped[0], 'drop')}); take it out of release.attributes or "
                          "change its action", key="release.attributes")
    taken = set(method_ids) | {MICRO}
    for name in list(scores.columns if scores is not None else []) + list(
            attributes.columns if attributes is not None else []):
        if name in taken:
            raise ConfigError(f"{name!r} is released twice (a method id and an attribute or score have the same "
                              "name); rename the method instance", key="release")
    return ReleaseSpec(families=families, micro_dims=dims if MICRO in families else [], k=cfg.privacy.min_segment_size,
                       scores=scores, score_bands=cfg.release.score_bands, attributes=attributes,
                       generalised=generalised, scope=cfg.privacy.release_scope)
