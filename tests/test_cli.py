"""The CLI end to end: init, run, segments, export, plugins; exit codes; atomic failure."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import LOCAL_PLUGIN, write_shop_config
from microseg.cli import cli
from microseg.store import Run, RunCustomer, Segment, Store

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


@pytest.mark.parametrize("command", ["init", "run", "segments", "export", "audit", "scan", "plugins", "demo",
                                     "forget"])
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_run_segments_export(tmp_path):
    cfg = write_shop_config(tmp_path, k=20)
    db = str(tmp_path / "out.db")
    result = invoke("run", str(cfg), "--db", db, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    released = [s for s in report["segments"] if s["status"] == "released"]
    assert released and all(isinstance(s["size"], int) and s["size"] >= 20 for s in released)
    assert {"recent", "recent90", "micro", "recent.recency_days", "recent90.recency_days"} >= {
        s["family"] for s in report["segments"]}                       # families, micro, score bands
    assert all("size" not in s and s["reason"] for s in report["segments"] if s["status"] != "released")
    seg = json.loads(invoke("segments", "--db", db, "--json").stdout)
    assert seg["run_id"] == 1 and {s["key"] for s in seg["segments"]} == {s["key"] for s in released}
    out = tmp_path / "export.csv"
    result = invoke("export", "1", "--out", str(out), "--db", db)
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert "customer" in df.columns and df["customer"].str.len().eq(24).all()   # keyed pseudonyms
    assert "recent.recency_days" in df.columns                                   # score bands allowed by policy
    assert df["recent.recency_days"].astype(str).map(lambda v: v == "*" or v[0] in "<≥0123456789").all()
    emails = set(pd.read_csv(tmp_path / "customers.csv")["email"])
    assert not emails & set(df.astype(str).to_numpy().ravel())
    raw_ids = set(pd.read_csv(tmp_path / "customers.csv")["customer_id"])
    assert not raw_ids & set(df["customer"])


def test_marketing_consent_excludes_from_release(tmp_path):
    cfg = write_shop_config(tmp_path, k=5)
    db = str(tmp_path / "out.db")
    assert invoke("run", str(cfg), "--db", db, "--json").exit_code == 0
    store = Store(f"sqlite:///{db}")
    customers = pd.read_csv(tmp_path / "customers.csv")
    opted_out = set(customers.index[~customers["consent_marketing"]])
    released_nos = set(store.memberships(1)["customer_no"])
    assert opted_out and not (opted_out & released_nos)


@pytest.mark.parametrize("mutate, match", [
    (lambda d: (d / "transactions.csv").write_text("customer_id,ts,amount\n"), "no data rows"),
    (lambda d: (d / "transactions.csv").write_text("customer_id,ts,amount\nK00001,never,3\n"), "row 1"),
    (lambda d: (d / "customers.csv").write_text("customer_id,age,consent_marketing,signup_date,email\n"
                                                 "A,3,1,2020-01-01,x\nA,4,1,2020-01-01,y\n"), "duplicate"),
])
def test_bad_input_exit_2_and_store_unchanged(tmp_path, mutate, match):
    cfg = write_shop_config(tmp_path, k=20)
    db = str(tmp_path / "out.db")
    assert invoke("run", str(cfg), "--db", db).exit_code == 0
    store = Store(f"sqlite:///{db}")
    before = {t: store.count(t) for t in (Run, Segment, RunCustomer)}
    mutate(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", db])
    assert result.exit_code == 2
    assert match in result.output and "Traceback" not in result.output
    assert {t: store.count(t) for t in before} == before


def test_bad_option_and_missing_key_exit_2(tmp_path, monkeypatch):
    assert CliRunner().invoke(cli, ["run"]).exit_code == 2
    cfg = write_shop_config(tmp_path)
    monkeypatch.delenv("MICROSEG_KEY")
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "MICROSEG_KEY" in result.output


def test_unknown_method_names_the_key(tmp_path):
    cfg = write_shop_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('method = "recent-buyers"\nparams = { days = 60 }',
                                           'method = "nope"'))
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "methods[0].method" in result.output


def test_init_writes_valid_config_and_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("init").exit_code == 0
    assert (tmp_path / "microseg.toml").is_file() and (tmp_path / ".microseg" / "key").stat().st_mode & 0o077 == 0
    assert CliRunner().invoke(cli, ["init"]).exit_code == 2   # refuses to overwrite


def test_plugins_json_lists_builtins_and_local_file():
    result = invoke("--plugin", str(LOCAL_PLUGIN), "plugins", "--json")
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["microseg.plugins.rfm"]["methods"] == ["rfm"]
    assert plugins["microseg.plugins.rfm"]["version"]
    local = [p for p in plugins.values() if p["source"] == str(LOCAL_PLUGIN)]
    assert local and local[0]["methods"] == ["recent-buyers"]


@pytest.fixture(scope="module")
def installed_example_plugin(tmp_path_factory):
    """pip-install docs/examples/plugin-high-spenders into a separate folder."""
    target = tmp_path_factory.mktemp("site")
    src = tmp_path_factory.mktemp("src") / "pkg"
    shutil.copytree(REPO / "docs" / "examples" / "plugin-high-spenders", src)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(src)], check=True)
    return target


@pytest.mark.slow
def test_entry_point_plugin_package(installed_example_plugin, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed_example_plugin)}
    exe = [sys.executable, "-m", "microseg.cli"]
    out = subprocess.run([*exe, "plugins", "--json"], env=env, capture_output=True, text=True, check=True)
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert plugins["high_spenders"]["methods"] == ["high-spenders"]
    assert plugins["high_spenders"]["version"] == "0.1.0" and plugins["high_spenders"]["source"] == "entry point"
    cfg = write_shop_config(tmp_path, k=10)
    cfg.write_text(cfg.read_text().replace('[microsegments]\ndimensions = ["recent", "recent90"]',
                                           '[[methods]]\nid = "spend"\nmethod = "high-spenders"\n'
                                           'params = { threshold = 150.0 }\n'
                                           '[microsegments]\ndimensions = ["recent", "spend"]'))
    run = subprocess.run([*exe, "run", str(cfg), "--db", str(tmp_path / "s.db"), "--json"], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert {"spend:high", "spend:other"} & {s["key"] for s in report["segments"] if s["status"] == "released"}
    off = subprocess.run([*exe, "plugins", "--json"], env={**env, "MICROSEG_LOAD_PLUGINS": ""},
                         capture_output=True, text=True, check=True)
    assert "high_spenders" not in {p["name"] for p in json.loads(off.stdout)}


def test_released_attributes_are_part_of_the_released_values(tmp_path):
    """Attributes join each customer's released values: the whole row, labels and attributes
    together, is held by ≥ k customers; an attribute the policy generalises is never raw."""
    cfg = write_shop_config(tmp_path, k=20)
    cfg.write_text(cfg.read_text().replace("[release]\n", '[release]\nattributes = ["age", "city"]\n')
                   .replace("[privacy]\n", '[privacy]\ncolumns = { age = "generalise" }\n'))
    db = str(tmp_path / "out.db")
    assert invoke("run", str(cfg), "--db", db).exit_code == 0
    out = tmp_path / "e.csv"
    assert invoke("export", "1", "--out", str(out), "--db", db).exit_code == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    raw_ages = set(pd.read_csv(tmp_path / "customers.csv")["age"].astype(str))
    assert not set(df["age"]) & raw_ages                                    # generalised, not raw
    assert df.drop(columns="customer").value_counts().min() >= 20           # every released row: ≥ k
    doc = json.loads(invoke("audit", "--db", db, "--json").stdout)
    assert doc["violations"] == [] and doc["invariant"]["within_run"]["smallest_cell"] >= 20


def test_dp_released_sizes(tmp_path):
    pytest.importorskip("opendp")
    cfg = write_shop_config(tmp_path, k=20)
    cfg.write_text(cfg.read_text().replace("[privacy]\n", "[privacy]\ndp = { epsilon = 0.5 }\n"))
    report = json.loads(invoke("run", str(cfg), "--db", str(tmp_path / "o.db"), "--json").stdout)
    assert report["privacy"]["dp"] is True
    stored = {s.key: s.released_size for s in Store(f"sqlite:///{tmp_path / 'o.db'}").segments(1)}
    assert len(stored) > 5
    noisy = {s["key"]: s["size"] for s in report["segments"] if s["status"] == "released"}
    assert any(noisy[k] != stored[k] for k in noisy)
