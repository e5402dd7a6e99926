"""The run report: every count in it is a count of released customers carrying a released value
(a union of cells: 0 or ≥ k); withheld or merged segments are listed with their reason and no
size; the methods' own segment sizes are replaced by released sizes; any other count of 1..k−1
becomes ``"< k"``."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microseg.privacy.counts import display_size
from microseg.privacy.release import VALUE_KINDS, Release

#: report keys whose small integers are parameters, not counts of people
PARAMETER_KEYS = {"k", "n_clusters", "k_min", "k_max", "horizon_days", "n_bootstrap", "bins", "random_state",
                  "level", "min_segment_size", "n_estimators", "best_iteration", "n_trees"}
#: method-report keys holding pre-gate segment sizes: replaced by the released sizes
SIZE_KEYS = ("segment_sizes", "cluster_sizes")


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
