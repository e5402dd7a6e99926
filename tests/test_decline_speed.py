"""clv-decline's speed-ups give the same numbers as the straightforward code they replace."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.plugins._lgbm import Texts, as_levels, prepare, prepare_columns, text_codes


def _levels_by_row(values: pd.Series, levels: list) -> pd.Categorical:
    """The definition: every row's text looked up in ``levels`` (unseen ones become missing)."""
    text = values.astype("string")
    return pd.Categorical(text.where(text.isin(levels)), categories=levels)


def _text_columns() -> list[pd.Series]:
    rng = np.random.default_rng(11)
    words = np.array(["North", "South", "East", None, "Nowhere", "app"], dtype=object)
    drawn = rng.choice(words, 2_000)
    return [pd.Series(drawn, dtype=object), pd.Series(drawn).astype("string[pyarrow]"),
            pd.Series(drawn).astype("string[python]"), pd.Series(drawn).astype("category"),
            pd.Series(rng.integers(0, 4, 500)).astype(object), pd.Series([], dtype=object),
            pd.Series([None, None], dtype=object), pd.Series(["North", np.nan], dtype=object)]


def test_as_levels_equals_the_row_by_row_lookup():
    for values in _text_columns():
        for levels in (["East", "North", "South"], ["East", "North", "Nowhere", "South", "app"], ["1", "2"],
                       ["North"]):
            fast, slow = as_levels(values, levels), _levels_by_row(values, levels)
            np.testing.assert_array_equal(fast.codes, slow.codes)
            pd.testing.assert_index_equal(fast.categories, slow.categories)


def test_prepare_keeps_the_learned_levels_and_numbers():
    rng = np.random.default_rng(5)
    n = 1_000
    train = pd.DataFrame({"spend": rng.normal(size=n), "visits": rng.integers(0, 9, n), "vip": rng.random(n) < 0.2,
                          "region": rng.choice(["North", "South", "East"], n),
                          "city": pd.Series(rng.choice(["Oslo", "Lisbon", None], n)).astype("string[pyarrow]"),
                          "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, n), "D")})
    x, cats = prepare(train)
    assert list(x.columns) == ["spend", "visits", "vip", "region", "city"]
    assert cats == {"region": ["East", "North", "South"], "city": ["Lisbon", "Oslo"]}
    later = train.assign(region=rng.choice(["North", "West"], n))          # an unseen level
    again = prepare(later, cats)[0]
    for col in ("region", "city"):
        expected = _levels_by_row(later[col], cats[col])
        np.testing.assert_array_equal(again[col].cat.codes.to_numpy(), expected.codes)
    assert again["region"].isna().sum() == (later["region"] == "West").sum()
    assert (again["spend"].to_numpy() == train["spend"].to_numpy(dtype="float32")).all()


def test_prepare_columns_with_factorised_text_equals_prepare_of_the_rows():
    """The row table's fast path (text factorised once per customer, then taken at the stacked
    rows) gives the frame and levels of :func:`prepare` on the stacked rows themselves."""
    rng = np.random.default_rng(3)
    n = 300
    whole = pd.DataFrame({"region": rng.choice(["North", "South", "East", "West"], n),
                          "city": pd.Series(rng.choice(["Oslo", "Lisbon", None], n)).astype("string[pyarrow]"),
                          "one": ["only"] * n,
                          "many": [f"id{i}" for i in range(n)],
                          "mixed": pd.Series(rng.choice([1, "1", 2.5, None], n), dtype=object)})
    whole.loc[whole["region"] == "West", "region"] = "East"           # a level that the rows below never see
    whole.loc[0, "region"] = "West"
    positions = np.sort(rng.choice(np.arange(1, n), 500))            # repeats, as stacked cutoffs do
    idx = whole.index[positions]
    expected, expected_cats = prepare(whole.iloc[positions])
    columns = [(c, Texts(text_codes(whole[c]).codes[positions], text_codes(whole[c]).texts)) for c in whole.columns]
    got, cats = prepare_columns(columns, idx)
    assert cats == expected_cats and "West" not in cats["region"]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    again, _ = prepare_columns(columns, idx, cats)
    pd.testing.assert_frame_equal(again, prepare(whole.iloc[positions], cats)[0], check_exact=True)


def test_behaviour_columns_are_the_feature_frames_columns_without_the_attributes():
    """clv-decline's training cutoffs take the behaviour columns without the join to the
    customer attributes: the same columns, in the same order, with the same values as the frame's."""
    from microseg.data import CustomerData
    rng = np.random.default_rng(8)
    n, m = 60, 900
    ids = pd.Index(np.arange(n) * 3 + 1, name="customer_id")
    customers = pd.DataFrame({"age": rng.integers(18, 80, n), "region": rng.choice(["N", "S"], n),
                              "frequency": rng.random(n),               # an attribute named like a behaviour column
                              "signup": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D")},
                             index=ids)
    ts = pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 500 * 86400, m), "s")
    tx = pd.DataFrame({"customer_id": rng.choice(ids, m), "ts": ts, "amount": rng.normal(40, 30, m).round(2),
                       "channel": rng.choice(["web", "store"], m), "category": rng.choice(["a", "b", "c"], m)})
    events = pd.DataFrame({"customer_id": rng.choice(ids, 200), "ts": ts[:200], "channel": rng.choice(["sms", "email"], 200),
                           "responded": rng.random(200) < 0.3})
    plain = CustomerData(customers=customers, transactions=tx.drop(columns=["channel", "category"]), events=events,
                         as_of=pd.Timestamp("2024-10-01"), signup_column="signup")
    mixed = CustomerData(customers=customers, transactions=tx, events=events, as_of=pd.Timestamp("2024-10-01"))
    for data, cutoff in [(d, t) for d in (plain, mixed) for t in (pd.Timestamp("2024-03-01"), d.as_of, pd.Timestamp("2024-03-01"))]:
        _check_behaviour_columns(data, cutoff, customers.columns)


def _check_behaviour_columns(data, cutoff: pd.Timestamp, attributes: pd.Index) -> None:
    """``data.behaviour_columns(cutoff)`` against the frame's behaviour columns."""
    frame = data.features(cutoff)
    expected = {c: s for c, s in frame.items() if c not in attributes}
    got, index = data.behaviour_columns(cutoff)
    assert index.equals(frame.index)
    assert list(got) == list(expected)
    assert ("share_web" in got) == ("channel" in data.transactions.columns)          # the mixes' path too
    for c, s in expected.items():
        values = got[c] if isinstance(got[c], np.ndarray) else got[c].to_numpy()
        assert values.dtype == s.dtype
        np.testing.assert_array_equal(values, s.to_numpy())
