"""Every example config in docs/examples/ runs on the real data through the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import SHARED_DATA
from microseg.cli import cli

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "docs" / "examples").glob("*.toml"))


@pytest.mark.realdata
@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_exports(config, tmp_path):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} (only CI and the project's machines have ../shared)")
    db = str(tmp_path / "ex.db")
    run = CliRunner().invoke(cli, ["run", str(config), "--db", db, "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    released = [s for s in report["segments"] if s["status"] == "released"]
    assert released and all(isinstance(s["size"], int) and s["size"] >= report["k"] for s in released)
    seg = json.loads(CliRunner().invoke(cli, ["segments", "--db", db, "--json"]).stdout)
    assert {s["key"] for s in seg["segments"]} == {s["key"] for s in released}
    out = tmp_path / "export.csv"
    assert CliRunner().invoke(cli, ["export", "1", "--out", str(out), "--db", db]).exit_code == 0
    assert len(pd.read_csv(out)) > 0
    audit = CliRunner().invoke(cli, ["audit", "--db", db, "--verify", "--json"])
    assert audit.exit_code == 0, audit.output


@pytest.mark.realdata
def test_forget_a_real_customer(tmp_path):
    """Erase UCI Online Retail customer 17850 (written 17850.0 in the file) after a run."""
    config = next(p for p in EXAMPLES if p.stem == "geography-online-retail")
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA}")
    db = str(tmp_path / "ex.db")
    assert CliRunner().invoke(cli, ["run", str(config), "--db", db]).exit_code == 0
    before = json.loads(CliRunner().invoke(cli, ["audit", "--db", db, "--json"]).stdout)
    result = CliRunner().invoke(cli, ["forget", "17850.0", "--db", db, "--config", str(config)])
    assert result.exit_code == 0 and "needs-rerun" in result.output and "17850" not in result.output
    after = json.loads(CliRunner().invoke(cli, ["audit", "--db", db, "--json"]).stdout)
    assert after["erasures_since"] == 1 and after["needs_rerun"] and not before["needs_rerun"]
