"""The governed run's own steps, made cheaper without changing what they produce.

Each test pins one shortcut (work done once per distinct value, a result reused instead of
recomputed, a copy avoided) against the plain computation it replaces: same values, same dtypes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.features import event_features, transaction_features
from microseg.loading import normalise_events, normalise_transactions, per_distinct


def _norm(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower()


@pytest.mark.parametrize("values", [
    pd.Series([" SMS", "email", None, "Push ", "sms"] * 3, dtype="str"),
    pd.Series([" SMS", "email", np.nan, "Push ", 3], dtype=object),
    pd.Series([1, 2, 1, 3]),
    pd.Series([1.0, np.nan, 2.5, 1.0]),
    pd.Series([np.nan, np.nan], dtype=object),
    pd.Series([None, None], dtype="str"),
    pd.Series(pd.Categorical(["a ", "B", None, "a "])),
    pd.Series([True, False, True]),
    pd.Series([], dtype="str"),
])
def test_a_transformation_per_distinct_value_equals_it_per_row(values):
    plain = pd.DataFrame({"x": np.arange(len(values))})
    plain["c"] = _norm(values).to_numpy()
    spread = pd.DataFrame({"x": np.arange(len(values)), "c": per_distinct(values, _norm)})
    pd.testing.assert_frame_equal(spread, plain, check_exact=True)


def _source(kind):
    from microseg.config import EventsSource, TransactionsSource
    if kind == "events":
        return EventsSource(path="x.csv", customer_id="cid", timestamp="when", channel="ch", responded="resp",
                            campaign="camp")
    return TransactionsSource(path="x.csv", customer_id="cid", timestamp="when", amount="amt", channel="ch")


def test_normalised_tables_are_the_plain_ones_and_can_be_changed_in_place():
    rng = np.random.default_rng(0)
    n = 500
    raw = pd.DataFrame({"cid": rng.integers(0, 50, n), "when": pd.Timestamp("2024-01-01")
                        + pd.to_timedelta(rng.integers(0, 10**7, n), "s"), "amt": rng.normal(20, 30, n),
                        "ch": pd.Series(rng.choice([" SMS", "Email", "push ", None], n), dtype="str"),
                        "resp": rng.random(n) < 0.2, "camp": rng.integers(0, 4, n).astype("int32")})
    events = normalise_events(raw, _source("events"), "events")
    expected = pd.DataFrame({"customer_id": raw["cid"].to_numpy()})
    expected["ts"] = raw["when"].to_numpy()
    expected["channel"] = _norm(raw["ch"]).to_numpy()
    expected["responded"] = raw["resp"].to_numpy()
    expected["campaign"] = raw["camp"].to_numpy()
    pd.testing.assert_frame_equal(events, expected, check_exact=True)
    tx = normalise_transactions(raw, _source("transactions"), "transactions")
    assert list(tx.columns) == ["customer_id", "ts", "amount", "channel"]
    for frame in (events, tx):                   # no read-only view of the file's frame inside
        frame.loc[0, "customer_id"] = -1
        frame["ts"] = frame["ts"]
    assert raw.loc[0, "cid"] != -1               # and the file's frame is not changed through it


def _transactions(rng, n=4000, customers=300):
    return pd.DataFrame({"customer_id": rng.integers(0, customers + 20, n),
                         "ts": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700 * 86400, n), "s"),
                         "amount": np.round(rng.normal(30, 40, n), 2)})


def test_the_gross_spend_reused_from_the_mixes_total_is_the_one_computed_alone():
    rng = np.random.default_rng(1)
    tx = _transactions(rng)
    ids = pd.Index(np.arange(300), name="customer_id")
    as_of = pd.Timestamp("2024-09-01")
    alone = transaction_features(tx, ids, as_of)
    with_mix = transaction_features(tx.assign(channel=rng.choice(["web", "shop"], len(tx))), ids, as_of)
    assert [c for c in with_mix.columns if not c.startswith("share_")] == list(alone.columns)
    pd.testing.assert_frame_equal(with_mix[alone.columns], alone, check_exact=True)
    before = tx.loc[tx["ts"] < as_of]
    codes = ids.get_indexer(before["customer_id"])
    mine = codes >= 0
    amount = before["amount"].to_numpy()[mine]
    gross = np.bincount(codes[mine], weights=np.where(amount > 0, amount, 0.0), minlength=len(ids))
    freq = alone["frequency"].to_numpy()
    np.testing.assert_array_equal(alone["avg_basket"].to_numpy(), np.where(freq > 0, gross / np.maximum(freq, 1), np.nan))


@pytest.mark.parametrize("dtype", ["str", object, "string", "category"])
def test_event_features_of_text_as_stored_equal_those_of_python_strings(dtype):
    rng = np.random.default_rng(2)
    n = 2000
    channel = pd.Series(rng.choice(["sms", "Email", "push", "é-mail", None], n), dtype=dtype)
    ev = pd.DataFrame({"customer_id": rng.integers(0, 120, n), "responded": rng.random(n) < 0.3, "channel": channel,
                       "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D")})
    ids = pd.Index(np.arange(100), name="customer_id")
    got = event_features(ev, ids, pd.Timestamp("2024-08-01"))
    plain = event_features(ev.assign(channel=channel.astype(object).to_numpy()), ids, pd.Timestamp("2024-08-01"))
    pd.testing.assert_frame_equal(got, plain, check_exact=True)


# ------------------------------------------------------------------------------- the store write
def test_members_digest_sorts_only_what_is_not_sorted():
    from microseg.privacy.release_record import members_digest
    rng = np.random.default_rng(3)
    members = np.sort(rng.choice(10_000, 700, replace=False))
    plain = __import__("hashlib").sha256(np.sort(members).astype("<i8").tobytes()).hexdigest()[:32]
    assert members_digest(members) == plain
    assert members_digest(rng.permutation(members)) == plain
    assert members_digest(members.astype(np.int32)) == plain
    assert members_digest(np.array([], np.int64)) == members_digest(np.array([], np.int32))


@pytest.mark.parametrize("keys", [["a1", "b2", "c3"], ["a1", None, "c3"], [1, 2, 3], [None, None, None], []])
def test_table_digest_takes_text_keys_as_they_are_and_converts_the_others(keys):
    import hashlib

    from microseg.privacy.release_record import table_digest
    nos, lists = np.arange(len(keys)), ["[1]"] * len(keys)
    h = hashlib.sha256(np.asarray(nos, dtype="<i8").tobytes())
    h.update("\x1f".join("" if k is None else str(k) for k in keys).encode())
    h.update("\x1e".join(lists).encode())
    assert table_digest(nos, keys, lists) == h.hexdigest()


@pytest.mark.parametrize("keys", [np.array(["a", "b"], dtype=object), np.array(["a", None, 3], dtype=object),
                                  np.array(["x", "yz"]), np.array([4, 5])])
def test_stored_keys_are_the_texts_of_the_keys(keys):
    from microseg.store.store import _texts
    got = _texts(keys)
    assert got == keys.astype(str).tolist() and all(type(v) is str for v in got)


def test_memberships_name_the_ids_the_segments_were_stored_with(tmp_path):
    """Segments are inserted without RETURNING and their ids read back: each customer's stored list
    holds the ids of exactly its segments, also with an earlier run's segments in the table."""
    from microseg.privacy.pseudonym import pseudonymise
    from microseg.store import Store
    key = b"k" * 32
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    row = {"as_of": "2024-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
           "plugin_versions": "{}", "timings": "{}", "n_customers": 40, "k": 2, "report": "{}"}
    labels = ["z", "a", "m", "b"]
    segments = [{"key": f"f:{x}", "family": "f", "method": "m", "label": x, "description": "", "parent_key": None,
                 "size": 10, "status": "released", "released_as": None, "reason": "", "released_size": 10}
                for x in labels]
    rng = np.random.default_rng(4)
    members = {f"f:{x}": np.sort(rng.choice(40, 10, replace=False)) for x in labels}
    for _ in range(2):
        run_id = store.write_run(row, segments, members, pseudonymise(range(40), key), None, [], key)
    by_id = {s.id: s.key for s in store.segments(run_id)}
    assert [by_id[i] for i in sorted(by_id)] == [s["key"] for s in segments]
    got = store.memberships(run_id)
    for seg_key, nos in members.items():
        assert sorted(got.loc[got["segment_id"].map(by_id) == seg_key, "customer_no"]) == nos.tolist()


# ------------------------------------------------------------------------------- spend windows
def test_buckets_by_lookup_are_the_binary_search_ones():
    from microseg.data import BUCKET_TABLE, buckets
    rng = np.random.default_rng(5)
    for _ in range(2000):
        step = int(rng.choice([1, 7, 3600 * 5, 86400]))
        edges = np.unique(rng.integers(-50, 50, rng.integers(1, 8)) * step + int(rng.integers(-10**6, 10**6)))
        values = rng.integers(edges.min() - 100 * step, edges.max() + 100 * step, rng.integers(0, 300))
        expected = np.searchsorted(edges, values, side="right") - 1
        got = buckets(values, edges)
        assert got.dtype == expected.dtype and (got == expected).all()
    wide = np.array([0, 1, BUCKET_TABLE + 7])              # no common step: the binary search
    values = np.arange(-3, BUCKET_TABLE + 10, 997)
    assert (buckets(values, wide) == np.searchsorted(wide, values, side="right") - 1).all()


def test_window_spends_over_day_bounds_are_the_per_window_sums():
    from microseg.data import CustomerData
    rng = np.random.default_rng(6)
    tx = _transactions(rng, n=6000)
    ids = pd.Index(np.arange(300), name="customer_id")
    data = CustomerData(customers=pd.DataFrame(index=ids), transactions=tx.loc[tx["customer_id"] < 300],
                        as_of=pd.Timestamp("2025-01-01"))
    cutoffs = [pd.Timestamp("2024-12-01") - pd.Timedelta(days=30 * i) for i in range(8)]
    windows = [(c - pd.Timedelta(days=182), c) for c in cutoffs] + [(pd.Timestamp("2023-03-05 10:17:03"),
                                                                       pd.Timestamp("2023-09-01"))]
    got = data.window_spends(ids, windows)
    for j, (start, end) in enumerate(windows):
        inside = tx.loc[(tx["ts"] >= start) & (tx["ts"] < end) & (tx["customer_id"] < 300)]
        expected = inside.groupby("customer_id")["amount"].sum().reindex(ids, fill_value=0.0).to_numpy()
        np.testing.assert_allclose(got[:, j], np.round(expected, 6), rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------- the gate
@pytest.mark.parametrize("high", [1, 16, 2**15 - 1, 2**15, 2**31 - 1])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_stable_order_is_numpys_stable_argsort(high, dtype):
    from microseg.privacy.gate import stable_order
    rng = np.random.default_rng(7)
    for n in (0, 1, 5000):
        codes = rng.integers(0, high + 1, n).astype(dtype)
        np.testing.assert_array_equal(stable_order(codes), np.argsort(codes, kind="stable"))
