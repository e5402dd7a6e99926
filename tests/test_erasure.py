"""Erasure that lasts, through the CLI: forget → re-run → absent; key rotation → forget reaches
runs written under the retired key; audit flags a run that may hold an erased customer.

The oracle reads only microseg's outputs (exports, ``run --json``, ``audit --json``, the store)
and computes pseudonyms with the standard library's HMAC from the key files the test can read.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import write_shop_config
from microseg.cli import cli

ERASED = "K00007"


@pytest.fixture(autouse=True)
def _key_from_file(monkeypatch):
    monkeypatch.delenv("MICROSEG_KEY", raising=False)    # the key comes from the key file here


def _cli(*args: str, ok: tuple[int, ...] = (0,)):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in ok, result.output
    return result


def _setup(folder: Path) -> tuple[Path, Path]:
    cfg = write_shop_config(folder, k=20, n=400)
    cfg.write_text(cfg.read_text().replace("[privacy]\n", '[privacy]\nkey_file = ".microseg/key"\n'))
    key = folder / ".microseg" / "key"
    _cli("keygen", str(key))
    return cfg, key


def _pseudonym(key_file: Path, customer_id: str) -> str:
    key = key_file.read_bytes().strip()
    return hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:24]


def _exported(folder: Path, db: Path, run_id: int) -> set[str]:
    out = folder / f"export-{run_id}.csv"
    _cli("export", str(run_id), "--out", str(out), "--db", str(db), "--config", str(folder / "microseg.toml"))
    return set(pd.read_csv(out)["customer"])


def _run(cfg: Path, db: Path) -> dict:
    return json.loads(_cli("run", str(cfg), "--db", str(db), "--json").stdout)


def test_forget_then_rerun_leaves_the_customer_out(tmp_path):
    cfg, key = _setup(tmp_path)
    db = tmp_path / "s.db"
    first = _run(cfg, db)
    assert _pseudonym(key, ERASED) in _exported(tmp_path, db, 1)
    out = _cli("forget", ERASED, "--db", str(db), "--config", str(cfg)).output
    assert "runs 1" in out and ERASED not in out
    assert _pseudonym(key, ERASED) not in _exported(tmp_path, db, 1)
    second = _run(cfg, db)                         # same config, unchanged input
    assert _pseudonym(key, ERASED) not in _exported(tmp_path, db, 2)
    assert int(second["customers"]) == int(first["customers"]) - 1
    audit = json.loads(_cli("audit", "2", "--db", str(db), "--json").stdout)
    assert audit["violations"] == [] and audit["key_id"]


def test_forget_reaches_runs_written_under_a_retired_key(tmp_path):
    cfg, key = _setup(tmp_path)
    db = tmp_path / "s.db"
    _run(cfg, db)
    old = _pseudonym(key, ERASED)
    out = _cli("keygen", "--rotate", str(key)).output
    assert (tmp_path / ".microseg" / "key.retired").is_file() and "retired" in out
    new = _pseudonym(key, ERASED)
    assert new != old
    _run(cfg, db)
    assert old in _exported(tmp_path, db, 1) and new in _exported(tmp_path, db, 2)
    out = _cli("forget", ERASED, "--db", str(db), "--config", str(cfg)).output
    assert "runs 1, 2" in out
    assert old not in _exported(tmp_path, db, 1) and new not in _exported(tmp_path, db, 2)
    _run(cfg, db)
    assert new not in _exported(tmp_path, db, 3)
    audits = [json.loads(_cli("audit", str(r), "--db", str(db), "--json").stdout) for r in (1, 2, 3)]
    assert len({a["key_id"] for a in audits}) == 2 and audits[0]["key_id"] != audits[2]["key_id"]
    assert all(a["violations"] == [] for a in audits)


def test_audit_flags_a_run_that_may_hold_an_erased_customer(tmp_path):
    cfg, key = _setup(tmp_path)
    db = tmp_path / "s.db"
    _run(cfg, db)
    # a customer put back into run 1 (e.g. a restored backup of its table) after their erasure
    _cli("forget", ERASED, "--db", str(db), "--config", str(cfg))
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO runcustomer (run_id, customer_no, customer_key, segment_ids) VALUES (1, 99999, ?, '[]')",
                    (_pseudonym(key, ERASED),))
    result = _cli("audit", "1", "--db", str(db), "--json", ok=(1,))
    assert any("erasure list" in v for v in json.loads(result.stdout)["violations"])
    assert ERASED not in result.output and _pseudonym(key, ERASED) not in result.output


def test_audit_flags_a_run_that_an_erasure_could_not_reach(tmp_path):
    """The retired key was lost: forget cannot find run 1, says so, and audit reports run 1."""
    cfg, key = _setup(tmp_path)
    db = tmp_path / "s.db"
    _run(cfg, db)
    _cli("keygen", "--rotate", str(key))
    (tmp_path / ".microseg" / "key.retired").unlink()
    result = _cli("forget", ERASED, "--db", str(db), "--config", str(cfg))
    assert "could not be searched" in result.output
    audit = json.loads(_cli("audit", "1", "--db", str(db), "--json", ok=(1,)).stdout)
    assert any("could not reach this run" in v for v in audit["violations"])


def test_a_run_refuses_an_erasure_list_it_cannot_apply(tmp_path):
    """An entry recorded only under a key the keyring no longer holds stops the run (exit 2):
    running anyway could bring the erased customer back."""
    cfg, key = _setup(tmp_path)
    db = tmp_path / "s.db"
    _run(cfg, db)
    _cli("forget", ERASED, "--db", str(db), "--config", str(cfg))
    _cli("keygen", "--rotate", str(key))
    (tmp_path / ".microseg" / "key.retired").unlink()
    result = _cli("run", str(cfg), "--db", str(db), ok=(2,))
    assert "retired" in result.output and "Traceback" not in result.output
    assert len(sqlite3.connect(db).execute("SELECT id FROM run").fetchall()) == 1


@pytest.mark.dask
def test_the_dask_engine_applies_the_erasure_list(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'microseg[dask]')")
    cfg, key = _setup(tmp_path)
    db = tmp_path / "s.db"
    _run(cfg, db)
    _cli("forget", ERASED, "--db", str(db), "--config", str(cfg))
    second = json.loads(_cli("run", str(cfg), "--db", str(db), "--json", "--engine", "dask").stdout)
    assert _pseudonym(key, ERASED) not in _exported(tmp_path, db, 2)
    assert int(second["customers"]) == 399
