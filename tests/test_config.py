"""Config parsing: errors name the key; the starter config is valid."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.config import parse_config
from microseg.errors import ConfigError
from microseg.starter import STARTER_CONFIG

BASE = """
[sources.transactions]
path = "tx.csv"
customer_id = "id"
timestamp = "ts"
amount = "amount"
"""


def test_starter_config_is_valid():
    cfg = parse_config(STARTER_CONFIG)
    assert [m.instance_id for m in cfg.methods] == ["rfm", "lifestage", "region"]
    assert cfg.microsegments.dimensions == ["rfm", "region"]
    assert cfg.privacy.min_segment_size == 50


@pytest.mark.parametrize("extra, key", [
    ("[privacy]\nmin_segment_size = 1\n", "privacy.min_segment_size"),
    ("[privacy]\nsmall_segments = 'drop'\n", "privacy.small_segments"),
    ("[[methods]]\nmethod = 'rfm'\nparamz = {}\n", "unknown key 'paramz' in methods[0]; did you mean 'params'?"),
    ("[microsegments]\ndimensions = ['nope']\n", "microsegments.dimensions"),
    ("[release]\ncustomer_ids = 'raw'\n", "release.customer_ids"),
    ("as_of = 'yesterday'\n", "as_of"),
])
def test_errors_name_the_key(extra, key):
    with pytest.raises(ConfigError) as exc:
        parse_config(extra + BASE if extra.startswith("as_of") else BASE + extra)
    assert key in str(exc.value)
    assert exc.value.exit_code == 2


def test_duplicate_method_ids_need_their_own_id():
    text = BASE + "[[methods]]\nmethod = 'rfm'\n[[methods]]\nmethod = 'rfm'\n"
    with pytest.raises(ConfigError, match="duplicate method id 'rfm'"):
        parse_config(text)
    ok = parse_config(BASE + "[[methods]]\nmethod = 'rfm'\n[[methods]]\nid = 'rfm2'\nmethod = 'rfm'\n")
    assert [m.instance_id for m in ok.methods] == ["rfm", "rfm2"]


def test_amount_or_quantity_and_price():
    with pytest.raises(ConfigError, match="sources.transactions"):
        parse_config(BASE.replace('amount = "amount"', 'quantity = "q"'))
    cfg = parse_config(BASE.replace('amount = "amount"', 'quantity = "q"\nunit_price = "p"'))
    assert cfg.sources.transactions.quantity == "q"


def test_needs_customers_or_transactions():
    with pytest.raises(ConfigError, match="sources"):
        parse_config("[sources]\n")


def test_invalid_toml_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[sources\n")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_config_error_or_config(text):
    try:
        parse_config(text)
    except ConfigError:
        pass
