"""Store writing shortcuts: the same rows and texts as the plain forms."""
from __future__ import annotations

import json

import numpy as np
from sqlalchemy import select

from microseg.store import open_store
from microseg.store.int_lists import group_int_lists
from microseg.store.models import Segment
from microseg.store.store import _dicts


def test_memberships_in_segment_runs_group_like_json(tmp_path):
    """A run's memberships as the store gets them — segment by segment, customers ascending in
    each — give every customer its segment ids ascending (the stable sort of run-ordered keys)."""
    rng = np.random.default_rng(3)
    members = {seg: np.sort(rng.choice(5_000, size=int(rng.integers(1, 2_000)), replace=False))
               for seg in range(1, 120)}
    seg_col = np.concatenate([np.full(len(m), s) for s, m in members.items()])
    cust_col = np.concatenate(list(members.values()))
    owners, texts = group_int_lists(cust_col, seg_col)
    expected = {}
    for s, m in members.items():
        for c in m.tolist():
            expected.setdefault(c, []).append(s)
    assert owners.tolist() == sorted(expected)
    assert [json.loads(t) for t in texts] == [expected[c] for c in sorted(expected)]


def test_dicts_are_the_rows_as_mappings(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    segments = [{"key": f"m:{i}", "family": "m", "method": "rules", "label": str(i), "description": "d",
                 "parent_key": None if i % 2 else "m:0", "size": 60 + i, "status": "released",
                 "released_as": None, "reason": "", "released_size": 50 + i} for i in range(5)]
    run = {"as_of": "2026-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
           "plugin_versions": "{}", "timings": "{}", "n_customers": 10, "k": 2, "report": "{}"}
    store.write_run(run, segments, {}, None, None, [], b"0123456789abcdef0123456789abcdef")
    query = select(Segment).order_by(Segment.id)
    with store.engine.connect() as conn:
        plain = [dict(r) for r in conn.execute(query).mappings()]
        fast = _dicts(conn.execute(query))
    assert fast == plain and [list(d) for d in fast] == [list(d) for d in plain]
    assert [d["label"] for d in fast] == [str(i) for i in range(5)]


def _dump(path) -> list[tuple]:
    import sqlite3
    con = sqlite3.connect(path)
    try:
        return [(t, con.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall())
                for t in ("segment", "runcustomer")]
    finally:
        con.close()


def test_rows_per_insert_statement_store_the_same_rows_in_order(tmp_path, monkeypatch):
    """Several rows per INSERT (chunks that do not divide the rows evenly) store what one row
    per statement stores: the same rows, row ids and order."""
    import microseg.store.store as store_module
    rng = np.random.default_rng(5)
    segments = [{"key": f"m:{i}", "family": "m", "method": "rules", "label": str(i), "description": "d",
                 "parent_key": None, "size": 60, "status": "released", "released_as": None, "reason": "",
                 "released_size": 50} for i in range(23)]
    members = {s["key"]: np.sort(rng.choice(200, size=int(rng.integers(1, 120)), replace=False)) for s in segments}
    keys = np.array([f"k{i:04d}" for i in range(200)], dtype=object)
    run = {"as_of": "2026-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
           "plugin_versions": "{}", "timings": "{}", "n_customers": 200, "k": 2, "report": "{}"}
    dumps = []
    for per in (1, 7):
        monkeypatch.setattr(store_module, "ROWS_PER_INSERT", per)
        path = tmp_path / f"per{per}.db"
        open_store(str(path)).write_run(run, segments, members, keys, None, [], b"0123456789abcdef0123456789abcdef")
        dumps.append(_dump(path))
    assert dumps[0] == dumps[1]
    assert len(dumps[1][0][1]) == 23 and len(dumps[1][1][1]) == len(set().union(*map(set, members.values())))
