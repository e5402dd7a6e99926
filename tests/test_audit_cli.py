"""``microseg audit`` and ``microseg forget`` from the CLI: the trail covers every release."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from helpers import write_shop_config
from microseg.cli import cli


@pytest.fixture
def stored_run(tmp_path):
    cfg = write_shop_config(tmp_path, k=20)
    db = tmp_path / "s.db"
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return cfg, db


def _audit(db, *extra):
    return CliRunner().invoke(cli, ["audit", "--db", str(db), "--json", *extra])


def _sql(db, statement):
    with sa.create_engine(f"sqlite:///{db}").begin() as conn:
        return conn.execute(sa.text(statement)).all() if statement.lstrip().upper().startswith("SELECT") else \
            conn.execute(sa.text(statement))


def _violations(db):
    result = _audit(db, "--verify")
    doc = json.loads(result.stdout)
    return result.exit_code, doc["violations"]


def test_audit_clean_run(stored_run):
    _, db = stored_run
    result = _audit(db, "--verify")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["violations"] == [] and doc["chain"]["ok"]
    assert doc["run"]["policy_hash"] and doc["inputs"]["customers"] and doc["plugins"]
    assert {s["status"] for s in doc["segments"]} <= {"released", "withheld", "merged", "not-released"}
    assert all(s["size"] >= 20 for s in doc["segments"] if s["status"] == "released")
    assert all("size" not in s and s["reason"] for s in doc["segments"] if s["status"] != "released")
    assert doc["invariant"]["within_run"]["ok"] and doc["invariant"]["within_run"]["smallest_cell"] >= 20


def test_verify_needs_the_key_and_says_so(stored_run, monkeypatch):
    _, db = stored_run
    monkeypatch.delenv("MICROSEG_KEY")
    result = _audit(db, "--verify")
    assert result.exit_code == 2 and "audit --verify needs the pseudonymisation key" in result.output
    assert "Traceback" not in result.output
    assert _audit(db).exit_code == 0                      # the invariant check itself needs no key
    out = CliRunner().invoke(cli, ["export", "1", "--out", str(db.parent / "e.csv"), "--db", str(db)])
    assert out.exit_code == 2 and "export" in out.output and not (db.parent / "e.csv").exists()


def test_audit_verify_detects_an_edited_event(stored_run):
    _, db = stored_run
    _sql(db, "UPDATE auditevent SET payload = '{}' WHERE seq = 2")
    code, violations = _violations(db)
    assert code == 1 and any("edited" in v for v in violations)


@pytest.mark.parametrize("edit, named", [
    ("UPDATE segment SET released_size = released_size + 1 WHERE id = "
     "(SELECT min(id) FROM segment WHERE status = 'released')", "released size"),
    ("UPDATE segment SET size = size - 1 WHERE id = (SELECT max(id) FROM segment WHERE method != 'withheld' "
     "AND status != 'released')", "row"),
    ("UPDATE segment SET status = 'released' WHERE id = (SELECT min(id) FROM segment WHERE status != 'released')",
     "status"),
    ("UPDATE run SET k = 5", "k"),
    ("UPDATE run SET status = 'complete', policy_hash = 'x'", "policy_hash"),
    ("UPDATE runcustomer SET segment_ids = '[1]' WHERE customer_no = (SELECT min(customer_no) FROM runcustomer)",
     "released customers"),
    ("DELETE FROM runcustomer WHERE customer_no = (SELECT min(customer_no) FROM runcustomer)", "released customers"),
])
def test_audit_verify_names_every_edit_of_a_release(stored_run, edit, named):
    _, db = stored_run
    assert _violations(db) == (0, [])
    _sql(db, edit)
    code, violations = _violations(db)
    assert code == 1 and any(named in v for v in violations), violations


def test_a_deleted_run_and_a_truncated_signed_tail_are_detected(stored_run):
    cfg, db = stored_run
    assert CliRunner().invoke(cli, ["run", str(cfg), "--db", str(db)]).exit_code == 0
    for table in ("runcustomer", "releasecells", "segment"):
        _sql(db, f"DELETE FROM {table} WHERE run_id = 1")
    _sql(db, "DELETE FROM run WHERE id = 1")
    code, violations = _violations(db)
    assert code == 1 and any("run 1 was released" in v and "deleted" in v for v in violations)
    # truncate the trail after run 1 and copy the last kept hash into the head (no key: unsigned)
    (seq, h), = _sql(db, "SELECT seq, hash FROM auditevent WHERE kind = 'run.release' ORDER BY seq LIMIT 1")
    _sql(db, f"DELETE FROM auditevent WHERE seq > {seq}")
    _sql(db, f"UPDATE audithead SET seq = {seq}, hash = '{h}'")
    code, violations = _violations(db)
    assert code == 1 and any("signature" in v for v in violations)
    assert any("run 2 is in the store but its release is not in the audit trail" in v for v in violations)


def test_erasure_below_k_is_a_violation_and_the_trail_follows_it(stored_run):
    cfg, db = stored_run
    (seg_id, size), = _sql(db, "SELECT id, released_size FROM segment WHERE status = 'released' AND method != "
                               "'withheld' ORDER BY released_size LIMIT 1")
    nos = [n for (n,) in _sql(db, "SELECT customer_no FROM runcustomer, json_each(runcustomer.segment_ids) "
                                  f"WHERE json_each.value = {seg_id} ORDER BY customer_no")]
    customers = pd.read_csv(cfg.parent / "customers.csv")
    victims = customers["customer_id"].iloc[nos[: size - 19]].tolist()   # leaves 19 < k = 20
    for cid in victims:
        r = CliRunner().invoke(cli, ["forget", cid, "--db", str(db), "--config", str(cfg)])
        assert r.exit_code == 0 and "needs-rerun" in r.output
        assert cid not in r.output
    result = _audit(db, "--verify")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["needs_rerun"] and doc["erasures_since"] == len(victims)
    assert doc["chain"]["ok"] and not any("audit trail" in v for v in doc["violations"])   # erasures are recorded
    assert any("fewer than 20" in v for v in doc["violations"])
