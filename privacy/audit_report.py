"""``microseg audit``: everything a reviewer needs about one run, and its violations.

Violations (exit code 1):

* the release invariant, recomputed from the stored released table: a cell (customers sharing
  every released value) of 1..k−1 customers — within the run, and over the run's customers
  joined with the earlier runs it was checked with (absent from a run is a value);
* with ``--verify`` (needs the pseudonymisation key): a broken or re-signed audit chain, and any
  difference between what the trail recorded for each release and what the store holds now
  (an edited size, k, status, membership, a deleted run, a run status not explained by erasures).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from microseg.privacy.audit import verify_chain
from microseg.privacy.cells import CellCheck, check_cells
from microseg.privacy.counts import display_size
from microseg.privacy.release_record import compare_records, record_from_store
from microseg.store import AuditEvent, Run, RunCustomer, Store


def _events(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(AuditEvent).order_by(AuditEvent.seq)).mappings().all()
    return [dict(r) for r in rows]


def _vectors(store: Store, run_id: int) -> pd.Series:
    """A run's released vectors: customer key → stored value list (the segment ids)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(RunCustomer.customer_no, RunCustomer.customer_key, RunCustomer.segment_ids)
                            .where(RunCustomer.run_id == run_id)).all()
    if not rows:
        return pd.Series([], dtype=object)
    nos, keys, lists = zip(*rows)
    index = [k if k is not None else f"#{n}" for n, k in zip(nos, keys)]
    return pd.Series(lists, index=index, dtype=object)


def invariant_checks(store: Store, run: Run) -> tuple[CellCheck, CellCheck | None, list[int]]:
    """The run's cells alone, and joined with the earlier runs in its scope (same namespace)."""
    own = _vectors(store, run.id)
    within = check_cells([own.to_numpy()], run.k)
    scope = json.loads(run.scope or "{}")
    earlier = [r for r in scope.get("earlier_runs", []) if _exists(store, r)]
    if not earlier or run.namespace is None:
        return within, None, earlier
    frames = [_vectors(store, r) for r in earlier] + [own]
    keys = pd.Index(np.unique(np.concatenate([f.index.to_numpy(dtype=object) for f in frames]).astype(str)))
    columns = [f.reindex(keys).to_numpy(dtype=object) for f in frames]      # NaN: absent from that run
    columns = [np.where(pd.isna(c), None, c) for c in columns]
    return within, check_cells(columns, run.k), earlier


def _exists(store: Store, run_id: int) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(Run.id).where(Run.id == run_id)).first() is not None


def audit_run(store: Store, run_id: int | None = None, *, verify: bool = False,
              secret: bytes | None = None, retired: tuple[bytes, ...] = ()) -> dict[str, Any]:
    run = store.run(run_id)
    k = run.k
    events = _events(store)
    mine = {e["kind"]: json.loads(e["payload"]) for e in events if e["run_id"] == run.id}
    first_seq = min((e["seq"] for e in events if e["run_id"] == run.id), default=0)
    erasures = [e for e in events if e["kind"] == "erasure" and e["seq"] > first_seq
                and run.id in json.loads(e["payload"]).get("runs_affected", [])]
    segs = store.segments(run.id)
    within, across, earlier = invariant_checks(store, run)
    violations = []
    if not within.ok:
        violations.append(f"run {run.id}: {within.small_cells} cells of released customers hold fewer than "
                          f"{k} customers (customers sharing every released value)")
    if across is not None and not across.ok:
        violations.append(f"run {run.id} together with earlier runs {', '.join(map(str, earlier))}: "
                          f"{across.small_cells} cells hold fewer than {k} customers (absent counts as a value)")
    from microseg.privacy.erasure import erasure_violations
    violations += erasure_violations(store, run, events)
    gate = mine.get("run.gate", {})
    doc: dict[str, Any] = {
        "run": {"id": run.id, "as_of": run.as_of, "status": run.status, "k": k, "created_at": str(run.created_at),
                "policy_hash": run.policy_hash, "config_hash": run.config_hash, "engine": run.engine,
                "key_id": run.key_id, "namespace": run.namespace, "scope": json.loads(run.scope or "{}")},
        "inputs": json.loads(run.input_fingerprint),
        "plugins": json.loads(run.plugin_versions),
        "pii": mine.get("run.pii", {}).get("findings", []),
        "actions": mine.get("run.pii", {}).get("actions", {}),
        "consent": mine.get("run.consent", {}),
        "gate": {"decisions": gate.get("decisions", {}), "loss": gate.get("loss", {}), "scope": gate.get("scope", {})},
        "segments": [{"key": s.key, "family": s.family, "status": s.status, "reason": s.reason,
                      "released_as": s.released_as,
                      **({"size": display_size(s.released_size, k)} if s.status == "released" else {})}
                     for s in segs],
        "invariant": {"within_run": within.as_dict(), "across_runs": across.as_dict() if across else None,
                      "earlier_runs": earlier},
        "erasures_since": len(erasures),
        "key_id": mine.get("run.erasure", {}).get("key_id"),
        "needs_rerun": run.status == "needs-rerun",
    }
    if verify:
        if secret is None:
            raise ValueError("verify needs the pseudonymisation key")
        with store.engine.connect() as conn:
            chain = verify_chain(conn, secret, retired)
            doc["chain"] = chain.as_dict()
            violations += [f"audit trail: {p}" for p in chain.problems]
            violations += [f"audit trail: {p}" for p in verify_releases(conn, secret, events)]
    doc["violations"] = violations
    return doc


def verify_releases(conn: Any, secret: bytes, events: list[dict[str, Any]]) -> list[str]:
    """Compare every release the trail recorded (as last updated by erasures) with the store."""
    latest: dict[int, dict[str, Any]] = {}
    erased: set[int] = set()
    for e in events:
        payload = json.loads(e["payload"])
        if e["kind"] == "run.release" and e["run_id"] is not None:
            latest[e["run_id"]] = payload
        elif e["kind"] == "erasure":
            for run_id, record in payload.get("releases", {}).items():
                if record is not None:
                    latest[int(run_id)] = record
            erased.update(payload.get("runs_affected", []))
    problems = []
    stored = {int(r): status for r, status in conn.execute(select(Run.id, Run.status))}
    for run_id in sorted(set(stored) - set(latest)):
        problems.append(f"run {run_id} is in the store but its release is not in the audit trail")
    for run_id, recorded in sorted(latest.items()):
        problems += compare_records(run_id, recorded, record_from_store(conn, secret, run_id))
        expected = "needs-rerun" if run_id in erased else "complete"
        if run_id in stored and stored[run_id] != expected:
            problems.append(f"run {run_id}: status {stored[run_id]!r} but the audit trail says {expected!r}")
    return problems
