"""The pyarrow fast paths of the data step equal pandas' own operations: id membership and
positions (consent, unknown customers), text columns and ids kept as pyarrow strings in the
normalised tables, and a profiling refusal still removes the customer from every table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.config import PrivacyPolicy, TransactionsSource, EventsSource
from microseg.data import CustomerData, is_in, positions
from microseg.loading import _ids_from_text, id_column, normalise_events, normalise_ids, normalise_transactions
from microseg.loading import plain_column
from microseg.pipeline import apply_consent

WORDS = ["C001", "C002", "c003", "Ä-4", "", " C005 ", "nan", "12", "1e3", "007", "x y"]


def _strings(rng: np.random.Generator, n: int, missing: float = 0.0, dtype: str = "str") -> pd.Series:
    values = rng.choice(np.array(WORDS, dtype=object), n)
    values[rng.random(n) < missing] = None
    return pd.Series(values, dtype=dtype)


def _arrow_type(values: pd.Series | pd.Index) -> object:
    array = values.array
    return array.__arrow_array__().type if isinstance(array, pd.arrays.ArrowStringArray) else type(array)


def _assert_same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    for column in expected.columns:
        assert _arrow_type(got[column]) == _arrow_type(expected[column]), column


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [0, 1, 7, 500])
@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_is_in_equals_pandas_isin(seed, n, missing):
    rng = np.random.default_rng(seed)
    values = _strings(rng, n, missing)
    for keep in (pd.Index(_strings(rng, int(rng.integers(0, 8)), missing)), pd.Index([], dtype="str"),
                 pd.Index(["C001", "C001", "12"]), pd.Index([12, 7]), pd.Index(["C001", None], dtype="object"),
                 pd.Index(_strings(rng, 5, 0.0, "string[pyarrow]"))):
        expected = np.asarray(values.isin(keep), dtype=bool)
        np.testing.assert_array_equal(is_in(values, keep), expected)
        np.testing.assert_array_equal(is_in(pd.Index(values), keep), np.asarray(pd.Index(values).isin(keep)))


def test_is_in_on_chunked_and_numeric_ids():
    part = pd.Series(["a", "b", "c"], dtype="str")
    chunked = pd.concat([part, part, part.iloc[:1]], ignore_index=True)
    keep = pd.concat([pd.Series(["b"], dtype="str"), pd.Series(["z"], dtype="str")], ignore_index=True)
    np.testing.assert_array_equal(is_in(chunked, pd.Index(keep)), chunked.isin(pd.Index(keep)).to_numpy())
    ints = pd.Series([3, 1, 2, 3])
    np.testing.assert_array_equal(is_in(ints, pd.Index([3, 9])), ints.isin(pd.Index([3, 9])).to_numpy())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [0, 1, 300])
def test_positions_equal_get_indexer(seed, n):
    rng = np.random.default_rng(seed)
    ids = pd.Index(pd.unique(_strings(rng, 40)), dtype="str")
    values = _strings(rng, n, 0.1)
    got = positions(ids, values)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, ids.get_indexer(values.to_numpy()).astype(np.int32))
    as_objects = pd.Index(ids.to_numpy(dtype=object), dtype=object)
    np.testing.assert_array_equal(positions(as_objects, values), got)


def test_positions_of_repeated_ids_fail_as_before():
    ids = pd.Index(["a", "b", "a"], dtype="str")
    with pytest.raises(pd.errors.InvalidIndexError):
        ids.get_indexer(np.array(["a"], dtype=object))
    with pytest.raises(pd.errors.InvalidIndexError):
        positions(ids, pd.Series(["a"], dtype="str"))


def _old_ids_from_text(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip()
    as_num = pd.to_numeric(text, errors="coerce")
    if as_num.notna().all() and np.all(as_num.to_numpy() % 1 == 0):
        return as_num.astype("int64")
    return text.astype(object)


@pytest.mark.parametrize("values", [["C1", "2"], ["2", "C1"], ["nan", "1"], ["", "1"], [" 12 ", "7"], ["1e3", "2"],
                                    ["1.5", "2"], ["x"], [], ["0x10"], ["inf", "1"], ["99999999999999999999", "1"],
                                    ["007", "8"]])
@pytest.mark.parametrize("dtype", ["str", "object"])
def test_text_ids_are_converted_as_before(values, dtype):
    series = pd.Series(values, dtype=dtype)
    pd.testing.assert_series_equal(_ids_from_text(series), _old_ids_from_text(series))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", ["str", "object", "string[pyarrow]"])
@pytest.mark.parametrize("kind", ["text", "numbers", "mixed", "one", "empty"])
def test_id_column_is_the_ids_a_frame_would_hold(seed, dtype, kind):
    rng = np.random.default_rng(seed)
    words = {"text": ["C1", " C2", "c3 ", "Ä"], "numbers": ["1", " 2", "30 ", "17850"], "mixed": ["1", "C2"],
             "one": ["C9"], "empty": []}[kind]
    n = 0 if kind == "empty" else (1 if kind == "one" else 200)
    values = pd.Series(rng.choice(np.array(words or ["x"], dtype=object), n), dtype=dtype)
    expected = pd.DataFrame({"customer_id": normalise_ids(values, "f", "c").to_numpy()})
    _assert_same_frame(pd.DataFrame({"customer_id": id_column(values, "f", "c")}), expected)


@pytest.mark.parametrize("values", [[1.0, 2.0], [1, 2], ["C1", None], [None, None], ["a"], []])
def test_id_column_of_numbers_and_missing_ids(values):
    series = pd.Series(values, dtype="float64" if values == [1.0, 2.0] else None)
    expected = pd.DataFrame({"customer_id": normalise_ids(series, "f", "c").to_numpy()})
    _assert_same_frame(pd.DataFrame({"customer_id": id_column(series, "f", "c")}), expected)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", ["str", "object", "string[pyarrow]", "category"])
@pytest.mark.parametrize("missing", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("n", [0, 1, 100])
def test_plain_column_is_the_column_a_frame_would_hold(seed, dtype, missing, n):
    values = _strings(np.random.default_rng(seed), n, missing, dtype)
    _assert_same_frame(pd.DataFrame({"c": plain_column(values)}), pd.DataFrame({"c": values.to_numpy()}))


def test_plain_column_of_numbers_and_a_chunked_column():
    for values in (pd.Series([1, 2]), pd.Series([1.5, np.nan]), pd.Series([True, False])):
        _assert_same_frame(pd.DataFrame({"c": plain_column(values)}), pd.DataFrame({"c": values.to_numpy()}))
    part = pd.Series(["a", None], dtype="str")
    chunked = pd.concat([part, part], ignore_index=True)
    pd.testing.assert_frame_equal(pd.DataFrame({"c": plain_column(chunked)}), pd.DataFrame({"c": chunked.to_numpy()}))


def test_a_normalised_table_changed_in_place_leaves_the_source_alone():
    raw = pd.DataFrame({"customer_id": ["C1", "C2"], "ts": ["2025-01-01", "2025-01-02"], "amount": [1.0, 2.0],
                        "channel": ["web", "shop"]})
    src = TransactionsSource(path="x.csv", customer_id="customer_id", timestamp="ts", amount="amount",
                             channel="channel")
    out = normalise_transactions(raw, src, "tx")
    out.loc[0, "channel"] = "changed"
    out.loc[1, "customer_id"] = "C9"
    assert raw["channel"].tolist() == ["web", "shop"] and raw["customer_id"].tolist() == ["C1", "C2"]


def _raw_tables(rng: np.random.Generator, dtype: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = 400
    who = pd.Series(rng.choice(np.array([f" C{i:03d}" for i in range(60)], dtype=object), n), dtype=dtype)
    text = lambda words, missing=0.0: _strings(rng, n, missing, dtype).map(  # noqa: E731
        lambda v: v if v is None or v is np.nan else words[hash(v) % len(words)]).astype(dtype)
    tx = pd.DataFrame({"cid": who, "when": pd.Series(pd.date_range("2025-01-01", periods=n, freq="h").astype(str),
                                                        dtype=dtype),
                       "amount": rng.gamma(2.0, 10.0, n), "channel": text(["web", "shop"], 0.1),
                       "category": text(["food", "toys", "home"]), "invoice": text(["I1", "I2", "I3"])})
    ev = pd.DataFrame({"cid": who, "when": tx["when"], "channel": text(["Email ", "sms"]),
                       "responded": pd.Series(rng.choice(["yes", "no"], n), dtype=dtype),
                       "campaign": text(["spring", "summer"], 0.2),
                       "group": pd.Series(rng.choice(["control", "treated"], n), dtype=dtype)})
    return tx, ev


@pytest.mark.parametrize("seed", range(3))
def test_normalised_tables_from_str_columns_equal_those_from_python_strings(seed):
    tx_src = TransactionsSource(path="x.csv", customer_id="cid", timestamp="when", amount="amount", channel="channel",
                                category="category", invoice="invoice")
    ev_src = EventsSource(path="e.csv", customer_id="cid", timestamp="when", channel="channel", responded="responded",
                          campaign="campaign", treatment="group", control_value="control")
    fast = _raw_tables(np.random.default_rng(seed), "str")
    slow = _raw_tables(np.random.default_rng(seed), "object")
    _assert_same_frame(normalise_transactions(fast[0], tx_src, "tx"), normalise_transactions(slow[0], tx_src, "tx"))
    _assert_same_frame(normalise_events(fast[1], ev_src, "ev"), normalise_events(slow[1], ev_src, "ev"))


def _consent_data(dtype: str, seed: int) -> CustomerData:
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"C{i:04d}" for i in rng.permutation(300)], dtype=dtype, name="customer_id")
    customers = pd.DataFrame({"consent_profiling": rng.choice(["yes", "no"], len(ids), p=[0.8, 0.2]),
                              "age": rng.integers(18, 90, len(ids))}, index=ids)
    who = rng.choice(np.r_[ids.to_numpy(dtype=object), ["C9999"]], 4_000)
    tx = pd.DataFrame({"customer_id": pd.Series(who, dtype=dtype),
                       "ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, len(who)), "D"),
                       "amount": rng.gamma(2.0, 20.0, len(who))})
    ev_who = rng.choice(np.r_[ids.to_numpy(dtype=object), ["C9998"]], 900)
    ev = pd.DataFrame({"customer_id": pd.Series(ev_who, dtype=dtype), "channel": rng.choice(["sms", "email"], 900),
                       "ts": pd.Timestamp("2025-06-01") + pd.to_timedelta(rng.integers(0, 100, 900), "D"),
                       "responded": rng.random(900) < 0.3})
    return CustomerData(customers=customers, transactions=tx, events=ev, as_of=pd.Timestamp("2026-01-01"))


@pytest.mark.parametrize("seed", range(3))
def test_a_customer_who_refused_profiling_is_in_no_table(seed):
    policy = PrivacyPolicy(consent={"profiling": "consent_profiling"})
    data = _consent_data("str", seed)
    refused = set(data.customers.index[data.customers["consent_profiling"] == "no"])
    assert refused
    out, masks = apply_consent(data, policy)
    assert len(masks.marketing) == len(out.ids)
    for table in (out.transactions["customer_id"], out.events["customer_id"], pd.Series(out.customers.index),
                  pd.Series(out.features().index)):
        assert not refused & set(table)
    assert not {"C9999", "C9998"} & (set(out.transactions["customer_id"]) | set(out.events["customer_id"]))
    slow, _ = apply_consent(_consent_data("object", seed), policy)     # pandas' own isin / get_indexer
    for name in ("customers", "transactions", "events"):
        got, expected = getattr(out, name), getattr(slow, name)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)
    pd.testing.assert_frame_equal(out.features(), slow.features(), check_index_type=False)
    np.testing.assert_array_equal(out.ev_codes(out.ids), slow.ev_codes(slow.ids))
