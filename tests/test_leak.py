"""Leak test: no original personal value appears in any artefact unless the policy released it.

Artefacts searched: everything the CLI printed (stdout and stderr, errors included), reports,
exports, and every table of the store (audit trail included).
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from conftest import shared_file
from microseg.cli import cli

DIRECT = ["first_name", "last_name", "email", "phone", "address", "postcode", "birth_date", "notes"]


def _cli(*args: str):
    result = CliRunner().invoke(cli, list(args))
    return result


def _store_cells(db: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{db}")
    cells: set[str] = set()
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                cells.update(v.hex() if isinstance(v, bytes) else str(v) for v in row if v is not None)
    return cells


def _artefact_text(folder: Path, outputs: list[str], db: Path) -> str:
    parts = list(outputs)
    for p in folder.rglob("*"):
        if p.is_file() and p.suffix in (".md", ".json", ".csv", ".log", ".txt") and p.name not in (
                "customers.csv",):
            parts.append(p.read_text(encoding="utf-8", errors="replace"))
    parts.append("\n".join(_store_cells(db)))
    return "\n".join(parts)


def _personal_values(customers: pd.DataFrame) -> set[str]:
    values = set()
    for col in DIRECT:
        if col in customers.columns:
            values |= {str(v) for v in customers[col].dropna() if str(v).strip()}
    values |= set((customers["first_name"] + " " + customers["last_name"]).tolist())
    values |= set(customers["customer_id"].astype(str))
    return values


@pytest.mark.slow
def test_demo_leaks_no_personal_value(demo_run):
    out, printed = demo_run                       # `microseg demo --customers 3000`, run once (conftest)
    outputs = [printed]
    db = out / "microseg.db"
    for args in (["segments", "--db", str(db), "--json", "--all"], ["audit", "1", "--db", str(db), "--json", "--verify"],
                 ["export", "1", "--out", str(out / "export.csv"), "--db", str(db)],
                 ["scan", str(out / "customers.csv"), "--json"],
                 ["run", str(out / "missing.toml"), "--db", str(db)]):
        outputs.append(_cli(*args).output)
    customers = pd.read_csv(out / "customers.csv")
    text = _artefact_text(out, outputs, db)
    personal = _personal_values(customers)
    assert len(personal) > 10_000
    leaked = sorted(v for v in personal if v in text)
    assert not leaked, f"{len(leaked)} personal values leaked, e.g. a value of length {len(leaked[0])}"
    export = pd.read_csv(out / "export.csv")
    assert not set(customers["customer_id"]) & set(export["customer"])


@pytest.mark.realdata
def test_real_data_with_personal_columns_leaks_nothing(tmp_path):
    """UCI Bank Marketing rows, given synthetic names/e-mails/phones, through a governed run."""
    src = shared_file("bank_marketing_full.csv.gz")
    bank = pd.read_csv(src, sep=";", nrows=6000)
    rng = np.random.default_rng(3)
    bank.insert(0, "customer_id", [f"BNK{i:06d}" for i in range(len(bank))])
    bank["first_name"] = rng.choice(["Ana", "Joao", "Rita", "Pedro", "Ines", "Tiago"], len(bank))
    bank["last_name"] = rng.choice(["Silva", "Santos", "Ferreira", "Pereira", "Costa"], len(bank))
    bank["email"] = [f"client{i}@example.pt" for i in range(len(bank))]
    bank["phone"] = [f"+351 91{rng.integers(1000000, 9999999)}" for _ in range(len(bank))]
    bank.to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "microseg.toml").write_text("""
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
[[methods]]
id = "demo"
method = "rules"
[methods.params]
segments = [ { name = "Students", when = "job == 'student'" }, { name = "Retired", when = "job == 'retired'" },
             { name = "Young married", when = "age < 35 and marital == 'married'" } ]
[privacy]
min_segment_size = 50
""")
    db = tmp_path / "s.db"
    outputs = [_cli("run", str(tmp_path / "microseg.toml"), "--db", str(db), "--json").output]
    assert json.loads(outputs[0])["segments"]
    outputs.append(_cli("export", "1", "--out", str(tmp_path / "export.csv"), "--db", str(db)).output)
    outputs.append(_cli("audit", "--db", str(db), "--json").output)
    text = _artefact_text(tmp_path, outputs, db)
    personal = set(bank["email"]) | set(bank["phone"]) | set(bank["customer_id"]) | set(
        bank["first_name"] + " " + bank["last_name"])
    assert not [v for v in personal if v in text]
