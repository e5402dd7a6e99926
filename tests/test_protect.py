"""The privacy step as a run shows it: every table scanned, the vocabulary's actions applied,
``restrict`` never released — checked from ``run --json`` and the store only."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

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


_LEVELS = ["Iceland", "Malta", "Mali", "UK", "other", "Ireland"]
_CONDITIONS = st.one_of(
    st.builds(lambda v, op: f"Country {op} '{v}'", st.sampled_from(_LEVELS), st.sampled_from(["==", "!=", "<", ">="])),
    st.builds(lambda vs, neg: f"Country {'not in' if neg else 'in'} ({', '.join(repr(v) for v in vs)})",
              st.lists(st.sampled_from(_LEVELS), min_size=1, max_size=3), st.booleans()),
    st.builds(lambda v, op: f"Country {op} '{v}'", st.sampled_from(["Ma", "I", "land", "l"]),
              st.sampled_from(["startswith", "endswith", "contains", "matches"])),
    st.builds(lambda a, b: f"Country between '{min(a, b)}' and '{max(a, b)}'", st.sampled_from(_LEVELS),
              st.sampled_from(_LEVELS)))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(_LEVELS + [None]), min_size=1, max_size=40), st.integers(1, 6),
       st.lists(_CONDITIONS, min_size=1, max_size=3), st.sampled_from([" and ", " or "]))
def test_a_rule_on_declared_levels_matches_as_on_the_raw_levels(raw, k, conditions, joiner):
    """Whatever folds (levels held by fewer than k customers), a rule sees the levels it names as
    written: its masks on the folded frame with the declared levels restored equal its masks on
    the raw frame."""
    from microseg.plugins.rules import Rules
    from microseg.privacy.declared import Declared, declared_values
    from microseg.privacy.vocabulary import fold_values
    ids = [f"c{i}" for i in range(len(raw))]
    frame = pd.DataFrame({"Country": pd.Series(raw, index=ids, dtype=object)})
    counts = frame["Country"].value_counts()
    kept = {"Country": frozenset(counts.index[counts >= k])}
    rules = Rules(segments=[{"name": "r", "when": joiner.join(conditions)}])
    tests = rules.level_tests()
    declared = Declared.combine([declared_values(frame.reset_index(names="customer_id"),
                                                 tests={"Country": tuple(tests)}, kept=kept)])
    folded = frame.assign(Country=fold_values(frame["Country"], kept["Country"]))
    expected = rules.fit(frame).masks(frame)
    assert (rules.fit(folded).masks(declared.view(folded, tests)) == expected).all()
