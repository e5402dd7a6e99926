"""What the audit trail records about a release, computed from the store.

Per run (event ``run.release``, and again after every erasure that changed it): a keyed digest
of the run row (k, policy and config hashes, scope, …), per segment its key, status,
released_as, released size, a keyed digest of the whole row and a digest of its members, a
digest of the released table (every customer's key and values) and of the run's release cells.
``audit --verify`` recomputes the same record from the store (:func:`record_from_store`) and
compares: an edited size, k, membership, status or reason, or a deleted run, is named.

Keyed digests (HMAC under the audit key) cover values too small to hide behind a plain hash,
e.g. a segment's size before the gate.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

import numpy as np
from sqlalchemy import Connection, select

from microseg.privacy.subkeys import audit_key, mac
from microseg.store.int_lists import parse_int_lists
from microseg.store.models import ReleaseCells, Run, RunCustomer, Segment

#: run columns that may change after the release, and by whom: ``status`` (erasure)
RUN_MUTABLE = {"id", "status"}
SEGMENT_FIELDS = ("key", "family", "method", "label", "description", "parent_key", "size", "status",
                  "released_as", "reason", "released_size")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def run_digest(secret: bytes, run: dict[str, Any]) -> str:
    return mac(audit_key(secret), _canonical({k: v for k, v in run.items() if k not in RUN_MUTABLE}))


def segment_digest(key: bytes, segment: dict[str, Any]) -> str:
    """Keyed digest of a segment row; ``key`` is the audit key (:func:`audit_key`), derived once per record."""
    return mac(key, _canonical([segment.get(f) for f in SEGMENT_FIELDS]))


def members_digest(customer_nos: np.ndarray) -> str:
    """Digest of a segment's members in ascending order (already sorted ones, as the gate gives
    them, are not sorted again)."""
    nos = np.asarray(customer_nos, dtype="<i8")
    if len(nos) > 1 and not (nos[1:] >= nos[:-1]).all():
        nos = np.sort(nos)
    return hashlib.sha256(nos.tobytes()).hexdigest()[:32]


def table_digest(customer_nos: np.ndarray, keys: Sequence[str | None], lists: Sequence[str]) -> str:
    h = hashlib.sha256(np.asarray(customer_nos, dtype="<i8").tobytes())
    try:
        text = "\x1f".join(keys)                # keys that are all text (pseudonyms): as they are
    except TypeError:                           # no key (None) or another type: as text, None as ""
        text = "\x1f".join("" if k is None else str(k) for k in keys)
    h.update(text.encode())
    h.update("\x1e".join(lists).encode())
    return h.hexdigest()


def cells_digest(row: dict[str, Any] | None) -> str | None:
    if row is None:
        return None
    h = hashlib.sha256(row["keys"])
    h.update(row["codes"])
    h.update(row["cells"].encode())
    return h.hexdigest()


def build_record(secret: bytes, run: dict[str, Any], segments: list[dict[str, Any]],
                 members_by_key: dict[str, np.ndarray], customer_nos: np.ndarray, keys: Sequence[str | None],
                 lists: Sequence[str], cells: dict[str, Any] | None) -> dict[str, Any]:
    """The audit record of one release (``segments`` in id order, with their ``id``)."""
    key = audit_key(secret)
    return {
        "run": {"k": run["k"], "policy_hash": run["policy_hash"], "config_hash": run["config_hash"],
                "scope": json.loads(run.get("scope") or "{}"), "namespace": run.get("namespace"),
                "key_id": run.get("key_id"), "customer_ids": run.get("customer_ids"),
                "digest": run_digest(secret, run)},
        "segments": [[s["key"], s["status"], s["released_as"], int(s["released_size"]), segment_digest(key, s),
                      members_digest(members_by_key.get(s["key"], np.array([], np.int64)))] for s in segments],
        "released_customers": int(len(customer_nos)),
        "table": table_digest(customer_nos, keys, lists),
        "cells": cells_digest(cells),
    }


def record_from_store(conn: Connection, secret: bytes, run_id: int) -> dict[str, Any] | None:
    """Recompute a run's record from what the store holds now (None: the run is gone)."""
    run = conn.execute(select(Run).where(Run.id == run_id)).mappings().first()
    if run is None:
        return None
    segments = [dict(s) for s in conn.execute(select(Segment).where(Segment.run_id == run_id)
                                              .order_by(Segment.id)).mappings()]
    rows = conn.execute(select(RunCustomer.customer_no, RunCustomer.customer_key, RunCustomer.segment_ids)
                        .where(RunCustomer.run_id == run_id).order_by(RunCustomer.customer_no)).all()
    nos, keys, lists = (list(x) for x in zip(*rows)) if rows else ([], [], [])
    nos_arr = np.asarray(nos, dtype=np.int64)
    row, seg_ids = parse_int_lists(lists)
    key_of = {s["id"]: s["key"] for s in segments}
    members: dict[str, np.ndarray] = {}
    if len(seg_ids):
        order = np.lexsort((nos_arr[row], seg_ids))
        ids_sorted, nos_sorted = seg_ids[order], nos_arr[row][order]
        bounds = np.flatnonzero(np.diff(ids_sorted)) + 1
        for chunk_ids, chunk_nos in zip(np.split(ids_sorted, bounds), np.split(nos_sorted, bounds)):
            members[key_of.get(int(chunk_ids[0]), f"<unknown segment id {int(chunk_ids[0])}>")] = chunk_nos
    cells = conn.execute(select(ReleaseCells.keys, ReleaseCells.codes, ReleaseCells.cells)
                         .where(ReleaseCells.run_id == run_id)).mappings().first()
    return build_record(secret, dict(run), segments, members, nos_arr, keys, lists,
                        dict(cells) if cells else None)


def compare_records(run_id: int, recorded: dict[str, Any], now: dict[str, Any] | None) -> list[str]:
    """Differences between the recorded release and the store, in words (no personal data)."""
    if now is None:
        return [f"run {run_id} was released (audit trail) but is missing from the store: deleted"]
    out = []
    if recorded["run"] != now["run"]:
        changed = sorted(k for k in recorded["run"] if recorded["run"][k] != now["run"].get(k))
        out.append(f"run {run_id}: the run row was edited ({', '.join(changed)})")
    rec = {s[0]: s for s in recorded["segments"]}
    cur = {s[0]: s for s in now["segments"]}
    for key in sorted(rec.keys() - cur.keys()):
        out.append(f"run {run_id}: segment {key!r} was deleted")
    for key in sorted(cur.keys() - rec.keys()):
        out.append(f"run {run_id}: segment {key!r} was added after the release")
    names = ("key", "status", "released_as", "released size", "row", "membership")
    for key in sorted(rec.keys() & cur.keys()):
        diff = [names[i] for i in range(1, 6) if rec[key][i] != cur[key][i]]
        if diff:
            out.append(f"run {run_id}: segment {key!r} was edited ({', '.join(diff)})")
    if recorded["released_customers"] != now["released_customers"] or recorded["table"] != now["table"]:
        out.append(f"run {run_id}: the released customers were edited (rows, keys or memberships)")
    if recorded["cells"] != now["cells"]:
        out.append(f"run {run_id}: the release cells (history for later runs) were edited")
    return out
