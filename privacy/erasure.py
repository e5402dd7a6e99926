"""Erasure (``microseg forget ID``): remove a customer from every stored run.

The audit trail records that an erasure happened and which runs it touched, with a one-way
reference derived from the keyed pseudonym — never the raw id.
"""
from __future__ import annotations

import hashlib

from microseg.privacy.pseudonym import pseudonymise_one
from microseg.store import Store


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


def forget(store: Store, raw_id: str, key: bytes) -> list[int]:
    """Erase one customer; returns the ids of the runs that held them (now ``needs-rerun``)."""
    forms = id_forms(raw_id)
    pseudonyms = [pseudonymise_one(f, key) for f in forms]
    subject_ref = hashlib.sha256(pseudonyms[-1].encode()).hexdigest()[:16]
    return store.forget_keys(pseudonyms + forms, [("erasure", {"subject_ref": subject_ref})], key)
