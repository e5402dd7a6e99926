"""The release scope across runs: which earlier runs count, who can be joined, erasure of history."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import write_shop_config
from microseg.cli import cli
from microseg.config import parse_config
from microseg.errors import ConfigError
from microseg.privacy.history import key_hashes
from microseg.privacy.scope import ReleaseScope
from microseg.store import Store


def test_scope_selects_earlier_runs():
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    runs = [(i, (now - timedelta(days=40 * (5 - i))).isoformat()) for i in range(1, 6)]
    assert ReleaseScope().select(runs, now) == [1, 2, 3, 4, 5]                 # default {runs = 12}
    assert ReleaseScope(runs=3).select(runs, now) == [4, 5]
    assert ReleaseScope(runs=1).select(runs, now) == [] and not ReleaseScope(runs=1).across_runs
    assert ReleaseScope(days=70).select(runs, now) == [4, 5]                  # 40 and 0 days ago
    assert ReleaseScope(all=True).select(list(reversed(runs)), now) == [1, 2, 3, 4, 5]
    base = '[sources.customers]\npath = "c.csv"\n'
    with pytest.raises(ConfigError, match="privacy.release_scope"):
        parse_config(base + "[privacy]\nrelease_scope = { runs = 3, days = 30 }\n")
    assert parse_config(base + "[privacy]\nrelease_scope = { days = 30 }\n").privacy.release_scope.days == 30


def _run(cfg, db, *extra):
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(db), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_runs_under_another_key_or_without_keys_are_not_history(tmp_path, monkeypatch):
    cfg = write_shop_config(tmp_path, k=20)
    db = tmp_path / "s.db"
    assert _run(cfg, db)["loss"]["scope"]["earlier_runs"] == []
    assert _run(cfg, db)["loss"]["scope"]["earlier_runs"] == [1]             # same key: joined
    monkeypatch.setenv("MICROSEG_KEY", "another-key-0123456789abcdef")
    cfg2 = tmp_path / "other.toml"
    cfg2.write_text(cfg.read_text())
    third = _run(cfg2, db)
    assert third["loss"]["scope"]["earlier_runs"] == []                     # pseudonyms cannot be joined
    none_cfg = tmp_path / "none.toml"
    none_cfg.write_text(cfg.read_text().replace("[release]\n", '[release]\ncustomer_ids = "none"\n'))
    fourth = _run(none_cfg, db)
    assert fourth["loss"]["scope"] == {**fourth["loss"]["scope"], "namespace": None, "earlier_runs": []}
    store = Store(f"sqlite:///{db}")
    assert store.release_cells("pseudonym:x", [4]) == [] and store.run(4).namespace is None
    export = tmp_path / "none.csv"
    r = CliRunner().invoke(cli, ["export", "4", "--out", str(export), "--db", str(db)])
    assert r.exit_code == 0 and "customer" not in pd.read_csv(export).columns


def test_original_ids_are_their_own_namespace(tmp_path):
    cfg = write_shop_config(tmp_path, k=20)
    cfg.write_text(cfg.read_text().replace("[release]\n", '[release]\ncustomer_ids = "original"\n'))
    db = tmp_path / "s.db"
    _run(cfg, db)
    second = _run(cfg, db)
    assert second["loss"]["scope"]["namespace"] == "original" and second["loss"]["scope"]["earlier_runs"] == [1]
    out = tmp_path / "e.csv"
    assert CliRunner().invoke(cli, ["export", "2", "--out", str(out), "--db", str(db)]).exit_code == 0
    ids = set(pd.read_csv(tmp_path / "customers.csv")["customer_id"])
    assert set(pd.read_csv(out)["customer"]) <= ids                        # evaluation: original ids
    audit = json.loads(CliRunner().invoke(cli, ["audit", "2", "--db", str(db), "--json", "--verify"]).stdout)
    assert audit["violations"] == [] and audit["invariant"]["across_runs"]["ok"]


def test_a_smaller_k_earlier_strands_its_small_cells(tmp_path):
    """An earlier run at k = 5 left cells of 5..19: a run at k = 20 cannot make them safe, keeps
    them out, counts them, and the audit says the combination has small cells."""
    cfg = write_shop_config(tmp_path, k=5)
    cfg.write_text(cfg.read_text().replace("[release]\n", '[release]\nattributes = ["age", "city"]\n'))
    db = tmp_path / "s.db"
    first = _run(cfg, db)
    assert first["loss"]["per_column"]["age"]["withheld_share"] < 1
    cfg.write_text(cfg.read_text().replace("min_segment_size = 5", "min_segment_size = 20"))
    report = _run(cfg, db)
    assert report["loss"]["stranded_customers"] != 0
    audit = CliRunner().invoke(cli, ["audit", "2", "--db", str(db), "--json"])
    doc = json.loads(audit.stdout)
    assert doc["invariant"]["within_run"]["ok"]
    assert audit.exit_code == 1 and any("together with earlier runs 1" in v for v in doc["violations"])


def test_forget_removes_the_customer_from_the_release_history(tmp_path):
    cfg = write_shop_config(tmp_path, k=20)
    db = tmp_path / "s.db"
    _run(cfg, db)
    store = Store(f"sqlite:///{db}")
    customers, _, _ = store.released_customers(1)
    victim_key = customers["customer_key"].iloc[0]
    victim_id = pd.read_csv(tmp_path / "customers.csv")["customer_id"].iloc[int(customers["customer_no"].iloc[0])]
    before = np.frombuffer(store.release_cells(store.run(1).namespace, [1])[0]["keys"], dtype=">u8")
    assert key_hashes(np.array([victim_key]))[0] in before
    r = CliRunner().invoke(cli, ["forget", victim_id, "--db", str(db), "--config", str(cfg)])
    assert r.exit_code == 0
    after = np.frombuffer(store.release_cells(store.run(1).namespace, [1])[0]["keys"], dtype=">u8")
    assert len(after) == len(before) - 1 and key_hashes(np.array([victim_key]))[0] not in after
    doc = json.loads(CliRunner().invoke(cli, ["audit", "1", "--db", str(db), "--json", "--verify"]).stdout)
    assert not any("audit trail" in v for v in doc["violations"])           # the erasure is recorded


def test_an_attribute_dropped_by_its_action_cannot_be_released(tmp_path):
    cfg = write_shop_config(tmp_path, k=20)
    cfg.write_text(cfg.read_text().replace("[release]\n", '[release]\nattributes = ["email"]\n'))
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "release.attributes" in result.output and "'email'" in result.output
    assert "@" not in result.output


def test_methods_the_quality_gate_withholds_release_no_column():
    """A withheld model's family is not released; microsegments stop before it."""
    from microseg.privacy.release import release_spec
    cfg = parse_config('[sources.customers]\npath = "c.csv"\n'
                       '[[methods]]\nid = "a"\nmethod = "rules"\n[[methods]]\nid = "b"\nmethod = "rules"\n'
                       '[[methods]]\nid = "c"\nmethod = "rules"\n[microsegments]\ndimensions = ["a", "b", "c"]\n')
    spec = release_spec(cfg, None, None, set(), withheld={"b"})
    assert spec.families == ["a", "c", "micro"] and spec.micro_dims == ["a"]
    spec = release_spec(cfg, None, None, set(), withheld={"a"})
    assert spec.families == ["b", "c"] and spec.micro_dims == []
    assert release_spec(cfg, None, None, set()).micro_dims == ["a", "b", "c"]
