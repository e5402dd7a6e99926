"""The notebook route: `import microseg`, `microseg.run` results as DataFrames, and the documented
`microseg.customer_data` example (run as a doctest of docs/customer-frame.md)."""
from __future__ import annotations

import doctest
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import microseg
from helpers import write_shop_config
from microseg.cli import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"



def test_customer_frame_doc_example():
    failures, tried = doctest.testfile(str(DOCS / "customer-frame.md"), module_relative=False,
                                       optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert tried >= 8 and failures == 0


def test_run_result_dataframes_agree_with_the_cli(tmp_path):
    """Invariants: result.segments lists exactly what `segments --json` lists, with its sizes;
    result.memberships() has, per released segment, exactly its released size in customers,
    and only keys that `export` writes."""
    cfg = write_shop_config(tmp_path, k=20)
    db = str(tmp_path / "s.db")
    result = microseg.run(cfg, db=db)
    assert isinstance(result.segments, pd.DataFrame)
    listed = json.loads(CliRunner().invoke(cli, ["segments", "--db", db, "--json"]).stdout)["segments"]
    assert dict(zip(result.segments["key"], result.segments["size"])) == {s["key"]: s["size"] for s in listed}
    members = result.memberships()
    assert list(members.columns) == ["customer", "key", "family", "label"]
    per_segment = members.groupby("key")["customer"].nunique().to_dict()
    assert per_segment == {s["key"]: s["size"] for s in listed}
    out = tmp_path / "e.csv"
    assert CliRunner().invoke(cli, ["export", "--db", db, "--out", str(out)]).exit_code == 0
    assert set(members["customer"]) == set(pd.read_csv(out)["customer"])


def test_methods_from_a_notebook_name_the_missing_mapping():
    frame = pd.DataFrame({"customer_id": [1, 1], "when": ["2024-01-01", "2024-02-01"], "amount": [1.0, 2.0]})
    with pytest.raises(microseg.errors.InputError, match="missing column 'ts'"):
        microseg.customer_data(transactions=frame, timestamp="ts", amount="amount")
    data = microseg.customer_data(transactions=frame, timestamp="when", amount="amount")
    assert data.features().loc[1, "frequency"] == 2


def test_customer_data_with_raw_columns_points_to_customer_data():
    raw = pd.DataFrame({"CustomerID": [1], "InvoiceDate": ["2024-01-01"], "Amount": [3.0]})
    with pytest.raises(ValueError, match=r"missing \['ts', 'amount'\].*microseg.customer_data"):
        microseg.CustomerData(transactions=raw.rename(columns={"CustomerID": "customer_id"}))
