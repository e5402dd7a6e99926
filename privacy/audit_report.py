"""``microseg audit``: everything a reviewer needs about one run, and its violations.

Violations (exit code 1): a released segment smaller than k (for instance after erasures), a
pair of released segments whose symmetric difference is 1..k−1, a broken audit chain.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select

from microseg.privacy.audit import verify_chain
from microseg.privacy.gate import display_size
from microseg.store import AuditEvent, Store


def differencing_pairs(members: dict[str, np.ndarray], k: int) -> list[tuple[str, str, int]]:
    """Pairs of segments whose symmetric difference has 1..k−1 customers."""
    keys = sorted(members)
    if len(keys) < 2:
        return []
    rows = np.concatenate([members[kk] for kk in keys])
    cols = np.concatenate([np.full(len(members[kk]), i) for i, kk in enumerate(keys)])
    n = int(rows.max()) + 1 if len(rows) else 0
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(keys)))
    inter = (m.T @ m).toarray()
    sizes = np.diag(inter)
    sym = sizes[:, None] + sizes[None, :] - 2 * inter
    i, j = np.nonzero(np.triu((sym >= 1) & (sym < k), 1))
    return [(keys[a], keys[b], int(sym[a, b])) for a, b in zip(i, j)]


def _events(store: Store, run_id: int) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(AuditEvent).order_by(AuditEvent.seq)).mappings().all()
    return [dict(r) for r in rows]


def audit_run(store: Store, run_id: int | None = None, *, verify: bool = False) -> dict[str, Any]:
    run = store.run(run_id)
    k = run.k
    events = _events(store, run.id)
    mine = {e["kind"]: json.loads(e["payload"]) for e in events if e["run_id"] == run.id}
    first_seq = min((e["seq"] for e in events if e["run_id"] == run.id), default=0)
    erasures = [e for e in events if e["kind"] == "erasure" and e["seq"] > first_seq
                and run.id in json.loads(e["payload"]).get("runs_affected", [])]
    segs = store.segments(run.id)
    memberships = store.memberships(run.id)
    by_seg = {int(sid): g.to_numpy() for sid, g in memberships.groupby("segment_id")["customer_no"]}
    released = {s.key: by_seg.get(s.id, np.array([], "int64")) for s in segs if s.status == "released"}
    violations = []
    for s in segs:
        if s.status == "released" and len(released[s.key]) < k:
            violations.append(f"released segment {s.key!r} has {display_size(len(released[s.key]), k)} members")
    for a, b, _ in differencing_pairs(released, k):
        violations.append(f"released segments {a!r} and {b!r} differ by fewer than {k} customers")
    from microseg.privacy.erasure import erasure_violations
    violations += erasure_violations(store, run, events)
    doc: dict[str, Any] = {
        "run": {"id": run.id, "as_of": run.as_of, "status": run.status, "k": k, "created_at": str(run.created_at),
                "policy_hash": run.policy_hash, "config_hash": run.config_hash, "engine": run.engine},
        "inputs": json.loads(run.input_fingerprint),
        "plugins": json.loads(run.plugin_versions),
        "pii": mine.get("run.pii", {}).get("findings", []),
        "actions": mine.get("run.pii", {}).get("actions", {}),
        "consent": mine.get("run.consent", {}),
        "gate": mine.get("run.gate", {}),
        "segments": [{"key": s.key, "status": s.status, "size": display_size(s.size, k),
                      "released_size": display_size(len(released.get(s.key, ())), k) if s.status == "released" else None,
                      "k": k, "reason": s.reason, "released_as": s.released_as} for s in segs],
        "differencing": {"checked_pairs": len(released) * (len(released) - 1) // 2},
        "k_anonymity": mine.get("run.k_anonymity"),
        "erasures_since": len(erasures),
        "key_id": mine.get("run.erasure", {}).get("key_id"),
        "needs_rerun": run.status == "needs-rerun",
    }
    if verify:
        with store.engine.connect() as conn:
            chain = verify_chain(conn)
        doc["chain"] = chain.as_dict()
        violations += [f"audit trail: {p}" for p in chain.problems]
    doc["violations"] = violations
    return doc
