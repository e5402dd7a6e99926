"""PII scan: column kinds, the failure cases of presidio-structured, plugins, offline, no values out."""
from __future__ import annotations

import json
import re
import socket
import types

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from conftest import shared_file
from microseg.registry import Registry
from microseg.privacy.scan import scan_file, scan_frame

KEYS = {"column", "kind", "entity", "share", "score", "action"}


@pytest.fixture(scope="module")
def reg():
    return Registry(entry_points=False)


@pytest.fixture(scope="module")
def demo_customers():
    from microseg.demo import generate
    return generate(2000)["customers"]


def kinds(findings):
    return {f.column: (f.kind, f.entity) for f in findings}


def test_demo_columns(reg, demo_customers):
    got = kinds(scan_frame(demo_customers, registry=reg))
    assert got["customer_id"] == ("identifier", "CUSTOMER_ID")
    assert got["email"] == ("direct", "EMAIL_ADDRESS") and got["phone"] == ("direct", "PHONE_NUMBER")
    assert got["first_name"][0] == got["last_name"][0] == got["address"][0] == "direct"
    assert got["birth_date"] == ("quasi", "DATE_OF_BIRTH")
    for col in ("age", "gender", "postcode", "city"):
        assert got[col][0] == "quasi", col
    assert got["notes"] == ("direct", "PII_IN_TEXT")             # a phone number inside free text
    assert got["referrals"][0] == got["consent_marketing"][0] == "none"


def test_amounts_are_not_phones_and_phones_are_not_nhs(reg):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"amount": np.round(rng.uniform(1000, 9999, 500), 2),
                       "amount_text": [f"{v:.2f}" for v in rng.uniform(1000, 9999, 500)],
                       "phone": [f"07{rng.integers(100000000, 999999999)}" for _ in range(500)],
                       "contact": [f"+44 20 7{rng.integers(100, 999)} {rng.integers(1000, 9999)}" for _ in range(500)]})
    got = kinds(scan_frame(df, registry=reg))
    assert got["amount"] == ("none", None) and got["amount_text"] == ("none", None)
    assert got["phone"] == ("direct", "PHONE_NUMBER") and got["contact"] == ("direct", "PHONE_NUMBER")


def test_output_shape_and_actions(reg, demo_customers):
    findings = scan_frame(demo_customers, registry=reg)
    assert [f.column for f in findings] == list(demo_customers.columns)
    for f in findings:
        d = f.as_dict()
        assert KEYS <= set(d) and d["kind"] in ("identifier", "direct", "quasi", "sensitive", "none")
        assert 0 <= d["share"] <= 1
    actions = {f.column: f.action for f in findings}
    assert actions["customer_id"] == "pseudonymise" and actions["age"] == "generalise" and actions["email"] == "drop"


@pytest.mark.realdata
def test_real_tables(reg):
    names = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
             "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]
    adult = kinds(scan_file(shared_file("adult.data.gz"), sep=", ", header=False, names=names, registry=reg))
    for col in ("age", "sex", "race", "native-country", "education"):
        assert adult[col][0] == "quasi", col
    assert adult["income"][0] != "direct" and adult["fnlwgt"][0] == "none"
    retail = kinds(scan_file(shared_file("online_retail.csv.gz"), registry=reg, max_rows=50_000))
    assert retail["CustomerID"][0] == "identifier"
    assert retail["Quantity"] == retail["UnitPrice"] == retail["Description"] == ("none", None)
    bank = kinds(scan_file(shared_file("bank_marketing_full.csv.gz"), registry=reg))
    assert bank["age"][0] == "quasi" and bank["balance"] == ("none", None) and bank["y"] == ("none", None)


def test_third_party_recognizers_change_the_scan():
    from presidio_analyzer import Pattern, PatternRecognizer

    from microseg import hookimpl
    from microseg.privacy.recognizers import ColumnNameRecognizer
    df = pd.DataFrame({"tier": ["gold", "silver"] * 50, "card": [f"LOY-{i:06d}" for i in range(100)]})
    before = kinds(scan_frame(df, registry=Registry(entry_points=False)))
    assert before["tier"] == before["card"] == ("none", None)

    plugin = types.SimpleNamespace(register_recognizers=hookimpl(lambda register: [
        register(ColumnNameRecognizer("loyalty tier", "LOYALTY_TIER", "quasi", [r"tier"])),
        register(PatternRecognizer(supported_entity="LOYALTY_CARD", name="loyalty card",
                                   patterns=[Pattern("card", r"\bLOY-\d{6}\b", 0.9)]))]))
    reg = Registry(entry_points=False)
    reg.register(plugin, name="loyalty")
    after = kinds(scan_frame(df, registry=reg))
    assert after["tier"] == ("quasi", "LOYALTY_TIER") and after["card"] == ("direct", "LOYALTY_CARD")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*_a, **_k):
        raise OSError("network access attempted during an offline test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_scan_is_offline(no_network, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from microseg.privacy import scan as scan_module
    scan_module._analyzer.cache_clear()
    from microseg.privacy.nlp_offline import offline_tld_extractor
    offline_tld_extractor.cache_clear()
    df = pd.DataFrame({"email": [f"someone{i}@example.co.uk" for i in range(50)],
                       "note": ["write to a.person@example.org please"] * 50})
    got = kinds(scan_frame(df, registry=Registry(entry_points=False)))
    assert got["email"] == ("direct", "EMAIL_ADDRESS") and got["note"][0] == "direct"
    assert not (tmp_path / "cache").exists()                  # nothing cached outside the project


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data_frames([column("a", dtype=str), column("b", dtype=float), column("note", elements=st.text(max_size=30))]))
def test_random_frames_never_leak_values(reg, df):
    """Findings hold only the column name, fixed words, an entity label and numbers: never a value."""
    findings = scan_frame(df, registry=reg)
    assert [f.column for f in findings] == list(df.columns)
    for f in findings:
        d = f.as_dict()
        assert d["kind"] in ("identifier", "direct", "quasi", "sensitive", "none")
        assert d["entity"] is None or re.fullmatch(r"[A-Z_]+", d["entity"])
        assert isinstance(d["share"], float) and isinstance(d["score"], float)
        assert re.fullmatch(r"[a-z+]+", d["action"]) and re.fullmatch(r"[a-z+]+", d["evidence"])
        assert set(d) == KEYS | {"evidence"}


def test_scan_cli_json(tmp_path, demo_customers):
    from microseg.cli import cli
    path = tmp_path / "people.csv"
    demo_customers.head(300).to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["scan", str(path), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == demo_customers.shape[1] and all(KEYS <= set(r) for r in rows)
    assert CliRunner().invoke(cli, ["scan", str(tmp_path / "missing.csv")]).exit_code == 2
