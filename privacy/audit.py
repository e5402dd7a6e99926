"""The tamper-evident audit trail: an append-only, hash-chained event log with a keyed head.

Each event's ``hash`` is ``sha256`` over the previous hash and the event's canonical JSON
(sequence number, time, kind, run, payload). The head row keeps the last sequence number and
hash and an HMAC of both under a key derived from the pseudonymisation secret
(:func:`microseg.privacy.subkeys.audit_key`), which is not in the store. Editing, deleting (also
at the tail, with the head rewritten) or reordering events is detected by :func:`verify_chain`;
only a holder of the key can re-sign a rewritten chain. Payloads hold counts, hashes and
decisions only — never personal data.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from microseg.privacy.subkeys import audit_key, key_id, mac
from microseg.store.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


def canonical(seq: int, ts: str, kind: str, run_id: int | None, payload: str) -> bytes:
    return json.dumps({"seq": seq, "ts": ts, "kind": kind,
                       "run_id": run_id, "payload": payload}, sort_keys=True,
                      separators=(",", ":")).encode()


def chain_hash(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def head_mac(secret: bytes, seq: int, hash_: str) -> str:
    return mac(audit_key(secret), f"{seq}|{hash_}|{key_id(secret)}")


def append_events(conn: Connection, events: list[tuple[str, int | None, dict[str, Any]]], secret: bytes) -> None:
    """Append ``(kind, run_id, payload)`` events inside the caller's transaction and re-sign the
    head with ``secret`` (the pseudonymisation key). A change of key is itself recorded."""
    head_row = conn.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.key_id).where(AuditHead.id == 1)
                            .with_for_update()).first()
    seq, prev = (head_row[0], head_row[1]) if head_row else (0, GENESIS)
    if head_row and head_row[2] != key_id(secret):
        events = [("audit.key-change", None, {"from_key_id": head_row[2], "to_key_id": key_id(secret)}), *events]
    rows = []
    for kind, run_id, payload in events:
        seq += 1
        ts = utcnow()
        text = json.dumps(payload, sort_keys=True, default=str)
        h = chain_hash(prev, canonical(seq, ts, kind, run_id, text))
        rows.append({"seq": seq, "ts": ts, "kind": kind, "run_id": run_id, "payload": text,
                     "prev_hash": prev, "hash": h})
        prev = h
    if not rows:
        return
    conn.execute(insert(AuditEvent), rows)
    values = {"seq": seq, "hash": prev, "mac": head_mac(secret, seq, prev), "key_id": key_id(secret)}
    if head_row:
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(**values))
    else:
        conn.execute(insert(AuditHead).values(id=1, **values))


@dataclass
class ChainReport:
    ok: bool
    events: int
    head_hash: str
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head_hash": self.head_hash, "problems": self.problems}


def verify_chain(conn: Connection, secret: bytes, retired: tuple[bytes, ...] = ()) -> ChainReport:
    """Recompute the chain and the head's signature; report every edited, missing or
    reordered event and a head not signed with ``secret`` (or, when no event was written since a
    key rotation, with one of the ``retired`` keys)."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for ev in conn.execute(select(AuditEvent).order_by(AuditEvent.seq)).mappings():
        count += 1
        if ev["seq"] != expected_seq:
            problems.append(f"event {ev['seq']}: expected sequence number {expected_seq} (deleted or reordered events)")
        if ev["prev_hash"] != prev:
            problems.append(f"event {ev['seq']}: does not link to the previous event")
        recomputed = chain_hash(ev["prev_hash"], canonical(ev["seq"], ev["ts"], ev["kind"], ev["run_id"], ev["payload"]))
        if recomputed != ev["hash"]:
            problems.append(f"event {ev['seq']}: content was edited (hash mismatch)")
        prev, expected_seq = ev["hash"], ev["seq"] + 1
    head = conn.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.mac, AuditHead.key_id)
                        .where(AuditHead.id == 1)).first()
    if head is None and count:
        problems.append("the chain head is missing")
    elif head is not None:
        secret = next((k for k in (secret, *retired) if key_id(k) == head[3]), secret)
        if head[0] != expected_seq - 1 or head[1] != prev:
            problems.append(f"the chain head says {head[0]} events; the last events were deleted or the head edited")
        if head[3] != key_id(secret):
            problems.append(f"the chain head is signed by key id {head[3]}, not by the key given "
                            f"(key id {key_id(secret)}): wrong key, or the head was rewritten")
        elif head[2] != head_mac(secret, head[0], head[1]):
            problems.append("the chain head's signature does not match: the head was rewritten "
                            "(e.g. after deleting the last events)")
    return ChainReport(ok=not problems, events=count, head_hash=prev, problems=problems)
