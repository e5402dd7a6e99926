"""The rules method: grammar, positioned errors, modes, real-data slices, property tests."""
from __future__ import annotations

import operator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_file
from microseg.errors import ConfigError
from microseg.plugins.rules import Rules
from microseg.plugins.rules.evaluate import evaluate
from microseg.plugins.rules.parser import parse

FRAME = pd.DataFrame({
    "age": [17, 25, 40, 70, np.nan],
    "Country": ["United Kingdom", "Norway", "EIRE", "United Kingdom", None],
    "email": ["a@example.com", "b@shop.org", None, "d@example.com", "e@x.io"],
    "signup": pd.to_datetime(["2024-05-20", "2023-01-01", "2024-06-01", None, "2020-01-01"]),
    "vip": [True, False, False, True, False],
    "native-country": ["United-States", "Mexico", "United-States", "India", None],
}, index=["a", "b", "c", "d", "e"])
AS_OF = pd.Timestamp("2024-06-10")


def mask(expr: str) -> list[bool]:
    return evaluate(parse(expr), FRAME, AS_OF, expr, "t").tolist()


@pytest.mark.parametrize("expr, expected", [
    ("age >= 65", [False, False, False, True, False]),
    ("age between 18 and 40", [False, True, True, False, False]),
    ("Country in ('United Kingdom', 'EIRE')", [True, False, True, True, False]),
    ("Country not in ('United Kingdom')", [False, True, True, False, False]),
    ("Country contains 'King'", [True, False, False, True, False]),
    ("Country startswith 'No'", [False, True, False, False, False]),
    ("email matches '@example\\.com$'", [True, False, False, True, False]),
    ("email is null", [False, False, True, False, False]),
    ("email is not null and not vip", [False, True, False, False, True]),
    ("signup >= as_of - 30 days", [True, False, True, False, False]),
    ("signup < as_of - 1 year", [False, True, False, False, True]),
    ("signup < date('2021-01-01')", [False, False, False, False, True]),
    ("vip or (age < 20 and Country == 'United Kingdom')", [True, False, False, True, False]),
    ("`native-country` == 'United-States'", [True, False, True, False, False]),
    ("AGE >= 65" .replace("AGE", "age").upper().replace("AGE", "age"), [False, False, False, True, False]),
    ("age != 25", [True, False, True, True, False]),          # nulls never match a comparison
])
def test_grammar(expr, expected):
    assert mask(expr) == expected


@pytest.mark.parametrize("expr, message, pos", [
    ("agee >= 65", "unknown column 'agee'", 1),
    ("age >= ", "ends too early", 8),
    ("age >> 3", "unexpected input", 6),
    ("Country > 3", "cannot compare text with number", 1),
    ("age contains 'x'", "'contains' needs a text column", 1),
    ("email matches '('", "bad regular expression", 16),
    ("age in ('a')", "'in' list values must be numbers", 1),
])
def test_errors_point_at_position_and_name_segment(expr, message, pos):
    with pytest.raises(ConfigError) as exc:
        Rules(segments=[{"name": "Seniors", "when": expr}]).fit(FRAME).assign(FRAME)
    text = str(exc.value)
    assert "rules segment 'Seniors'" in text and message in text and f"position {pos}" in text
    assert text.splitlines()[-1].index("^") - 4 == pos - 1        # caret under the position


def test_first_match_and_default():
    r = Rules(segments=[{"name": "Seniors", "when": "age >= 65"}, {"name": "UK", "when": "Country == 'United Kingdom'"}],
              default="Rest")
    assert r.fit(FRAME).assign(FRAME).tolist() == ["UK", "Rest", "Rest", "Seniors", "Rest"]
    assert r.describe("Rest") == "customers matching no rule" and "age >= 65" in r.describe("Seniors")


def test_multi_membership_repeats_customers():
    r = Rules(mode="multi", segments=[{"name": "Seniors", "when": "age >= 65"},
                                      {"name": "UK", "when": "Country == 'United Kingdom'"}])
    labels = r.fit(FRAME).assign(FRAME)
    assert labels.loc["d"].tolist() == ["Seniors", "UK"] and labels.loc["b"] == "Other"
    assert not labels.index.is_unique


def test_as_of_comes_from_data():
    class D:
        as_of = pd.Timestamp("2024-06-10")
    r = Rules(segments=[{"name": "New", "when": "signup >= as_of - 30 days"}])
    assert r.fit(FRAME, data=D()).assign(FRAME, data=D()).tolist()[:3] == ["New", "Other", "New"]


@pytest.mark.parametrize("params, match", [
    ({}, "at least one segment"), ({"segments": [{"name": "x"}]}, "needs 'name' and 'when'"),
    ({"segments": [{"name": "x", "when": "age > 1"}], "mode": "all"}, "mode"),
    ({"segments": [{"name": "x", "when": "age > 1"}, {"name": "x", "when": "age > 2"}]}, "used twice"),
])
def test_bad_params(params, match):
    with pytest.raises(ConfigError, match=match):
        Rules(**params).fit(FRAME)


@pytest.mark.realdata
def test_geography_on_online_retail_slice():
    tx = pd.read_csv(shared_file("online_retail.csv.gz"), nrows=30_000).dropna(subset=["CustomerID"])
    customers = tx.groupby(tx["CustomerID"].astype(int))["Country"].last().to_frame()
    r = Rules(segments=[{"name": "UK", "when": "Country == 'United Kingdom'"},
                        {"name": "Nordics", "when": "Country in ('Norway', 'Sweden', 'Denmark', 'Finland', 'Iceland')"}],
              default="Rest of world")
    labels = r.fit(customers).assign(customers)
    assert (labels == "UK").sum() == (customers["Country"] == "United Kingdom").sum()
    assert set(labels) <= {"UK", "Nordics", "Rest of world"}


@pytest.mark.realdata
def test_demographics_on_bank_marketing_slice():
    bank = pd.read_csv(shared_file("bank_marketing_full.csv.gz"), sep=";", nrows=5000)
    r = Rules(segments=[{"name": "Young singles", "when": "age < 30 and marital == 'single'"},
                        {"name": "Retired", "when": "job == 'retired' or age >= 65"},
                        {"name": "Graduates", "when": "education == 'tertiary'"}])
    labels = r.fit(bank).assign(bank)
    young = (bank["age"] < 30) & (bank["marital"] == "single")
    assert (labels == "Young singles").sum() == young.sum()
    retired = ~young & ((bank["job"] == "retired") | (bank["age"] >= 65))
    assert (labels == "Retired").sum() == retired.sum()


OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-50, 50)), min_size=1, max_size=30),
       st.sampled_from(list(OPS)), st.integers(-50, 50))
def test_comparisons_match_a_pandas_reference(values, op, literal):
    frame = pd.DataFrame({"x": pd.array(values, dtype="Float64").astype("float64")})
    got = evaluate(parse(f"x {op} {literal}"), frame, AS_OF)
    ref = OPS[op](frame["x"], literal).to_numpy() & frame["x"].notna().to_numpy()
    assert got.tolist() == ref.tolist()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parser_only_raises_config_errors(text):
    try:
        parse(text, "fuzz")
    except ConfigError:
        pass


names = st.sampled_from(["age", "x", "`a b`"])
atoms = st.builds(lambda c, o, n: f"{c} {o} {n}", names, st.sampled_from(list(OPS)), st.integers(-9, 99))


@settings(max_examples=200, deadline=None)
@given(st.recursive(atoms, lambda inner: st.one_of(
    st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
    st.builds(lambda a, b: f"{a} or {b}", inner, inner),
    st.builds(lambda a: f"not ({a})", inner)), max_leaves=8))
def test_generated_expressions_parse(expr):
    parse(expr)
