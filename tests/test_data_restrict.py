"""CustomerData.restrict: the same tables as selecting every row by its customer id, and the
inherited transaction positions equal those the copy would compute itself."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.data import CustomerData


def _data(seed: int) -> CustomerData:
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"C{i:05d}" for i in rng.permutation(400)], name="customer_id")
    customers = pd.DataFrame({"age": rng.integers(18, 90, len(ids))}, index=ids)
    n = 5_000
    who = rng.choice(np.r_[ids.to_numpy(), ["C99999"]], n)          # one customer not in the table
    tx = pd.DataFrame({"customer_id": who, "ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
                       "amount": rng.gamma(2.0, 20.0, n)})
    ev = pd.DataFrame({"customer_id": rng.choice(ids.to_numpy(), 800), "channel": rng.choice(["sms", "email"], 800)})
    return CustomerData(customers=customers, transactions=tx, events=ev, as_of=pd.Timestamp("2026-01-01"))


def _by_isin(data: CustomerData, keep: pd.Index) -> dict[str, pd.DataFrame]:
    return {"customers": data.customers.loc[data.customers.index.isin(keep)],
            "transactions": data.transactions.loc[data.transactions["customer_id"].isin(keep)],
            "events": data.events.loc[data.events["customer_id"].isin(keep)]}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("how", ["subset", "with_unknown", "with_duplicates", "empty", "all"])
def test_restrict_keeps_the_rows_of_the_kept_customers(seed, how):
    data = _data(seed)
    rng = np.random.default_rng(seed + 10)
    ids = data.ids
    keep = {"subset": ids[rng.random(len(ids)) < 0.7], "empty": ids[:0], "all": ids,
            "with_unknown": ids[:50].append(pd.Index(["C99999", "X"])),
            "with_duplicates": ids[:50].append(ids[:5])}[how]
    data.tx_codes(data.ids)                                     # as a run has them before consent
    out = data.restrict(keep)
    for name, expected in _by_isin(data, pd.Index(keep)).items():
        pd.testing.assert_frame_equal(getattr(out, name), expected)
    fresh = CustomerData(customers=out.customers, transactions=out.transactions, events=out.events,
                         as_of=out.as_of)
    np.testing.assert_array_equal(out.tx_codes(out.ids), fresh.tx_codes(fresh.ids))
    pd.testing.assert_frame_equal(out.features(), fresh.features())
