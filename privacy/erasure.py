"""Erasure that lasts: ``microseg forget ID``, the erasure list every later run applies, and the
audit's erasure checks.

``forget`` removes the customer from every stored run — matched by their pseudonym under the
current **and every retired key** (:mod:`microseg.privacy.keyring`), so runs written before a key
rotation are reached — and appends an ``erasure`` event to the audit trail. That event is the
erasure list's entry: for each available key, a keyed reference to the customer
(:func:`erasure_ref` of their pseudonym under that key: a hash of a keyed hash, never the id).
Every later run reads the list from its store and removes the customers it names before
anything else sees the data, on every engine; it records its key id and how many entries it
applied (``run.erasure``), and ``microseg audit`` reports a run that may still hold an erased
customer as a violation.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from microseg.errors import ConfigError
from microseg.privacy.keyring import Keyring
from microseg.privacy.pseudonym import pseudonymise, pseudonymise_one
from microseg.store import AuditEvent, Store


def id_forms(raw_id: str) -> list[str]:
    """The id as loaded: ``17850.0`` and ``17850`` are the same customer."""
    text = raw_id.strip()
    forms = [text]
    try:
        num = float(text)
        if num.is_integer():
            forms.append(str(int(num)))
    except ValueError:
        pass
    return list(dict.fromkeys(forms))


def erasure_ref(pseudonym: str) -> str:
    """The erasure list's reference to a customer: a hash of their keyed pseudonym."""
    return hashlib.sha256(b"microseg erasure\0" + pseudonym.encode()).hexdigest()[:32]


@dataclass
class Entry:
    seq: int
    refs: dict[str, set[str]]          # key id → references under that key
    key_ids: list[str]


def forget(store: Store, raw_id: str, keyring: Keyring | bytes) -> list[int]:
    """Erase one customer from every stored run and add them to the erasure list; returns the
    runs they were removed from (now ``needs-rerun``). A bare key is a keyring without retired keys."""
    if isinstance(keyring, bytes):
        keyring = Keyring(current=keyring)
    forms = id_forms(raw_id)
    keys = keyring.by_id()
    pseudonyms = {kid: [pseudonymise_one(f, key) for f in forms] for kid, key in keys.items()}
    refs = {kid: sorted({erasure_ref(p) for p in ps}) for kid, ps in pseudonyms.items()}
    current = pseudonyms[keyring.current_id]
    subject_ref = hashlib.sha256(current[-1].encode()).hexdigest()[:16]
    every = [p for ps in pseudonyms.values() for p in ps]
    return store.forget_keys(every + forms, [("erasure", {"subject_ref": subject_ref, "key_ids": list(keys),
                                                          "refs": refs})], keyring.current)


def unreachable_runs(store: Store, keyring: Keyring) -> list[int]:
    """Runs ``forget`` cannot search: written under a key that is neither the current nor a
    retired one, or storing no customer keys (``release.customer_ids = "none"``)."""
    keys = keyring.by_id()
    out = [r for r, kid in run_key_ids(store).items() if kid is not None and kid not in keys]
    out += [r.id for r in store.runs() if r.customer_ids == "none"]
    return sorted(set(out))


def _events(store: Store, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.seq, AuditEvent.kind, AuditEvent.run_id, AuditEvent.payload)
                            .where(AuditEvent.kind.in_(kinds)).order_by(AuditEvent.seq)).mappings().all()
    return [dict(r) for r in rows]


def erasure_list(store: Store) -> list[Entry]:
    """Every erasure recorded in the store's audit trail, oldest first."""
    out = []
    for e in _events(store, ("erasure",)):
        payload = json.loads(e["payload"])
        out.append(Entry(seq=int(e["seq"]), refs={k: set(v) for k, v in payload.get("refs", {}).items()},
                         key_ids=list(payload.get("key_ids", []))))
    return out


def run_key_ids(store: Store) -> dict[int, str | None]:
    """Run id → the key id it was written under (None: written before key ids were recorded)."""
    found = {int(e["run_id"]): json.loads(e["payload"]).get("key_id") for e in _events(store, ("run.erasure",))}
    return {r.id: found.get(r.id) for r in store.runs()}


def erased_ids(ids: pd.Index, entries: list[Entry], keyring: Keyring) -> pd.Index:
    """The customers of ``ids`` that the erasure list names. Each entry is checked under one key
    the keyring holds (the current one when the entry has it); an entry made only under keys the
    keyring lacks is an error: the run could otherwise bring that customer back."""
    if not entries:
        return ids[:0]
    keys = keyring.by_id()
    wanted: dict[str, set[str]] = {}
    for e in entries:
        usable = [kid for kid in keys if kid in e.refs]
        if not usable:
            raise ConfigError(f"the erasure list entry of audit event {e.seq} was recorded under key ids "
                              f"{', '.join(e.key_ids) or '?'}, none of which is the current or a retired key: put "
                              "the retired key back in the retired keys file (see `microseg keygen --rotate`)",
                              key="privacy.retired_keys_file")
        wanted.setdefault(usable[0], set()).update(e.refs[usable[0]])
    hit = np.zeros(len(ids), dtype=bool)
    for kid, refs in wanted.items():
        pseudonyms = pseudonymise(ids.to_numpy(), keys[kid])
        hit |= np.fromiter((erasure_ref(p) in refs for p in pseudonyms), dtype=bool, count=len(ids))
    return ids[hit]


def run_record(entries: list[Entry], keyring: Keyring) -> dict[str, Any]:
    """What a run records of the erasure step (``run.erasure``): its key id and the list it applied."""
    return {"key_id": keyring.current_id, "applied": len(entries),
            "last_erasure_seq": max((e.seq for e in entries), default=0)}


def erasure_violations(store: Store, run: Any, events: list[dict[str, Any]]) -> list[str]:
    """Why ``run`` may still hold an erased customer (``microseg audit``); ``events`` is the whole
    audit trail, oldest first."""
    mine = [e for e in events if e["run_id"] == run.id]
    first = min((e["seq"] for e in mine), default=0)
    record = next((json.loads(e["payload"]) for e in mine if e["kind"] == "run.erasure"), None)
    erasures = [e for e in events if e["kind"] == "erasure"]
    before = [e for e in erasures if e["seq"] < first]
    out = []
    applied = record.get("applied", 0) if record else 0
    if len(before) > applied:
        out.append(f"run was written without applying {len(before) - applied} erasure(s) recorded before it: it may "
                   "hold an erased customer; re-run it")
    run_key = record.get("key_id") if record else None
    for e in erasures:
        if e["seq"] < first:
            continue
        payload = json.loads(e["payload"])
        if run.customer_ids == "none":
            out.append(f"erasure (audit event {e['seq']}) could not be applied: the run stores no customer keys; "
                       "re-run it")
        elif run_key is not None and run_key not in payload.get("key_ids", [run_key]):
            out.append(f"erasure (audit event {e['seq']}) could not reach this run: it was written under key id "
                       f"{run_key}, which was neither the current nor a retired key then; re-run it")
    if run_key is not None and run.customer_ids == "pseudonym":
        refs = set().union(*(set(json.loads(e["payload"]).get("refs", {}).get(run_key, [])) for e in erasures)) \
            if erasures else set()
        if refs and _holds(store, run.id, refs):
            out.append("run holds a customer on the erasure list; run `microseg forget` again or re-run it")
    return out


def _holds(store: Store, run_id: int, refs: set[str]) -> bool:
    customers, _, _ = store.released_customers(run_id)
    return any(erasure_ref(str(p)) in refs for p in customers["customer_key"].dropna())
