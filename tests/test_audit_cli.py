"""``microseg audit`` and ``microseg forget`` from the CLI."""
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


def test_audit_clean_run(stored_run):
    _, db = stored_run
    result = _audit(db, "--verify")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["violations"] == [] and doc["chain"]["ok"]
    assert doc["run"]["policy_hash"] and doc["inputs"]["customers"] and doc["plugins"]
    assert {s["status"] for s in doc["segments"]} <= {"released", "suppressed", "merged"}
    assert all(isinstance(s["size"], int) and s["size"] >= 20 or s["size"] == "< 20" or s["status"] != "released"
               for s in doc["segments"])


def test_audit_verify_detects_tampering_exit_1(stored_run):
    _, db = stored_run
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE auditevent SET payload = '{}' WHERE seq = 2"))
    result = _audit(db, "--verify")
    assert result.exit_code == 1
    assert any("edited" in v for v in json.loads(result.output)["violations"])


def test_erasure_below_k_is_a_violation(stored_run, monkeypatch):
    cfg, db = stored_run
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        seg_id, size = conn.execute(sa.text(
            "SELECT id, released_size FROM segment WHERE status = 'released' ORDER BY released_size LIMIT 1")).one()
        nos = [n for (n,) in conn.execute(sa.text(      # the segment lists are JSON: plain SQL reads them
            "SELECT customer_no FROM runcustomer, json_each(runcustomer.segment_ids) "
            f"WHERE json_each.value = {seg_id} ORDER BY customer_no"))]
    customers = pd.read_csv(cfg.parent / "customers.csv")
    victims = customers["customer_id"].iloc[nos[: size - 19]].tolist()   # leaves 19 < k = 20
    for cid in victims:
        r = CliRunner().invoke(cli, ["forget", cid, "--db", str(db), "--config", str(cfg)])
        assert r.exit_code == 0 and "needs-rerun" in r.output
        assert cid not in r.output
    result = _audit(db, "--verify")
    doc = json.loads(result.output)
    assert result.exit_code == 1 and doc["needs_rerun"] and doc["erasures_since"] == len(victims)
    assert any("< 20" in v for v in doc["violations"]) and doc["chain"]["ok"]
