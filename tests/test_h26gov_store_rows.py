"""Store writing shortcuts (brief h26gov): the same rows and texts as the plain forms."""
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
