"""The store on SQLite and PostgreSQL: atomic runs, bulk memberships, the audit chain, erasure."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select, text, update

from microseg.errors import InputError
from microseg.privacy.audit import append_events, head_mac, verify_chain
from microseg.privacy.erasure import forget
from microseg.privacy.pseudonym import pseudonymise
from microseg.privacy.subkeys import key_id
from microseg.store import AuditEvent, AuditHead, Run, RunCustomer, Segment, Store

KEY = b"k" * 32


def _run_row(**kw):
    row = {"as_of": "2024-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
           "plugin_versions": "{}", "timings": "{}", "n_customers": 1000, "k": 10, "report": "{}"}
    return row | kw


def _segments():
    return [{"key": "a:x", "family": "a", "method": "m", "label": "x", "description": "", "parent_key": None,
             "size": 600, "status": "released", "released_as": None, "reason": "", "released_size": 600},
            {"key": "a:y", "family": "a", "method": "m", "label": "y", "description": "", "parent_key": None,
             "size": 3, "status": "suppressed", "released_as": None, "reason": "size < k", "released_size": 0}]


def _write(store, n=1000):
    keys = pseudonymise(range(n), KEY)
    return store.write_run(_run_row(), _segments(), {"a:x": np.arange(600)}, keys, None, [("run.test", {"n": 1})], KEY)


def test_write_and_read_back(store_url):
    store = Store(store_url)
    run_id = _write(store)
    assert store.run().id == run_id
    assert [s.key for s in store.segments(run_id)] == ["a:x", "a:y"]
    m = store.memberships(run_id)
    assert len(m) == 600 and m["customer_key"].notna().all()
    assert store.count(RunCustomer) == 600, "only released customers are stored"


def test_failed_write_leaves_store_as_it_was(store_url):
    store = Store(store_url)
    _write(store)
    before = {t: store.count(t) for t in (Run, Segment, RunCustomer, AuditEvent)}
    with pytest.raises(KeyError):
        store.write_run(_run_row(), _segments(), {"a:x": np.arange(600), "missing:key": np.arange(3)},
                        pseudonymise(range(1000), KEY), None, [("run.test", {})], KEY)
    assert {t: store.count(t) for t in before} == before


def test_audit_chain_detects_edit_delete_reorder(store_url):
    store = Store(store_url)
    with store.engine.begin() as conn:
        append_events(conn, [("e", None, {"i": i}) for i in range(5)], KEY)
    with store.engine.connect() as conn:
        assert verify_chain(conn, KEY).ok
    # edit
    with store.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(payload='{"i": 99}'))
        rep = verify_chain(conn, KEY)
        assert not rep.ok and any("event 3" in p and "edited" in p for p in rep.problems)
        conn.rollback()
    # delete in the middle
    with store.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.seq == 2))
        assert not verify_chain(conn, KEY).ok
        conn.rollback()
    # delete the tail
    with store.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.seq == 5))
        rep = verify_chain(conn, KEY)
        assert not rep.ok and any("head" in p for p in rep.problems)
        conn.rollback()
    # delete the tail and rewrite the head to match (without the key: the signature gives it away)
    with store.engine.begin() as conn:
        last = conn.execute(select(AuditEvent).where(AuditEvent.seq == 4)).mappings().one()
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.seq == 5))
        conn.execute(update(AuditHead).values(seq=4, hash=last["hash"]))
        rep = verify_chain(conn, KEY)
        assert not rep.ok and any("signature" in p for p in rep.problems)
        other = b"another-key-0123456789"
        conn.execute(update(AuditHead).values(key_id=key_id(other), mac=head_mac(other, 4, last["hash"])))
        rep = verify_chain(conn, KEY)
        assert not rep.ok and any("signed by key id" in p for p in rep.problems)
        assert verify_chain(conn, other).ok                          # only the key holder can re-sign
        conn.rollback()
    # reorder: swap the payloads/hashes of two events
    with store.engine.begin() as conn:
        e2, e4 = [conn.execute(select(AuditEvent).where(AuditEvent.seq == s)).mappings().one() for s in (2, 4)]
        for a, b in ((e2, e4), (e4, e2)):
            conn.execute(update(AuditEvent).where(AuditEvent.seq == a["seq"])
                         .values(payload=b["payload"], hash=b["hash"], prev_hash=b["prev_hash"], ts=b["ts"]))
        assert not verify_chain(conn, KEY).ok
        conn.rollback()
    with store.engine.connect() as conn:
        assert verify_chain(conn, KEY).ok


def test_forget_removes_customer_and_marks_run(store_url):
    store = Store(store_url)
    run_id = _write(store)
    runs = forget(store, "7", KEY)
    assert runs == [run_id]
    assert store.run(run_id).status == "needs-rerun"
    m = store.memberships(run_id)
    assert len(m) == 599 and 7 not in set(m["customer_no"])
    seg = [s for s in store.segments(run_id) if s.key == "a:x"][0]
    assert seg.released_size == 599
    with store.engine.connect() as conn:
        payloads = [p for (p,) in conn.execute(select(AuditEvent.payload).where(AuditEvent.kind == "erasure"))]
        assert len(payloads) == 1 and pseudonymise(["7"], KEY)[0] not in payloads[0]
        assert verify_chain(conn, KEY).ok
    assert forget(store, "7.0", KEY) == []


@pytest.mark.postgres
def test_postgres_bulk_copy_roundtrip(pg_url):
    store = Store(pg_url)
    assert store.dialect == "postgresql"
    keys = pseudonymise(range(20_000), KEY)
    run_id = store.write_run(_run_row(n_customers=20_000), _segments(), {"a:x": np.arange(20_000)}, keys, None, [],
                             KEY)
    assert len(store.memberships(run_id)) == 20_000


def test_store_of_an_older_layout_is_refused_clearly(tmp_path):
    import sqlite3
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runcustomer (run_id INTEGER, customer_no INTEGER, customer_key TEXT, scores TEXT)")
    con.close()
    with pytest.raises(InputError, match="older microseg"):
        Store(f"sqlite:///{db}")
    db2 = tmp_path / "before-invariant.db"
    con = sqlite3.connect(db2)
    con.execute("CREATE TABLE runcustomer (run_id INTEGER, customer_no INTEGER, customer_key TEXT, segment_ids TEXT, "
                "scores TEXT)")
    con.execute("CREATE TABLE audithead (id INTEGER, seq INTEGER, hash TEXT)")
    con.close()
    with pytest.raises(InputError, match="before the release invariant"):
        Store(f"sqlite:///{db2}")
    con = sqlite3.connect(db2)
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master")} == {"runcustomer", "audithead"}


def test_segment_lists_are_queryable_in_sql(store_url):
    store = Store(store_url)
    run_id = _write(store)
    seg = [s for s in store.segments(run_id) if s.key == "a:x"][0]
    sql = ("SELECT count(*) FROM runcustomer, json_each(runcustomer.segment_ids) WHERE json_each.value = :s"
           if store.dialect == "sqlite" else
           "SELECT count(*) FROM runcustomer WHERE segment_ids::jsonb @> to_jsonb(CAST(:s AS int))")
    with store.engine.connect() as conn:
        assert conn.execute(text(sql), {"s": seg.id}).scalar_one() == 600


def _key_index(store):
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runcustomer' "
                                 "AND name = 'ix_runcustomer_key'")).scalar_one_or_none()


def test_key_index_built_after_the_first_load_and_kept(tmp_path, monkeypatch):
    """SQLite builds the customer-key index after loading the first run's rows (same transaction):
    it is there after the write, still there after a later run, and a write that fails after the
    drop leaves it in place (rolled back)."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    real = Store._bulk

    def failing(self, *args, **kw):
        real(self, *args, **kw)
        raise RuntimeError("disk gone")

    monkeypatch.setattr(Store, "_bulk", failing)
    with pytest.raises(RuntimeError):
        _write(store)
    assert _key_index(store) == "ix_runcustomer_key" and store.count(RunCustomer) == 0
    monkeypatch.setattr(Store, "_bulk", real)
    for n_runs in (1, 2):
        _write(store)
        assert _key_index(store) == "ix_runcustomer_key" and store.count(RunCustomer) == 600 * n_runs
    key = str(pseudonymise([5], KEY)[0])
    with store.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(
            text("EXPLAIN QUERY PLAN SELECT run_id FROM runcustomer WHERE customer_key = :k"), {"k": key}))
        hits = conn.execute(select(RunCustomer.run_id).where(RunCustomer.customer_key == key)).all()
    assert "ix_runcustomer_key" in plan and len(hits) == 2
