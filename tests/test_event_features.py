"""Campaign-event features read through the events' rows (no filtered copy), with or without cached
customer positions: the same frame as filtering the events first."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.features import channel_levels, event_features, row_positions, slug


def _filtered_first(events: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    """The simple rule: the events before ``as_of`` of customers in ``ids``, counted per customer."""
    ev = events.loc[events["ts"] < as_of] if "ts" in events.columns else events
    codes = row_positions(ids, ev["customer_id"])
    ev, codes = ev.loc[codes >= 0], codes[codes >= 0]
    responded = ev["responded"].to_numpy(dtype=bool) if "responded" in ev.columns else np.zeros(len(ev), bool)
    n = len(ids)
    out = {"contacts": np.bincount(codes, minlength=n).astype("int64"),
           "responses": np.bincount(codes[responded], minlength=n).astype("int64")}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["response_rate"] = np.where(out["contacts"] > 0, out["responses"] / out["contacts"], np.nan)
    if "channel" in ev.columns:
        channel = ev["channel"].astype(object).to_numpy()
        for ch in sorted({c for c in channel if isinstance(c, str)}):
            mask = channel == ch
            out[f"contacts_{slug(ch)}"] = np.bincount(codes[mask], minlength=n).astype("int64")
            out[f"responses_{slug(ch)}"] = np.bincount(codes[mask & responded], minlength=n).astype("int64")
    return pd.DataFrame(out, index=ids)


def _events(seed: int = 0, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    channel = pd.array(rng.choice(["email", "sms", "push", None], n), dtype="str")
    return pd.DataFrame({"customer_id": rng.integers(0, 60, n),           # some ids not among the customers
                         "ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
                         "channel": channel, "responded": rng.random(n) < 0.3})


def test_event_features_are_the_filtered_events_counted():
    events = _events()
    events.loc[events["ts"] >= pd.Timestamp("2025-10-01"), "channel"] = "post"    # a channel seen only late
    events.loc[events["customer_id"] >= 55, "channel"] = "letter"                 # and one only of others
    ids = pd.Index(np.arange(5, 50), name="customer_id")
    codes = ids.get_indexer(events["customer_id"].to_numpy()).astype(np.int32)
    for as_of in ("2025-01-01", "2025-03-15", "2026-06-01"):
        expected = _filtered_first(events, ids, pd.Timestamp(as_of))
        for given in (None, codes):
            for channels in (None, channel_levels(events)):
                got = event_features(events, ids, pd.Timestamp(as_of), codes=given, channels=channels)
                pd.testing.assert_frame_equal(got, expected, check_exact=True)
    untimed = events.drop(columns=["ts", "channel"])
    pd.testing.assert_frame_equal(event_features(untimed, ids, pd.Timestamp("2025-06-01")),
                                  _filtered_first(untimed, ids, pd.Timestamp("2025-06-01")), check_exact=True)


def test_customer_data_caches_the_events_positions_per_ids():
    events = _events(seed=1)
    customers = pd.DataFrame({"age": np.arange(60)}, index=pd.Index(np.arange(60), name="customer_id"))
    data = CustomerData(customers=customers, events=events, as_of=pd.Timestamp("2025-09-01"))
    ids = data.ids
    assert data.ev_codes(ids) is data.ev_codes(ids)
    assert np.array_equal(data.ev_codes(ids), ids.get_indexer(events["customer_id"]))
    frame = data.features(pd.Timestamp("2025-05-01"))
    expected = _filtered_first(events, ids, pd.Timestamp("2025-05-01"))
    pd.testing.assert_frame_equal(frame[expected.columns], expected, check_exact=True, check_names=False)
