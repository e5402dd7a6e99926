"""The release as the pipeline uses it: candidates → released table → stored rows and report.

:func:`gate_release` builds the released table's columns (families, score bands, attributes),
joins earlier releases in scope, runs the gate (:mod:`microseg.privacy.gate`) and turns its
outcome into segment rows (every released value is a segment: a label, a microsegment, a score
band, an attribute value, a family's withheld value ``*``) and memberships.
:func:`public_report` builds the run report: every count in it is a count of released customers
carrying a released value (a union of cells: 0 or ≥ k); withheld or merged segments are listed
with their reason and no size.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from microseg.compose import KEY_SEP, UNASSIGNED
from microseg.errors import ConfigError
from microseg.privacy.columns import NO_LABEL, WITHHELD, Column, attribute_column, family_column, score_column
from microseg.privacy.gate import GateOutcome, Strata, apply_gate, display_size
from microseg.privacy.history import build_strata, cell_table, earlier_releases, key_hashes
from microseg.privacy.scope import ReleaseScope

#: report keys whose small integers are parameters, not counts of people
PARAMETER_KEYS = {"k", "n_clusters", "k_min", "k_max", "horizon_days", "n_bootstrap", "bins", "random_state",
                  "level", "min_segment_size", "n_estimators", "best_iteration", "n_trees"}
#: method-report keys holding pre-gate segment sizes: replaced by the released sizes
SIZE_KEYS = ("segment_sizes", "cluster_sizes")
MICRO = "micro"
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

    def loss(self) -> dict[str, Any]:
        return self.outcome.loss() | {"stranded_customers": display_size(self.outcome.stranded, self.k)}

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
        rows = [gate_index[s.members] for s in by_family.get(fam, [])]
        labels = [np.full(len(r), s.label, dtype=object) for r, s in zip(rows, by_family.get(fam, []))]
        r = np.concatenate(rows) if rows else np.array([], np.int64)
        lab = np.concatenate(labels) if labels else np.array([], object)
        ok = r >= 0
        cols.append(family_column(fam, r[ok], lab[ok], n, tier=0 if fam in spec.micro_dims else 1))
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
    rows = _candidate_rows(spec, segs, columns, outcome, strata, gate_index, members, scope["earlier_runs"])
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


def _micro_keys(spec: ReleaseSpec, columns: list[Column], outcome: GateOutcome) -> tuple[np.ndarray, list[str]]:
    """Each gate customer's microsegment — the longest run of released dimensions — as a code
    into the returned keys (``micro:*`` when the first dimension is withheld)."""
    n = outcome.codes.shape[1]
    idx = [next(j for j, c in enumerate(columns) if c.name == d) for d in spec.micro_dims]
    alive = np.ones(n, dtype=bool)
    level = np.zeros(n, dtype=np.int64)
    combined = np.zeros(n, dtype=np.int64)
    for j in idx:
        code = outcome.codes[j].astype(np.int64)
        alive &= code > 0
        level += alive
        combined = np.where(alive, combined * (len(columns[j].values) + 1) + code, combined)
    codes, uniq = pd.factorize(combined * (len(idx) + 1) + level)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    keys = []
    for i in first.tolist():
        parts = [columns[j].values[outcome.codes[j, i]] for j in idx[: int(level[i])]]
        parts = [UNASSIGNED if p == NO_LABEL else p for p in parts]
        keys.append(f"{MICRO}:" + (KEY_SEP.join(parts) if parts else WITHHELD))
    return codes.astype(np.int64), keys


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
        order = np.argsort(code, kind="stable")
        bounds = np.flatnonzero(np.diff(code[order])) + 1
        for chunk in np.split(order, bounds) if len(order) else []:
            c = int(code[chunk[0]])
            text = col.values[c]
            if col.kind == "family" and c and (col.parts or [])[c]:
                keys = [f"{col.name}:{label}" for label in (col.parts or [])[c]]
            else:                          # withheld, no label, a score band, an attribute value
                keys = [f"{col.name}:{text}"]
                extra_rows.append(_value_row(col, text, len(chunk)))
            for key in keys:
                members.setdefault(key, []).append(positions[chunk])
    if spec.micro_dims:
        all_codes, keys_of = _micro_keys(spec, columns, outcome)
        codes = all_codes[rel]
        order = np.argsort(codes, kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        for chunk in np.split(order, bounds) if len(order) else []:
            key = keys_of[codes[chunk[0]]]
            members.setdefault(key, []).append(positions[chunk])
            if key.endswith(f":{WITHHELD}"):
                extra_rows.append(_value_row(Column(MICRO, "family", [WITHHELD], np.zeros((1, 0), np.int32)),
                                             WITHHELD, len(chunk)))
    merged = {k: np.sort(np.concatenate(v)) for k, v in members.items()}
    return merged, extra_rows


def _value_row(col: Column, text: str, size: int) -> dict[str, Any]:
    if text == WITHHELD:
        method, desc = "withheld", f"{col.name} not released for these customers (coarsened to keep every cell ≥ k)"
    elif col.kind == "family":
        method, desc = "no label", f"customers {col.name} gave no label"
    elif col.kind == "score":
        method, desc = "score band", f"{col.name} in {text}"
    else:
        method, desc = "attribute", f"{col.name} = {text}"
    return {"key": f"{col.name}:{text}", "family": col.name, "method": method, "label": text, "description": desc,
            "parent_key": None, "size": size, "status": "released", "released_as": None, "reason": "",
            "released_size": size}


def _candidate_rows(spec: ReleaseSpec, segs: list[Any], columns: list[Column], outcome: GateOutcome,
                    strata: Strata, gate_index: np.ndarray, members: dict[str, np.ndarray],
                    earlier_runs: list[int]) -> list[dict[str, Any]]:
    """One row per candidate segment: status, released_as and the reason in words."""
    col_of = {c.name: j for j, c in enumerate(columns)}
    coarse = outcome.coarsened()
    released_micro = MICRO in spec.families and bool(spec.micro_dims)
    micro_now, micro_keys = _micro_keys(spec, columns, outcome) if released_micro else (None, [])
    micro_code = {key: i for i, key in enumerate(micro_keys)}
    runs_text = ", ".join(map(str, earlier_runs))
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
                below = np.array([key.startswith(s.key + KEY_SEP) for key in micro_keys], dtype=bool)
                finer = below[now]                          # released in one of its finer microsegments
                lowered = (now != micro_code.get(s.key, -1)) & ~finer
                j_cols = [col_of[d] for d in spec.micro_dims]
                held = outcome.held[j_cols][:, mine].any(axis=0)
                counts = np.bincount(now[lowered], minlength=len(micro_keys)) if lowered.any() else np.zeros(1)
                target = micro_keys[int(counts.argmax())] if counts.any() else None
            else:
                j = col_of[s.family]
                lowered = coarse[j, mine]
                held = outcome.held[j, mine]
                target = f"{s.family}:{WITHHELD}" if (outcome.codes[j, mine] == 0).any() else None
            row |= _decision(s, size_out, lowered, finer, held, strata.code[mine] > 0, target, runs_text)
        rows.append(row)
    return rows


def _decision(s: Any, size_out: int, lowered: np.ndarray, finer: np.ndarray, held: np.ndarray, seen: np.ndarray,
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


# ---------------------------------------------------------------------------------- the report
def sanitise(value: Any, k: int, key: str = "") -> Any:
    """Replace every count in 1..k−1 by ``"< k"``, recursively (parameters excepted)."""
    if isinstance(value, dict):
        return {kk: sanitise(v, k, str(kk)) for kk, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitise(v, k, key) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return display_size(int(value), k) if (0 < int(value) < k and key not in PARAMETER_KEYS) else int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def method_report(report: dict[str, Any], family: str, release: Release) -> dict[str, Any]:
    """A method's own report with its pre-gate segment sizes replaced by released sizes."""
    released = {r["label"]: r["released_size"] for r in release.segment_rows
                if r["family"] == family and r["status"] == "released"}
    out = dict(report)
    for key in SIZE_KEYS:
        if key in out:
            out[key] = {label: released.get(label, "withheld") for label in
                        [r["label"] for r in release.segment_rows if r["family"] == family]}
    return sanitise(out, release.k)


def public_report(cfg: Any, ids: pd.Index, release: Release, assignments: dict[str, Any],
                  findings: list[Any], actions: dict[str, str], masks: Any, load_stats: dict) -> dict[str, Any]:
    """The run report: released segments and values, the gate outcome, method figures, PII handling."""
    k = release.k
    dp_sizes = None
    if cfg.privacy.dp is not None:
        from microseg.privacy.dp import noisy_counts
        sizes = {r["key"]: r["released_size"] for r in release.segment_rows if r["status"] == "released"}
        dp_sizes = noisy_counts(sizes, epsilon=cfg.privacy.dp.epsilon, mechanism=cfg.privacy.dp.mechanism,
                                delta=cfg.privacy.dp.delta)
    segments = []
    for r in release.segment_rows:
        entry = {"key": r["key"], "family": r["family"], "label": r["label"], "description": r["description"],
                 "status": r["status"], "kind": r["method"] if r["method"] in VALUE_KINDS else "segment"}
        if r["status"] == "released":
            entry["size"] = dp_sizes[r["key"]] if dp_sizes else int(r["released_size"])
            if r["reason"]:
                entry["reason"] = r["reason"]
        else:
            entry |= {"released_as": r["released_as"], "reason": r["reason"]}
        segments.append(entry)
    return {
        "customers": display_size(len(ids), k), "k": k, "segments": segments,
        "gate": release.audit_summary()["decisions"],
        "loss": release.loss() | {"scope": release.scope},
        "methods": {mid: method_report(a.report, mid, release) for mid, a in assignments.items()},
        "privacy": {"columns": [f.as_dict() for f in findings], "actions": actions,
                    "consent": sanitise(masks.summary(), k), "dp": cfg.privacy.dp is not None},
        "load": sanitise(load_stats, k),
    }


def release_spec(cfg: Any, scores: pd.DataFrame | None, attributes: pd.DataFrame | None,
                 generalised: set[str]) -> ReleaseSpec:
    """The :class:`ReleaseSpec` of a config: released families in priority order (microsegment
    dimensions first, then the other methods as listed), scores and attributes."""
    method_ids = [m.instance_id for m in cfg.methods]
    dims = list(cfg.microsegments.dimensions) if len(cfg.microsegments.dimensions) >= 2 else []
    wanted = cfg.release.families if cfg.release.families is not None else method_ids + ([MICRO] if dims else [])
    for i, fam in enumerate(wanted):
        if fam not in method_ids and fam != MICRO:
            raise ConfigError(f"{fam!r} is not a method id or 'micro'", key=f"release.families[{i}]")
        if fam == MICRO and not dims:
            raise ConfigError("'micro' needs [microsegments] dimensions", key=f"release.families[{i}]")
    families = list(dict.fromkeys([d for d in dims if MICRO in wanted] + [f for f in method_ids if f in wanted]))
    if MICRO in wanted:
        families.append(MICRO)
    dropped = [c for c in cfg.release.attributes if attributes is None or c not in attributes.columns]
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
