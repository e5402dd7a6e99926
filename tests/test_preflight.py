"""`microseg check` and the preflight `run` performs first, through the CLI.

Oracles come from microseg's own outputs: `run --json` reports, the store file, exit codes.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import write_small_shop
from microseg.cli import cli

RULES_CONFIG = """
as_of = "2025-01-01"
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
signup_date = "signup_date"
[sources.transactions]
path = "transactions.csv"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
[[methods]]
id = "city"
method = "rules"
[methods.params]
default = "Elsewhere"
segments = [
  { name = "Norway", when = "city in ('Oslo', 'Bergen')" },
  { name = "Lisbon", when = "city == 'Lisbon'" },
]
[[methods]]
id = "age"
method = "rules"
[methods.params]
default = "Adults"
segments = [{ name = "Very old", when = "age >= 88" }, { name = "Seniors", when = "age >= 65" }]
[microsegments]
dimensions = ["city", "age"]
[privacy]
min_segment_size = 20
consent = { marketing = "consent_marketing" }
"""



def cli_run(*args: str):
    return CliRunner().invoke(cli, list(args))


def shop(tmp_path: Path, config: str = RULES_CONFIG, n: int = 400) -> Path:
    write_small_shop(tmp_path, n=n)
    cfg = tmp_path / "microseg.toml"
    cfg.write_text(config)
    return cfg


def test_check_passes_and_estimates_equal_the_released_sizes_when_every_row_is_read(tmp_path):
    """Invariant: for a config of rules only, with every row read, check's estimate of each
    segment is the size the run releases (or both are "< k")."""
    cfg = shop(tmp_path)
    checked = cli_run("check", str(cfg), "--json")
    assert checked.exit_code == 0, checked.output
    doc = json.loads(checked.stdout)
    assert doc["ok"] and doc["scale"] == 1.0 and doc["problems"] == []
    estimates = {e["key"]: e for e in doc["estimates"]}
    assert {"city:Norway", "age:Seniors", "micro:Norway|Seniors"} <= set(estimates)
    ran = cli_run("run", str(cfg), "--db", str(tmp_path / "s.db"), "--json")
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    for seg in report["segments"]:
        if seg.get("kind", "segment") != "segment":          # a released value such as a family's "*"
            continue
        est = estimates[seg["key"]]
        assert est["status"] == seg["status"], seg["key"]
        assert est["size"] == seg.get("size", "—"), seg["key"]     # withheld: no size


def test_small_estimates_show_as_less_than_k(tmp_path):
    cfg = shop(tmp_path)
    doc = json.loads(cli_run("check", str(cfg), "--json").stdout)
    sizes = [e["size"] for e in doc["estimates"]]
    very_old = next(e for e in doc["estimates"] if e["label"] == "Very old")     # age >= 88 is tiny
    assert very_old["status"] != "released" and very_old["size"] == "—"          # withheld: no size at all
    assert not [s for s in sizes if isinstance(s, int) and 0 < s < 20]


def test_estimates_scale_from_a_sample(tmp_path):
    cfg = shop(tmp_path, n=2000)
    doc = json.loads(cli_run("check", str(cfg), "--json", "--sample-rows", "500").stdout)
    assert doc["scale"] == pytest.approx(4.0)
    customers = next(s for s in doc["sources"] if s["role"] == "customers")
    assert customers["rows_read"] == 500 and customers["rows_total"] == 2000 and customers["rows_total_exact"]
    report = json.loads(cli_run("run", str(cfg), "--db", str(tmp_path / "s.db"), "--json").stdout)
    real = {s["key"]: s["size"] for s in report["segments"] if s["status"] == "released"}
    est = {e["key"]: e["size"] for e in doc["estimates"]}
    for key in ("city:Norway", "city:Lisbon", "city:Elsewhere", "age:Adults"):
        assert est[key] == pytest.approx(real[key], rel=0.25), key


def test_rule_column_typo_fails_check_and_run_in_seconds_leaving_no_store(tmp_path):
    cfg = shop(tmp_path, RULES_CONFIG.replace("city in ('Oslo'", "Cty in ('Oslo'"))
    checked = cli_run("check", str(cfg))
    assert checked.exit_code == 2
    assert "rules segment 'Norway': unknown column 'Cty' at position 1" in checked.output
    db = tmp_path / "s.db"
    ran = cli_run("run", str(cfg), "--db", str(db))
    assert ran.exit_code == 2 and "unknown column 'Cty'" in ran.output and "Traceback" not in ran.output
    assert not db.exists()                                    # failed before the store was opened


@pytest.mark.parametrize("mutate, expect", [
    (lambda t: t.replace('default = "Adults"', 'default = "Adults"\nmode = "firts"'), "mode must be 'first' or"),
    (lambda t: t.replace("age >= 65", "age >= 'old'"), "cannot compare number with text"),
    (lambda t: t.replace('default = "Adults"', 'default = "Adults"\nmode = "multi"'), "cannot be a microsegment"),
    (lambda t: t.replace('id = "age"\nmethod = "rules"', 'id = "age"\nmethod = "rulez"'), "unknown method 'rulez'"),
    (lambda t: t.replace('consent = { marketing = "consent_marketing" }', 'consent = { marketing = "optin" }'),
     "consent column 'optin'"),
    (lambda t: t.replace('timestamp = "ts"', 'timestamp = "when"'), "missing column 'when'"),
])
def test_config_problems_are_found_before_training(tmp_path, mutate, expect):
    cfg = shop(tmp_path, mutate(RULES_CONFIG))
    checked = cli_run("check", str(cfg), "--json")
    assert checked.exit_code == 2
    problems = json.loads(checked.stdout)["problems"]
    assert any(expect in p["message"] for p in problems), problems
    ran = cli_run("run", str(cfg), "--db", str(tmp_path / "s.db"))
    assert ran.exit_code == 2 and expect in ran.output


def test_every_problem_is_listed_at_once(tmp_path):
    bad = RULES_CONFIG.replace("city in ('Oslo'", "Cty in ('Oslo'").replace("age >= 65", "agee >= 65")
    cfg = shop(tmp_path, bad)
    doc = json.loads(cli_run("check", str(cfg), "--json").stdout)
    assert len(doc["problems"]) == 2
    ran = cli_run("run", str(cfg), "--db", str(tmp_path / "s.db"))
    assert "2 problems" in ran.output and "'Cty'" in ran.output and "'agee'" in ran.output


def test_wrong_separator_is_named_with_the_fix(tmp_path):
    cfg = shop(tmp_path)
    customers = pd.read_csv(tmp_path / "customers.csv")
    customers.to_csv(tmp_path / "customers.csv", sep=";", index=False)
    result = cli_run("check", str(cfg))
    assert result.exit_code == 2
    assert "looks ';'-separated: add sep = ';' to [sources.customers]" in result.output
    cfg.write_text(RULES_CONFIG.replace('path = "customers.csv"', 'path = "customers.csv"\nsep = ";"'))
    assert cli_run("check", str(cfg)).exit_code == 0


def test_wrong_encoding_is_named_with_the_fix(tmp_path):
    cfg = shop(tmp_path)
    customers = pd.read_csv(tmp_path / "customers.csv")
    customers.loc[5, "city"] = "Tromsø"
    customers.to_csv(tmp_path / "customers.csv", index=False, encoding="cp1252")
    result = cli_run("check", str(cfg))
    assert result.exit_code == 2 and 'not utf-8 text (line 7); add encoding = "cp1252"' in result.output


def test_missing_key_says_how_in_one_line_and_leaves_no_store(tmp_path, monkeypatch):
    cfg = shop(tmp_path)
    monkeypatch.delenv("MICROSEG_KEY")
    db = tmp_path / "s.db"
    result = cli_run("run", str(cfg), "--db", str(db))
    assert result.exit_code == 2
    message = result.output.strip().splitlines()
    assert len(message) == 1 and "MICROSEG_KEY" in message[0] and "microseg keygen" in message[0]
    assert not db.exists()


def test_a_column_removed_as_personal_data_is_explained(tmp_path):
    cfg = shop(tmp_path, RULES_CONFIG.replace("age >= 65", "email endswith '@example.com'"))
    doc = json.loads(cli_run("check", str(cfg), "--json").stdout)
    assert not doc["ok"]
    message = next(p["message"] for p in doc["problems"] if "'email'" in p["message"])
    assert "holds personal data and is removed before methods see it" in message
    ran = cli_run("run", str(cfg), "--db", str(tmp_path / "s.db"))      # run scans all rows, then says so
    assert ran.exit_code == 2 and "holds personal data" in ran.output


def test_run_fails_before_any_method_is_fitted_on_a_config_whose_training_takes_long(tmp_path, monkeypatch):
    """The demo config (clusters, CLV-decline, uplift: its complete run on 3,000 customers takes tens
    of seconds) with one typo in a rule column fails in the preflight: no method's ``fit`` is ever
    called, and the store is not created. (How long the preflight takes is measured by
    bench/preflight.py, not asserted here: a wall-time bound fails on a loaded machine.)"""
    from microseg.demo import write_demo
    from microseg.plugins.campaign_response import CampaignResponse
    from microseg.plugins.clusters import Clusters
    from microseg.plugins.clv_decline import ClvDecline
    from microseg.plugins.rfm import RFM
    from microseg.plugins.rules import Rules
    fitted: list[str] = []
    for method in (CampaignResponse, Clusters, ClvDecline, RFM, Rules):
        monkeypatch.setattr(method, "fit", lambda self, *a, _name=method.__name__, **k: fitted.append(_name))
    cfg = write_demo(tmp_path, n=3000, seed=1)
    cfg.write_text(cfg.read_text().replace("when = \"region == 'South'\"", "when = \"regin == 'South'\""))
    result = cli_run("run", str(cfg), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 2 and "unknown column 'regin'" in result.output
    assert fitted == [], fitted
    assert not (tmp_path / "s.db").exists()


def test_check_reports_a_bad_config_file_cleanly(tmp_path):
    cfg = tmp_path / "microseg.toml"
    cfg.write_text("[sources.customers]\npath = 1\n")
    result = cli_run("check", str(cfg))
    assert result.exit_code == 2 and "sources.customers.path" in result.output and "Traceback" not in result.output


COLUMNS = ["age", "city", "monetary", "recency_days", "Country", "native-country"]


@settings(max_examples=60, deadline=None)
@given(used=st.lists(st.sampled_from(COLUMNS + ["agee", "Contry", "monetry"]), min_size=1, max_size=4),
       available=st.sets(st.sampled_from(COLUMNS)))
def test_rules_check_columns_names_exactly_the_missing_columns(used, available):
    from microseg.plugins.rules import Rules
    quoted = [f"`{c}`" if "-" in c else c for c in used]
    when = " or ".join(f"{c} is null" for c in quoted)
    problems = Rules(segments=[{"name": "S", "when": when}]).check_columns(available)
    missing = {c for c in used if c not in available}
    assert {p.split("unknown column ")[1].split("'")[1] for p in problems} == missing


EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "docs" / "examples").glob("*.toml"))


@pytest.mark.realdata
@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_config_passes_check(config):
    from conftest import SHARED_DATA
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} (only CI and the project's machines have ../shared)")
    result = cli_run("check", str(config), "--json", "--no-scan")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] and all(not isinstance(e["size"], int) or e["size"] >= doc["k"] for e in doc["estimates"])


@pytest.mark.parametrize("params, expect", [
    ('{ segments = "uplfit" }', "segments must be auto, channel, uplift or propensity, not 'uplfit'"),
    ('{ split = "random" }', "split must be 'stratified' or 'ordered', not 'random'"),
    ('{ outcome_column = "bought" }', "outcome_column 'bought' is not a column"),
])
def test_campaign_response_parameters_are_checked_before_training(tmp_path, params, expect):
    cfg = shop(tmp_path, RULES_CONFIG.replace("[microsegments]", f'[[methods]]\nid = "resp"\n'
                                              f'method = "campaign-response"\nparams = {params}\n[microsegments]'))
    doc = json.loads(cli_run("check", str(cfg), "--json", "--no-scan").stdout)
    assert [p for p in doc["problems"] if expect in p["message"] and p["where"].endswith("(resp)")], doc["problems"]


def test_a_bad_mode_does_not_hide_a_bad_column(tmp_path):
    bad = RULES_CONFIG.replace('default = "Adults"', 'default = "Adults"\nmode = "firts"').replace("age >= 65", "agee >= 65")
    doc = json.loads(cli_run("check", str(shop(tmp_path, bad)), "--json", "--no-scan").stdout)
    messages = [p["message"] for p in doc["problems"]]
    assert any("mode must be" in m for m in messages) and any("'agee'" in m for m in messages)


def test_parquet_head_is_the_first_rows_across_files_and_row_groups(tmp_path):
    """The sample (memory-mapped reads) is the data set's first rows, whatever the files' row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from microseg.loading import _parquet_head
    frame = pd.DataFrame({"customer_id": np.arange(5_000), "city": np.array(["Oslo", "Bergen"] * 2_500, dtype=object),
                          "amount": np.linspace(0, 1, 5_000)})
    files = []
    for i, part in enumerate((frame.iloc[:3_000], frame.iloc[3_000:])):
        files.append(tmp_path / f"part-{i}.parquet")
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), files[-1], row_group_size=700)
    for nrows in (1, 700, 2_999, 3_500, 10_000):
        head = _parquet_head(files, ["customer_id", "amount"], nrows)
        want = frame[["customer_id", "amount"]].head(nrows)
        assert head["customer_id"].tolist() == want["customer_id"].tolist()
        assert head["amount"].tolist() == want["amount"].tolist()
