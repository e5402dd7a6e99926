"""The release gate as the pipeline uses it, and the only way reports are built.

:func:`gate_segments` turns candidate segments into stored segment rows and released
memberships; :func:`public_report` builds the run report with every count passed through
:func:`sanitise` (no integer in 1..k−1 leaves the system: it is shown as ``"< k"``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from microseg.privacy.gate import Candidate, GatePolicy, GateResult, apply_gate, display_size
from microseg.privacy.policy import PrivacyPolicy

#: report keys whose small integers are parameters, not counts of people
PARAMETER_KEYS = {"k", "n_clusters", "k_min", "k_max", "horizon_days", "n_bootstrap", "bins", "random_state",
                  "level", "min_segment_size", "k_anonymity", "l_diversity", "n_estimators", "best_iteration", "n_trees"}


@dataclass
class Gated:
    result: GateResult
    specs: dict[str, Any]
    k: int

    @property
    def members(self) -> dict[str, np.ndarray]:
        return {key: m for key, m in self.result.released.items() if len(m)}

    @property
    def segment_rows(self) -> list[dict[str, Any]]:
        rows = []
        for key, spec in self.specs.items():
            d = self.result.decisions[key]
            rows.append({"key": key, "family": spec.family, "method": spec.method, "label": spec.label,
                         "description": spec.description, "parent_key": spec.parent, "size": int(d.size),
                         "status": d.status, "released_as": d.released_as, "reason": d.reason,
                         "released_size": int(len(self.result.released.get(key, ())))})
        return rows

    def audit_summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for d in self.result.decisions.values():
            counts[d.status] = counts.get(d.status, 0) + 1
        return {"k": self.k, "decisions": counts,
                "segments": [{"key": r["key"], "size": display_size(r["size"], self.k), "status": r["status"],
                              "released_as": r["released_as"], "reason": r["reason"]} for r in self.segment_rows]}


def gate_segments(specs: list[Any], n_customers: int, policy: PrivacyPolicy,
                  releasable: np.ndarray | None = None) -> Gated:
    """Apply the gate; customers without marketing consent (not in ``releasable``, sorted
    positions) are never released."""
    allowed = None
    if releasable is not None and len(releasable) < n_customers:
        allowed = np.zeros(n_customers, dtype=bool)
        allowed[releasable] = True
    candidates = [Candidate(key=s.key, family=s.family, parent=s.parent, label=s.label,
                            members=s.members if allowed is None else s.members[allowed[s.members]])
                  for s in specs]
    gp = GatePolicy(k=policy.min_segment_size, small=policy.small_segments, differencing=policy.differencing,
                    check_differencing=policy.check_differencing)
    result = apply_gate(candidates, n_customers, gp)
    return Gated(result=result, specs={s.key: s for s in specs}, k=policy.min_segment_size)


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


def released_size(size: int, k: int, dp_sizes: dict[str, int] | None = None, key: str = "") -> Any:
    if dp_sizes and key in dp_sizes:
        return dp_sizes[key]
    return display_size(size, k)


def public_report(cfg: Any, ids: pd.Index, specs: list[Any], gated: Gated, assignments: dict[str, Any],
                  findings: list[Any], actions: dict[str, str], masks: Any, load_stats: dict) -> dict[str, Any]:
    """The run report: released segments, gate outcome, method figures, PII handling."""
    k = gated.k
    dp_sizes = None
    if cfg.privacy.dp is not None:
        from microseg.privacy.dp import noisy_counts
        sizes = {r["key"]: r["released_size"] for r in gated.segment_rows if r["status"] == "released"}
        dp_sizes = noisy_counts(sizes, epsilon=cfg.privacy.dp.epsilon, mechanism=cfg.privacy.dp.mechanism,
                                delta=cfg.privacy.dp.delta)
    segments = []
    for r in gated.segment_rows:
        entry = {"key": r["key"], "family": r["family"], "label": r["label"], "description": r["description"],
                 "status": r["status"]}
        if r["status"] == "released":
            entry["size"] = released_size(r["released_size"], k, dp_sizes, r["key"])
        else:
            entry["size"] = display_size(r["size"], k)
            entry["released_as"] = r["released_as"]
        segments.append(entry)
    # segment sizes went through display_size above; decision counts count segments, not people;
    # everything a method or the loader reports is sanitised (any count 1..k-1 becomes "< k").
    return {
        "customers": display_size(len(ids), k), "k": k, "segments": segments,
        "gate": gated.audit_summary()["decisions"],
        "methods": sanitise({mid: a.report for mid, a in assignments.items()}, k),
        "privacy": {"columns": [f.as_dict() for f in findings], "actions": actions,
                    "consent": sanitise(masks.summary(), k), "dp": cfg.privacy.dp is not None},
        "load": sanitise(load_stats, k),
    }
