"""`microseg init`: the starter (with sample data) and `--from FILE` write configs that run as they are."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import shared_file
from microseg.cli import cli



def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def run_json(cfg, db) -> dict:
    result = invoke("run", str(cfg), "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_init_then_run_works_without_editing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MICROSEG_KEY")                      # the key init writes is enough
    assert invoke("init").exit_code == 0
    assert (tmp_path / "data" / "customers.csv").is_file() and (tmp_path / ".microseg" / "key").is_file()
    assert invoke("check").exit_code == 0
    report = run_json("microseg.toml", "microseg.db")
    released = [s for s in report["segments"] if s["status"] == "released"]
    assert {"rfm", "lifestage", "region", "micro"} <= {s["family"] for s in released}
    assert all(s["size"] >= report["k"] for s in released)


def test_init_refuses_to_overwrite_and_force_rewrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("init").exit_code == 0
    again = invoke("init")
    assert again.exit_code == 2 and "--force" in again.output
    assert invoke("init", "--force").exit_code == 0


def _transactions(n_customers: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_customers), rng.poisson(8, n_customers) + 1)
    return pd.DataFrame({
        "Kunde-Nr": [f"K{i:04d}" for i in rows],
        "Bestelldatum": (pd.Timestamp("2024-06-01") - pd.to_timedelta(rng.integers(1, 600, len(rows)), unit="D"))
        .strftime("%Y-%m-%d %H:%M"),
        "Order No": rng.integers(10_000, 99_999, len(rows)),
        "Qty": rng.integers(1, 5, len(rows)),
        "Price": np.round(rng.uniform(1, 80, len(rows)), 2),
        "Country": rng.choice(["Germany", "Austria", "Switzerland"], len(rows), p=[0.6, 0.25, 0.15]),
    }).rename(columns={"Kunde-Nr": "customer_id", "Bestelldatum": "order_date", "Order No": "order_no",
                       "Qty": "quantity", "Price": "unit_price"})


def test_init_from_a_semicolon_transactions_file_maps_roles_and_runs(tmp_path):
    src = tmp_path / "export.csv"
    _transactions().to_csv(src, sep=";", index=False)
    out = json.loads(invoke("init", str(tmp_path / "shop.toml"), "--from", str(src), "--json").stdout)
    assert out["mapping"]["kind"] == "transactions" and out["mapping"]["separator"] == ";"
    assert out["mapping"]["roles"] == {"customer_id": "customer_id", "timestamp": "order_date",
                                       "quantity": "quantity", "unit_price": "unit_price", "invoice": "order_no"}
    assert invoke("check", str(tmp_path / "shop.toml")).exit_code == 0
    report = run_json(tmp_path / "shop.toml", tmp_path / "s.db")
    assert {"rfm", "country", "activity"} <= {s["family"] for s in report["segments"] if s["status"] == "released"}


def test_init_from_a_parquet_transactions_file(tmp_path):
    tx = _transactions(seed=2).rename(columns={"order_date": "created_at", "quantity": "qty", "unit_price": "price"})
    tx["created_at"] = pd.to_datetime(tx["created_at"])
    tx.to_parquet(tmp_path / "orders.parquet")
    out = json.loads(invoke("init", str(tmp_path / "o.toml"), "--from", str(tmp_path / "orders.parquet"),
                            "--json").output)
    assert out["mapping"]["roles"]["timestamp"] == "created_at" and out["mapping"]["roles"]["quantity"] == "qty"
    assert invoke("check", str(tmp_path / "o.toml"), "--no-scan").exit_code == 0


def test_init_from_a_customers_file_segments_its_attributes(tmp_path):
    rng = np.random.default_rng(1)
    n = 600
    pd.DataFrame({"member_id": np.arange(n), "email": [f"m{i}@example.org" for i in range(n)],
                  "segment": rng.choice(["gold", "silver", "bronze"], n), "score": rng.normal(50, 10, n)}
                 ).to_csv(tmp_path / "members.csv", index=False)
    cfg = tmp_path / "members.toml"
    assert invoke("init", str(cfg), "--from", str(tmp_path / "members.csv")).exit_code == 0
    text = cfg.read_text()
    assert 'customer_id = "member_id"' in text and "email" not in text.split("[privacy]")[0]   # no rule on PII
    report = run_json(cfg, tmp_path / "m.db")
    assert {"segment", "score"} <= {s["family"] for s in report["segments"] if s["status"] == "released"}


def test_init_from_a_missing_file_is_a_clean_error(tmp_path):
    result = invoke("init", str(tmp_path / "x.toml"), "--from", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "file not found" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.toml").exists()


@pytest.mark.realdata
@pytest.mark.parametrize("name, kind", [("online_retail.csv.gz", "transactions"),
                                        ("bank_marketing_full.csv.gz", "customers")])
def test_init_from_real_files_runs(tmp_path, name, kind):
    src = shared_file(name)
    cfg = tmp_path / "real.toml"
    out = json.loads(invoke("init", str(cfg), "--from", str(src), "--json").stdout)
    assert out["mapping"]["kind"] == kind
    checked = invoke("check", str(cfg), "--json")
    assert checked.exit_code == 0, checked.output
    report = run_json(cfg, tmp_path / "r.db")
    assert [s for s in report["segments"] if s["status"] == "released"]
