"""Earlier releases in scope: who an attacker holding all exports can join, and in which cells.

Each run stores, per released customer, a 64-bit hash of the stored customer key and the code of
the cell they were released in (:class:`microseg.store.ReleaseCells`; arrays as bytes: reading
and joining a run of a million customers takes about a second, ``bench/gate.py``). A new run joins its customers
to those rows by the same hash — pseudonyms under the same key id, or original ids — and groups
them by their sequence of earlier cells (absent from a run is a value): the *strata* the gate
must not split into groups of 1..k−1 (:class:`microseg.privacy.gate.Strata`).

Runs with ``release.customer_ids = "none"`` have no key: their rows cannot be joined to any
other run, so they have no history and are no one's history.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from microseg.privacy.cells import cell_ids
from microseg.privacy.columns import Column
from microseg.privacy.gate import GateOutcome, Strata
from microseg.privacy.scope import ReleaseScope
from microseg.privacy.subkeys import key_id


def release_namespace(mode: str, secret: bytes) -> str | None:
    """Who can join this run's exported rows with another run's: pseudonyms under the same key
    (``pseudonym:<key id>``), original ids (``original``), or nobody (``customer_ids = "none"``)."""
    return None if mode == "none" else "original" if mode == "original" else f"pseudonym:{key_id(secret)}"


@dataclass
class EarlierRelease:
    """One earlier run's released cells: sorted key hashes, cell code per key, and the family
    values of each cell (``values[code][j]`` for ``columns[j]``)."""

    run_id: int
    keys: np.ndarray
    codes: np.ndarray
    columns: list[str]
    values: list[list[str]]


def earlier_releases(store: Any, namespace: str | None, scope: ReleaseScope) -> list[EarlierRelease]:
    """The stored release cells of the earlier runs in ``scope`` under ``namespace`` (oldest first)."""
    if namespace is None or not scope.across_runs:
        return []
    out = []
    for row in store.release_cells(namespace, scope.select(store.runs_in_namespace(namespace))):
        cells = json.loads(row["cells"])
        out.append(EarlierRelease(run_id=row["run_id"], keys=np.frombuffer(row["keys"], dtype=">u8").astype(np.uint64),
                                  codes=np.frombuffer(row["codes"], dtype="<i4").astype(np.int64),
                                  columns=cells["columns"], values=cells["values"]))
    return out


def key_hashes(keys: np.ndarray) -> np.ndarray:
    """64-bit hashes of stored customer keys: a key of 16+ hex digits (a pseudonym) by its
    leading 16 digits, any other key text by BLAKE2b — decided per key, so a key hashes the same
    whatever it is listed with."""
    texts = keys.tolist() if _all_text(keys) else [str(k) for k in keys]
    lengths = set(map(len, texts))
    try:
        if min(lengths, default=16) >= 16:
            return np.frombuffer(bytes.fromhex(_heads(texts, lengths)), dtype=">u8").astype(np.uint64)
    except ValueError:
        pass
    return np.fromiter((_key_hash(t) for t in texts), dtype=np.uint64, count=len(texts))


def _all_text(keys: np.ndarray) -> bool:
    """An object array of ``str`` only (pseudonyms): its items are their own text."""
    return isinstance(keys, np.ndarray) and keys.dtype == object and set(map(type, keys.tolist())) <= {str}


def _heads(texts: list[str], lengths: set[int]) -> str:
    """The leading 16 characters of each text, joined (texts of 16+ characters, their ``lengths``);
    ASCII texts of one length (pseudonyms) are cut in one array step instead of one slice per text."""
    if len(lengths) == 1:
        joined = "".join(texts)
        if joined.isascii():
            width = next(iter(lengths))
            grid = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(texts), width)
            return grid[:, :16].tobytes().decode("ascii")
    return "".join(t[:16] for t in texts)


def _key_hash(text: str) -> int:
    head = text[:16]
    if len(head) == 16 and all(c in "0123456789abcdefABCDEF" for c in head):
        return int(head, 16)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _lookup(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each wanted key in ``sorted_keys``, or -1."""
    if not len(sorted_keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.searchsorted(sorted_keys, wanted)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == wanted, pos, -1)


def build_strata(earlier: list[EarlierRelease], current: np.ndarray, columns: list[Column],
                 hold: bool = True) -> Strata:
    """Strata of this run's releasable customers (key hashes ``current``) over ``earlier``
    releases (oldest first)."""
    if not earlier:
        return Strata.none(len(current))
    earlier = [e for e in earlier if len(e.keys)]
    if not earlier:
        return Strata.none(len(current))
    union = np.unique(np.concatenate([e.keys for e in earlier]))
    history = [np.where((at := _lookup(e.keys, union)) >= 0, e.codes[np.maximum(at, 0)], -1) for e in earlier]
    stratum, _ = cell_ids(history)
    stratum = stratum + 1                               # 0: in no earlier release in scope
    n_strata = int(stratum.max()) + 1
    at = _lookup(union, current)
    code = np.where(at >= 0, stratum[np.maximum(at, 0)], 0)
    still_here = np.zeros(len(union), dtype=bool)
    still_here[at[at >= 0]] = True
    absent = np.bincount(stratum[~still_here], minlength=n_strata)
    visible = np.ones(n_strata, dtype=bool)
    visible[0] = False
    strata = Strata(code=code, absent=absent, visible=visible)
    if hold:
        strata.hold = _hold_values(earlier, history, stratum, n_strata, columns)
    return strata


def _hold_values(earlier: list[EarlierRelease], history: list[np.ndarray], stratum: np.ndarray, n_strata: int,
                 columns: list[Column]) -> dict[str, np.ndarray]:
    """Per holdable column: each stratum's value (as a code of this run's column) in the latest
    earlier release it was part of; -1 where there is none or the value does not exist now."""
    first = np.full(n_strata, -1, dtype=np.int64)
    first[stratum[::-1]] = np.arange(len(stratum))[::-1]
    has = first >= 0
    rows = first[has]
    latest = np.full(len(rows), -1)
    for r, h in enumerate(history):
        latest = np.where(h[rows] >= 0, r, latest)
    out: dict[str, np.ndarray] = {}
    for col in columns:
        if not col.holdable:
            continue
        codes = np.full(n_strata, -1, dtype=np.int64)
        lookup = {text: i for i, text in enumerate(col.values) if i}
        for r, e in enumerate(earlier):
            if col.name not in e.columns:
                continue
            j = e.columns.index(col.name)
            mine = np.flatnonzero(latest == r)
            cell = history[r][rows[mine]]
            codes[np.flatnonzero(has)[mine]] = [lookup.get(e.values[c][j], -1) for c in cell.tolist()]
        out[col.name] = codes
    return out


def cell_table(outcome: GateOutcome) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """This run's cells for the history: per released customer a cell code (over value *texts*,
    as exported), the family column names and each cell's family values."""
    rel = outcome.released
    released = outcome.codes[:, rel]
    # each value code as the number of its text (codes with the same text: the same number), so the
    # cells are those of the texts without a text per customer
    text_no = [pd.factorize(np.asarray(c.values, dtype=object), use_na_sentinel=False)[0] for c in outcome.columns]
    same_text = [no[released[j]] for j, no in enumerate(text_no)]
    codes, _ = cell_ids(same_text) if same_text else (np.zeros(int(rel.sum()), dtype=np.int64), None)
    families = [j for j, c in enumerate(outcome.columns) if c.holdable]
    first = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    values = [[str(outcome.columns[j].values[released[j, i]]) for j in families] for i in first.tolist()]
    return codes.astype(np.int32), [outcome.columns[j].name for j in families], values
