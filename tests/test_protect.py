"""The privacy step as a run shows it: every table scanned, the vocabulary's actions applied,
``restrict`` never released — checked from ``run --json`` and the store only."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import write_shop_config
from microseg.cli import cli


def _shop(tmp_path, privacy: str = "", release: str = ""):
    cfg = write_shop_config(tmp_path, k=20, n=400)
    tx = pd.read_csv(tmp_path / "transactions.csv")
    tx["category"] = ["toys", "books", "garden"] * (len(tx) // 3) + ["toys"] * (len(tx) % 3)
    tx.loc[tx["customer_id"] == "K00003", "category"] = "for.jo.planted@example.com"
    tx.to_csv(tmp_path / "transactions.csv", index=False)
    text = cfg.read_text().replace('amount = "amount"', 'amount = "amount"\ncategory = "category"')
    text = text.replace("[privacy]\n", f"[privacy]\n{privacy}\n").replace("[release]\n", f"[release]\n{release}\n")
    cfg.write_text(text)
    return cfg


def test_every_table_is_scanned_and_rare_levels_are_counted(tmp_path):
    cfg = _shop(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "s.db"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    tables = {c.get("table") for c in report["privacy"]["columns"]}
    assert tables == {"customers", "transactions"}
    assert report["privacy"]["actions"]["email"] == "drop"
    assert report["privacy"]["folded"]["transactions.category"] == {"levels": 4, "kept": 3, "folded": 1}
    assert "planted" not in result.output


def test_restrict_is_used_in_memory_and_never_released(tmp_path):
    cfg = _shop(tmp_path, privacy='columns = { city = "restrict" }', release='attributes = ["city"]')
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "'city' has the action 'restrict'" in result.output
    assert "Traceback" not in result.output
    if (tmp_path / "s.db").exists():                       # nothing half-written
        import sqlite3
        assert sqlite3.connect(tmp_path / "s.db").execute("SELECT count(*) FROM run").fetchone()[0] == 0


def test_a_rule_names_the_text_levels_of_its_conditions():
    from microseg.plugins.rules import Rules
    from microseg.privacy.declared import LevelTest
    rules = Rules(segments=[{"name": "a", "when": "Country in ('Iceland', 'Malta') and age >= 65"},
                            {"name": "b", "when": "'M' <= Country or Country startswith 'Uni'"},
                            {"name": "c", "when": "age >= (("}])      # does not parse: names nothing
    assert rules.level_tests() == [LevelTest("Country", "in", ("Iceland", "Malta")),
                                   LevelTest("Country", ">=", "M"), LevelTest("Country", "startswith", "Uni")]


def test_declared_levels_are_restored_only_for_the_tests_that_name_them():
    from microseg.privacy.declared import Declared, LevelTest, declared_values
    raw = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "Country": ["Iceland", "Malta", "Chad", "UK"]})
    kept = {"Country": frozenset({"UK"})}
    iceland = LevelTest("Country", "==", "Iceland")
    malta = LevelTest("Country", "in", ("Malta",))
    declared = Declared.combine([declared_values(raw.iloc[:2], tests={"Country": (iceland, malta)}, kept=kept),
                                 declared_values(raw.iloc[2:], tests={"Country": (iceland, malta)}, kept=kept)])
    assert declared.values["Country"].to_dict() == {"a": "Iceland", "b": "Malta"}    # Chad: named by no test
    folded = pd.DataFrame({"Country": ["other", "other", "other", "UK"]}, index=list("abcd"))
    assert declared.view(folded, [iceland])["Country"].tolist() == ["Iceland", "other", "other", "UK"]
    assert declared.view(folded, [])["Country"].tolist() == ["other", "other", "other", "UK"]
    assert declared.view(folded.loc[["b", "d"]], [malta])["Country"].tolist() == ["Malta", "UK"]   # consent/erasure
    erased = declared_values(raw, tests={"Country": (iceland,)}, kept=kept, erased=pd.Index(["a"]))
    assert erased == {}
