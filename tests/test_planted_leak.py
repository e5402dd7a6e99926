"""Planted personal values in every table — including columns with harmless names and rare
levels of harmless-looking categories — appear in no artefact, on both engines.

Artefacts searched: stdout and stderr of every command (run, run --json, segments --all [--json],
audit [--json --verify], export to CSV and Parquet, report in HTML / Markdown / JSON, compare,
show, plugins, scan of every input), the export and report files (also those ``run`` writes),
every table of the store (the audit trail and the stored report included). On the Dask engine:
one ``run --json`` (its progress on stderr included), ``segments --all --json``, ``audit --json
--verify``, the CSV export, the HTML report and every table of the store. A planted
value counts as leaked in its original form, lower-cased, or as a slug (``share_cat_<slug>``).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from microseg.demo import DEMO_CONFIG, generate

#: distinctive values planted into harmless-looking columns, each of a different shape
PLANTED = {
    "customers.enrollment_channel (1 customer)": "referral from rena.planted@example.org",
    "customers.interest (1 customer, a name)": "Ximena Quarrington",
    "customers.city (1 customer)": "Planted-upon-Thames",
    "customers.tier (1 customer)": "tier for bob.planted@example.com",
    "transactions.category (1 customer)": "shopper.planted@example.com",
    "transactions.category (2 customers, a name)": "Gift for Rosalind Pemberton-Vale",
    "transactions.category (60 customers, an e-mail)": "shared.gift@example.com",
    "transactions.channel (1 customer, a phone)": "+44 20 7946 0991",
    "transactions.invoice (1 row)": "INV-ann.inv@example.net",
    "events.channel (1 customer)": "eve.planted@example.com",
    "events.campaign (1 customer)": "promo-for-carl.planted@example.com",
    "events.campaign (40 customers, a phone)": "CMP +44 20 7123 4567",
}


def _slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_")


def write_planted(folder: Path, n: int = 800) -> tuple[Path, pd.DataFrame]:
    frames = generate(n, seed=11)
    cust, tx, ev = frames["customers"], frames["transactions"], frames["events"]
    ids = cust["customer_id"].to_numpy()
    rng = np.random.default_rng(4)
    cust["tier"] = rng.choice(["gold", "silver", "bronze"], n)
    cust["contact"] = [f"c{i}.reach@example.net" for i in range(n)]          # e-mails under a harmless name
    cust.loc[3, "enrollment_channel"] = PLANTED["customers.enrollment_channel (1 customer)"]
    cust.loc[4, "interest"] = PLANTED["customers.interest (1 customer, a name)"]
    cust.loc[5, "city"] = PLANTED["customers.city (1 customer)"]
    cust.loc[6, "tier"] = PLANTED["customers.tier (1 customer)"]
    tx["invoice"] = [f"INV{i:07d}" for i in range(len(tx))]
    tx.loc[tx["customer_id"] == ids[10], "category"] = PLANTED["transactions.category (1 customer)"]
    tx.loc[tx["customer_id"].isin(ids[11:13]), "category"] = PLANTED["transactions.category (2 customers, a name)"]
    tx.loc[tx["customer_id"].isin(ids[100:160]), "category"] = PLANTED["transactions.category (60 customers, an e-mail)"]
    tx.loc[tx["customer_id"] == ids[14], "channel"] = PLANTED["transactions.channel (1 customer, a phone)"]
    tx.loc[tx.index[0], "invoice"] = PLANTED["transactions.invoice (1 row)"]
    ev.loc[ev["customer_id"] == ids[20], "channel"] = PLANTED["events.channel (1 customer)"]
    ev.loc[ev["customer_id"] == ids[21], "campaign"] = PLANTED["events.campaign (1 customer)"]
    ev.loc[ev["customer_id"].isin(ids[200:240]), "campaign"] = PLANTED["events.campaign (40 customers, a phone)"]
    folder.mkdir(parents=True, exist_ok=True)
    cust.to_csv(folder / "customers.csv", index=False)
    tx.to_csv(folder / "transactions.csv.gz", index=False)
    ev.to_csv(folder / "campaign_contacts.csv.gz", index=False)
    cfg = DEMO_CONFIG.replace('category = "category"', 'category = "category"\ninvoice = "invoice"')
    cfg = cfg.replace("min_segment_size = 50", "min_segment_size = 20").replace('key_file = ".microseg/key"\n', "")
    cfg = cfg.replace("horizon_days = 90", "horizon_days = 90\nn_estimators = 60")
    cfg = cfg.replace("random_state = 0", "random_state = 0\nn_clusters = 4\nn_bootstrap = 0")   # fast: the
    cfg = cfg.replace('segments = "uplift"', 'segments = "uplift"\nn_estimators = 30')        # leak, not quality
    (folder / "microseg.toml").write_text(cfg)
    return folder / "microseg.toml", cust


def _cli(*args: str) -> str:
    """A command as a user runs it (its own process): standard output and error. With ``--json``,
    standard output must be exactly one JSON document (on the Dask engine too, whose workers and
    LightGBM's network set-up print to standard output)."""
    env = {**os.environ, "MICROSEG_KEY": "planted-test-key-0123456789"}
    done = subprocess.run([sys.executable, "-m", "microseg.cli", *args], capture_output=True, text=True, env=env,
                          timeout=900, check=False)
    if "--json" in args and done.returncode == 0:
        json.loads(done.stdout)
    return done.stdout + "\n" + done.stderr


def _store_text(db: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{db}")
    cells = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                cells += [str(v) for v in row if v is not None]
    return "\n".join(cells)


def _artefacts(folder: Path, cfg: Path, engine: str) -> str:
    """Everything the commands print and write for runs on ``engine``.

    Dask: one run and the store-reading commands whose output depends on what that run stored (the
    rendering code is the engine-independent code the pandas variant already searches; the whole
    store is searched as text on both engines)."""
    db = folder / f"{engine}.db"
    if engine == "pandas":
        out = [_cli("run", str(cfg), "--db", str(db), "--engine", engine),
               _cli("run", str(cfg), "--db", str(db), "--engine", engine, "--json")]
    else:
        out = ["", _cli("run", str(cfg), "--db", str(db), "--engine", engine, "--json")]
    assert '"segments"' in out[1], out[1][-2000:]
    run = "2" if engine == "pandas" else "1"
    reads = [["segments", "--db", str(db), "--all", "--json"], ["audit", run, "--db", str(db), "--json", "--verify"],
             ["export", run, "--out", str(folder / f"{engine}.csv"), "--db", str(db)],
             ["report", run, "--db", str(db), "--out", str(folder / f"{engine}-report.html")]]
    if engine == "pandas":        # the same rendering code on other formats; commands that read no store
        reads += [["segments", "--db", str(db), "--all"], ["audit", "2", "--db", str(db)],
                  ["export", "2", "--out", str(folder / f"{engine}.parquet"), "--db", str(db)],
                  ["report", "2", "--db", str(db), "--format", "markdown", "--out", str(folder / f"{engine}-report.md")],
                  ["report", "2", "--db", str(db), "--format", "json", "--out", str(folder / f"{engine}-report.json")],
                  ["compare", "1", "2", "--db", str(db), "--json"], ["show", "response:Unresponsive", "--db", str(db)],
                  ["plugins"], ["plugins", "--json"]]
        reads += [["scan", str(folder / name), "--json"]
                  for name in ("customers.csv", "transactions.csv.gz", "campaign_contacts.csv.gz")]
    with ThreadPoolExecutor(max_workers=3) as pool:        # commands on the stored runs, three processes at a time
        out += list(pool.map(lambda args: _cli(*args), reads))
    for path in folder.rglob("*"):                     # every report file written (also by run itself)
        if path.is_file() and path.suffix in (".html", ".md", ".json", ".svg", ".txt"):
            out.append(path.read_text(encoding="utf-8", errors="replace"))
    exported = [pd.read_csv(folder / f"{engine}.csv")]
    if engine == "pandas":
        exported.append(pd.read_parquet(folder / f"{engine}.parquet"))
    for frame in exported:
        assert len(frame) > 100
        out.append(" ".join(map(str, frame.columns)) + "\n" + frame.astype(str).to_csv())
    out.append(_store_text(db))
    return "\n".join(out)


def _leaks(text: str, customers: pd.DataFrame) -> list[str]:
    low = text.lower()
    found = [where for where, value in PLANTED.items()
             if value in text or value.lower() in low or _slug(value) in low]
    personal = set(customers["email"]) | set(customers["phone"]) | set(customers["contact"]) | \
        set(customers["customer_id"]) | set(customers["first_name"] + " " + customers["last_name"])
    found += [f"a personal value of length {len(v)}" for v in personal if v in text]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["pandas", pytest.param("dask", marks=pytest.mark.dask)])
def test_planted_values_appear_in_no_artefact(tmp_path, engine):
    if engine == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'microseg[dask]')")
    cfg, customers = write_planted(tmp_path)
    text = _artefacts(tmp_path, cfg, engine)
    assert "Traceback" not in text
    assert "share_cat_other" in text or "other" in text        # folded levels exist, under a safe name
    assert not _leaks(text, customers), _leaks(text, customers)


@pytest.mark.slow
def test_the_oracle_sees_a_planted_value(tmp_path):
    """The search itself works: a planted value that is released on purpose (a rule label in the
    config is the user's own words) is found."""
    cfg, customers = write_planted(tmp_path, n=400)
    text = cfg.read_text().replace('name = "South"', f'name = "{PLANTED["customers.tier (1 customer)"]}"')
    cfg.write_text(text.replace("min_segment_size = 20", "min_segment_size = 10"))
    out = _cli("run", str(cfg), "--db", str(tmp_path / "o.db"), "--json")
    assert _leaks(out, customers) == ["customers.tier (1 customer)"]


# ---------------------------------------------------------------- declared vocabulary (rules)
#: rare levels of a harmless-looking column (k = 20): two a rule names together (16 + 14 customers),
#: one a rule names alone (5), one no rule names (7)
RARE = {"Lumenvale": 16, "Quorrin": 14, "Zephyrine": 5, "Vantorrel": 7}
RULES = '''
[[methods]]
id = "geo"
method = "rules"
[methods.params]
default = "Rest"
segments = [
  {{ name = "Pair", when = "region in ('Lumenvale', 'Quorrin')" }},
  {{ name = "Tiny", when = "region == 'Zephyrine'" }},
  {{ name = "North", when = "region == 'north'" }},
]
'''


def _declared_shop(folder: Path) -> tuple[Path, pd.DataFrame]:
    from helpers import write_shop_config
    cfg = write_shop_config(folder, k=20, n=400)
    cust = pd.read_csv(folder / "customers.csv")
    region = np.where(np.arange(len(cust)) % 2 == 0, "north", "south").astype(object)
    start = 0
    for level, n in RARE.items():
        region[start:start + n] = level
        start += n
    cust["region"] = np.random.default_rng(3).permutation(region)
    cust["consent_marketing"] = True
    cust.to_csv(folder / "customers.csv", index=False)
    text = cfg.read_text().replace("[microsegments]", RULES.format() + "[microsegments]")
    cfg.write_text(text.replace("[release]\n", '[release]\ncustomer_ids = "original"\nfamilies = ["geo"]\n'))
    return cfg, cust


@pytest.mark.parametrize("engine", ["pandas", pytest.param("dask", marks=pytest.mark.dask)])
def test_a_rule_matches_the_rare_levels_it_names_and_no_other_rare_level_comes_out(tmp_path, engine):
    """Folding does not hide from a rule the levels it names: the segment holds exactly the
    customers with those levels (oracle: the input CSV), it is released iff >= k, and a rare level
    no rule names appears in no artefact."""
    if engine == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'microseg[dask]')")
    import json

    from click.testing import CliRunner

    from microseg.cli import cli

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    cfg, cust = _declared_shop(tmp_path)
    db = tmp_path / "d.db"
    out = invoke("run", str(cfg), "--db", str(db), "--engine", engine, "--json")
    report = json.loads(out)
    sizes = {s["label"]: (s.get("size"), s["status"]) for s in report["segments"] if s["family"] == "geo"}
    assert sizes["Pair"] == (30, "released")
    assert sizes["Tiny"][1] != "released"
    assert sizes["North"] == ((cust["region"] == "north").sum(), "released")
    out += invoke("export", "1", "--out", str(tmp_path / "e.csv"), "--db", str(db))
    exported = pd.read_csv(tmp_path / "e.csv", dtype=str)
    id_col = next(c for c in exported.columns if "customer" in c)
    pair = set(exported.loc[exported["geo"] == "Pair", id_col])
    assert pair == set(cust.loc[cust["region"].isin(["Lumenvale", "Quorrin"]), "customer_id"])
    out += invoke("segments", "--db", str(db), "--all", "--json") + invoke("audit", "1", "--db", str(db), "--json")
    text = out + exported.to_csv() + _store_text(db)
    assert "Traceback" not in text
    assert "vantorrel" not in text.lower()
