"""Guards for the CLI's conventions: every command documents an example, prints JSON on request,
takes RUN as optional (the latest run), and the CLI starts without the heavy libraries."""
from __future__ import annotations

import json
import subprocess
import sys

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import write_shop_config
from microseg.cli import cli

COMMANDS = sorted(cli.commands)
HEAVY = ("pandas", "numpy", "sklearn", "lightgbm", "presidio_analyzer", "spacy", "sqlmodel", "sqlalchemy", "scipy")


def test_there_are_commands():
    assert {"init", "check", "run", "segments", "export", "audit", "scan", "plugins", "demo", "forget",
            "keygen"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"microseg {name}" in result.output.split("Example", 1)[1]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_takes_json(name):
    assert "--json" in {opt for p in cli.commands[name].params for opt in p.opts}


@pytest.mark.parametrize("name", COMMANDS)
def test_run_arguments_default_to_the_latest_run(name):
    for p in cli.commands[name].params:
        if isinstance(p, click.Argument) and p.name in ("run_id", "run", "run_a", "run_b"):
            assert not p.required or p.name in ("run_a", "run_b"), f"{name}: RUN must be optional"


def test_top_level_help_has_an_example():
    assert "Example" in CliRunner().invoke(cli, ["--help"]).output


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _modules_after("import microseg.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_help_of_every_command_loads_no_heavy_library():
    code = ("from microseg.cli import cli\nimport contextlib, io\n"
            "for name in sorted(cli.commands):\n"
            "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "        cli([name, '--help'])")
    loaded = _modules_after(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_import_microseg_is_lazy_and_exposes_the_api():
    loaded = _modules_after("import microseg\nassert callable(microseg.api.run) and callable(microseg.run)"
                            "\nassert 'run' in dir(microseg) and microseg.run is microseg.api.run")
    assert not {"sklearn", "lightgbm", "presidio_analyzer"} & loaded
    bare = _modules_after("import microseg")
    assert not bare & set(HEAVY)


def test_json_outputs_parse(tmp_path, monkeypatch):
    """init, keygen, run, export, forget and plugins print one JSON document with --json."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    init = json.loads(runner.invoke(cli, ["init", "--json"]).stdout)
    assert init["config"] == "microseg.toml" and init["new_key"]
    assert json.loads(runner.invoke(cli, ["keygen", "k2", "--json"]).stdout) == {"key": "k2"}
    cfg = write_shop_config(tmp_path / "shop", k=20)
    db = str(tmp_path / "s.db")
    assert runner.invoke(cli, ["run", str(cfg), "--db", db, "--json"]).exit_code == 0
    export = json.loads(runner.invoke(cli, ["export", "--out", "e.csv", "--db", db, "--json"]).stdout)
    assert export["run_id"] == 1 and export["rows"] > 0 and "customer" in export["columns"]
    customers = pd.read_csv(tmp_path / "shop" / "customers.csv")
    released = customers.loc[customers["consent_marketing"], "customer_id"].iloc[0]
    forget = json.loads(runner.invoke(cli, ["forget", released, "--db", db, "--config", str(cfg), "--json"]).stdout)
    assert forget["runs"] == [1]
    assert isinstance(json.loads(runner.invoke(cli, ["plugins", "--json"]).stdout), list)


def test_segments_reads_the_store_without_pandas_or_scipy(tmp_path):
    cfg = write_shop_config(tmp_path, k=20)
    db = str(tmp_path / "s.db")
    assert CliRunner().invoke(cli, ["run", str(cfg), "--db", db]).exit_code == 0
    loaded = _modules_after("from microseg.cli import cli\nimport contextlib, io\n"
                            f"with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
                            f"    cli(['segments', '--db', {db!r}, '--json'])")
    assert not {"pandas", "scipy", "sklearn", "lightgbm", "presidio_analyzer"} & loaded
