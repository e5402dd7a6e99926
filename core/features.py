"""Behaviour features: the customer-level frame computed from transactions and campaign events.

Only data strictly before ``as_of`` is used. Columns (documented in ``docs/customer-frame.md``):

transactions given
    ``recency_days``, ``frequency``, ``monetary``, ``tenure_days``, ``avg_basket``,
    ``spend_{w}d`` / ``spend_prev_{w}d`` / ``trend_{w}d`` / ``purchases_{w}d`` per window ``w``,
    ``interpurchase_days``, ``return_share``, and ``share_<channel>`` / ``share_cat_<category>``
    when transactions carry a channel / category.
campaign events given
    ``contacts``, ``responses``, ``response_rate``, ``contacts_<channel>``, ``responses_<channel>``.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_WINDOWS: tuple[int, ...] = (90, 180)
MAX_MIX_LEVELS = 8


def slug(value: object) -> str:
    """A level as part of a feature name: lower case, runs of other characters as one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_") or "blank"


def row_positions(ids: pd.Index, keys: pd.Series) -> np.ndarray:
    """Position of each key in ``ids`` (-1 where absent)."""
    codes = ids.get_indexer(keys)
    return codes


def mix_levels(values: np.ndarray, weight: np.ndarray) -> list:
    """The ``MAX_MIX_LEVELS`` levels with the largest positive spend (fixed once per run, so
    partitions of a distributed run use the same columns)."""
    level_codes, levels = pd.factorize(values)
    ok = level_codes >= 0
    spend = np.bincount(level_codes[ok], weights=weight[ok], minlength=len(levels))
    return [levels[i] for i in np.argsort(-spend, kind="stable")[:MAX_MIX_LEVELS]]


def transaction_features(tx: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp,
                         windows: tuple[int, ...] = DEFAULT_WINDOWS,
                         levels: dict[str, list] | None = None, codes: np.ndarray | None = None) -> pd.DataFrame:
    """RFM, spend windows, trends and mixes per customer from transactions before ``as_of``.

    ``levels`` fixes the channel / category levels of the mix columns (default: the largest
    levels in ``tx``); ``codes`` may give each row's position in ``ids`` (−1: not a customer).
    """
    out, mixes = _transaction_parts(tx, ids, as_of, windows, levels, codes)
    return _joined(out, mixes, ids)


def transaction_columns(tx: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp,
                        windows: tuple[int, ...] = DEFAULT_WINDOWS,
                        levels: dict[str, list] | None = None, codes: np.ndarray | None = None) -> dict[str, Any]:
    """:func:`transaction_features`' columns by name (numpy arrays in ``ids``' order; series when
    there are mixes), without building the frame when there are no mixes to join."""
    out, mixes = _transaction_parts(tx, ids, as_of, windows, levels, codes)
    return out if not mixes else dict(_joined(out, mixes, ids).items())


def _joined(out: dict[str, np.ndarray], mixes: list[pd.DataFrame], ids: pd.Index) -> pd.DataFrame:
    """The frame of ``out``'s columns with the mix columns joined on."""
    frame = pd.DataFrame(out, index=ids)
    for mix in mixes:
        frame = frame.join(mix)
    return frame


def _transaction_parts(tx: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp, windows: tuple[int, ...],
                       levels: dict[str, list] | None, codes: np.ndarray | None
                       ) -> tuple[dict[str, np.ndarray], list[pd.DataFrame]]:
    """:func:`transaction_features` as its columns without the mixes, and the mix frames."""
    n = len(ids)
    ts = tx["ts"].to_numpy()
    before = is_before(ts, as_of)
    everything = bool(before.all())
    # rows are picked by their positions throughout: much faster than by a boolean mask here
    earlier = None if everything else np.flatnonzero(before)
    if codes is None:
        codes = row_positions(ids, tx["customer_id"] if everything else tx["customer_id"].iloc[earlier])
    elif not everything:
        codes = codes[earlier]
    keep = codes >= 0
    kept = bool(keep.all())
    # the rows used, as positions in tx: its columns are read through them (the frame is not copied)
    rows = earlier if kept else (np.flatnonzero(keep) if everything else earlier[np.flatnonzero(keep)])
    if not kept:
        codes = codes[np.flatnonzero(keep)]
    amount = _take(tx, "amount", rows, "float64")
    age_days = days_before(as_of, ts if rows is None else ts[rows])

    roles = [(role, prefix) for role, prefix in (("channel", "share_"), ("category", "share_cat_"))
             if role in tx.columns]
    baskets_of_lines = "invoice" in tx.columns
    # each line's purchase spend and its total per customer: the mixes' weights and, when every
    # line is a purchase occasion (no invoices), the gross spend below
    line_weight = np.where(amount > 0, amount, 0.0) if roles or not baskets_of_lines else None
    line_total = np.bincount(codes, weights=line_weight, minlength=n) if line_weight is not None else None
    mixes = [_mix(codes, _take(tx, role, rows), line_weight, line_total, ids, prefix, (levels or {}).get(role))
             for role, prefix in roles]
    if baskets_of_lines:
        # one purchase occasion per invoice: sum its lines, keep its time
        baskets = (pd.DataFrame({"c": codes, "i": _take(tx, "invoice", rows), "a": amount, "d": age_days})
                   .groupby(["c", "i"], sort=False).agg(a=("a", "sum"), d=("d", "min")))
        codes = baskets.index.get_level_values("c").to_numpy()
        amount, age_days = baskets["a"].to_numpy(), baskets["d"].to_numpy()
    out: dict[str, np.ndarray] = {}
    bought = amount > 0
    purchases = np.flatnonzero(bought)
    who = codes[purchases]
    freq = np.bincount(who, minlength=n)
    out["frequency"] = freq.astype("int64")
    out["monetary"] = np.bincount(codes, weights=amount, minlength=n)
    gross = np.bincount(codes, weights=np.where(bought, amount, 0.0), minlength=n) if baskets_of_lines else line_total
    returned = amount < 0
    returns = _sums(codes, -amount, returned, n)

    recency = np.full(n, np.nan)
    first = np.full(n, np.nan)
    if len(who):                        # newest and oldest purchase per customer (unbuffered min / max)
        age = age_days[purchases]
        has = freq > 0
        mn, mx = np.full(n, np.inf), np.full(n, -np.inf)
        np.minimum.at(mn, who, age)
        np.maximum.at(mx, who, age)
        recency[has], first[has] = mn[has], mx[has]
    out["recency_days"] = recency
    out["tenure_days"] = first
    with np.errstate(divide="ignore", invalid="ignore"):
        out["avg_basket"] = np.where(freq > 0, gross / np.maximum(freq, 1), np.nan)
        out["interpurchase_days"] = np.where(freq > 1, (first - recency) / np.maximum(freq - 1, 1), np.nan)
        out["return_share"] = np.where(gross + returns > 0, returns / np.where(gross + returns > 0, gross + returns, 1.0), 0.0)
    for w in windows:
        cur = age_days < w
        prev = (age_days >= w) & (age_days < 2 * w)
        s_cur = _sums(codes, amount, cur, n)
        s_prev = _sums(codes, amount, prev, n)
        out[f"spend_{w}d"] = s_cur
        out[f"spend_prev_{w}d"] = s_prev
        out[f"trend_{w}d"] = (np.maximum(s_cur, 0) + 1.0) / (np.maximum(s_prev, 0) + 1.0)
        out[f"purchases_{w}d"] = np.bincount(codes[np.flatnonzero(cur & bought)], minlength=n).astype("int64")
    return out, mixes


def is_before(ts: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
    """``ts < np.datetime64(as_of)``, compared in ``ts``' own unit when ``as_of`` is whole in it
    (the same result; numpy would first convert every time to a finer unit of ``as_of``'s)."""
    at = np.datetime64(as_of)
    if ts.dtype.kind == "M" and not np.isnat(at):
        coarse = at.astype(ts.dtype)
        if coarse == at:
            return ts < coarse
    return ts < at


def days_before(as_of: pd.Timestamp, ts: np.ndarray) -> np.ndarray:
    """``((np.datetime64(as_of) - ts) / np.timedelta64(1, "s")) / 86400.0`` bit for bit, with ``ts``
    brought to the common (finer) unit by one integer multiply rather than numpy's slower cast,
    when that multiply is exact (no NaT, no overflow)."""
    at = np.datetime64(as_of)
    return ((at - _in_unit(ts, np.promote_types(ts.dtype, at.dtype))) / np.timedelta64(1, "s")) / 86400.0


def _in_unit(ts: np.ndarray, common: np.dtype) -> np.ndarray:
    """Datetimes ``ts`` in the finer datetime dtype ``common``: their integers times the units'
    ratio where that is exact (as numpy's cast), else numpy's cast (or ``ts`` itself)."""
    if ts.dtype == common or ts.dtype.kind != "M" or common.kind != "M" or not len(ts):
        return ts
    (unit, count), (to, to_count) = np.datetime_data(ts.dtype), np.datetime_data(common)
    factor = np.timedelta64(count, unit) // np.timedelta64(to_count, to)
    ints = ts.view(np.int64)
    limit = np.iinfo(np.int64).max // max(int(factor), 1)
    if factor < 1 or np.timedelta64(count, unit) != factor * np.timedelta64(to_count, to) \
            or np.isnat(ts).any() or ints.min() < -limit or ints.max() > limit:
        return ts
    return (ints * np.int64(factor)).view(common)


def _sums(codes: np.ndarray, weights: np.ndarray, where: np.ndarray, n: int) -> np.ndarray:
    """``np.bincount(codes, weights=np.where(where, weights, 0.0), minlength=n)`` bit for bit,
    from the ``where`` rows only: the others would add +0.0, which changes no sum (a bin starts at
    +0.0 and never becomes -0.0)."""
    rows = np.flatnonzero(where)
    return np.bincount(codes[rows], weights=weights[rows], minlength=n)


def _take(tx: pd.DataFrame, column: str, rows: np.ndarray | None, dtype: str | None = None) -> np.ndarray:
    """``tx[column]`` at positions ``rows`` (all rows: None) as a numpy array; a column that is not
    numpy-backed (strings) is taken before it is converted, so only those rows become objects."""
    col = tx[column]
    if rows is None:
        return col.to_numpy(dtype=dtype)
    if isinstance(col.dtype, np.dtype):
        return col.to_numpy(dtype=dtype)[rows]
    return col.iloc[rows].to_numpy(dtype=dtype)


BASKET_COUNTS: tuple[str, ...] = ("invoices", "lines", "units")


def basket_counts(tx: pd.DataFrame, ids: pd.Index, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
                  codes: np.ndarray | None = None) -> np.ndarray:
    """Per customer (rows), window [start, end) and :data:`BASKET_COUNTS` (last axis): the
    purchase invoices, purchase lines and units bought — purchase lines are those with a positive
    amount; units are their ``quantity`` (NaN without that column). Needs the ``invoice`` column;
    a line without an invoice is a basket of its own. ``codes`` may give each row's position in
    ``ids`` (−1: not a customer)."""
    return count_baskets(purchase_lines(tx, row_positions(ids, tx["customer_id"]) if codes is None else codes),
                         len(ids), windows)


def purchase_lines(tx: pd.DataFrame, codes: np.ndarray) -> tuple[Any, ...]:
    """The purchase lines of :func:`basket_counts` in time order: customer position, time,
    invoice number (one per customer's basket) and units (None without ``quantity``)."""
    amount = tx["amount"].to_numpy(dtype="float64")
    take = np.flatnonzero((np.asarray(codes) >= 0) & (amount > 0))
    ts = tx["ts"].to_numpy()[take]
    order = np.argsort(ts, kind="stable")
    take, ts = take[order], ts[order]
    invoice = pd.factorize(tx["invoice"].to_numpy()[take])[0].astype(np.int64)
    alone = invoice < 0
    invoice[alone] = invoice.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    units = tx["quantity"].to_numpy(dtype="float64")[take] if "quantity" in tx.columns else None
    return np.asarray(codes)[take].astype(np.int64), ts, invoice, units


def count_baskets(lines: tuple[Any, ...], n: int,
                  windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]) -> np.ndarray:
    """:func:`basket_counts` of :func:`purchase_lines` ``lines`` of ``n`` customers."""
    who, ts, invoice, units = lines
    out = np.zeros((n, len(windows), len(BASKET_COUNTS)))
    span = int(invoice.max(initial=0)) + 1
    for j, (start, end) in enumerate(windows):
        lo, hi = np.searchsorted(ts, [np.datetime64(pd.Timestamp(start)), np.datetime64(pd.Timestamp(end))])
        c = who[lo:hi]
        out[:, j, 0] = np.bincount(np.unique(c * span + invoice[lo:hi]) // span, minlength=n)
        out[:, j, 1] = np.bincount(c, minlength=n)
        out[:, j, 2] = np.bincount(c, weights=units[lo:hi], minlength=n) if units is not None else np.nan
    return out


def _mix(codes: np.ndarray, values: np.ndarray, weight: np.ndarray, total: np.ndarray,
         ids: pd.Index, prefix: str, levels: list | None = None) -> pd.DataFrame:
    """Share of positive spend per level (the ``MAX_MIX_LEVELS`` largest levels, or ``levels``)."""
    chosen = levels if levels is not None else mix_levels(values, weight)
    cols = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for lv in chosen:
            s = np.bincount(codes, weights=np.where(values == lv, weight, 0.0), minlength=len(ids))
            cols[f"{prefix}{slug(lv)}"] = np.where(total > 0, s / np.where(total > 0, total, 1), 0.0)
    return pd.DataFrame(cols, index=ids)


def channel_levels(events: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Each event's channel as a code into the sorted channels (−1: missing), for
    :func:`event_features` (text is factorised as stored: Arrow gets no object copy of every row)."""
    channel = events["channel"]
    codes, levels = pd.factorize(channel.array if isinstance(channel.dtype, pd.StringDtype) else channel.to_numpy(),
                                 sort=True)
    return codes, pd.Index(levels)


def event_features(events: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp,
                   codes: np.ndarray | None = None,
                   channels: tuple[np.ndarray, pd.Index] | None = None) -> pd.DataFrame:
    """Contacts and responses per customer (overall and per channel) before ``as_of``; ``codes``
    may give each event's position in ``ids`` (−1: not a customer), ``channels`` the events'
    :func:`channel_levels`."""
    return pd.DataFrame(event_columns(events, ids, as_of, codes, channels), index=ids)


def event_columns(events: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp,
                  codes: np.ndarray | None = None,
                  channels: tuple[np.ndarray, pd.Index] | None = None) -> dict[str, np.ndarray]:
    """:func:`event_features`' columns by name (numpy arrays in ``ids``' order)."""
    n = len(ids)
    ev = events
    codes = row_positions(ids, ev["customer_id"]) if codes is None else np.asarray(codes)
    take = codes >= 0
    if "ts" in ev.columns:
        take &= is_before(ev["ts"].to_numpy(), as_of)
    # the events used, as positions in events: their columns are read there (the frame is not copied)
    keep = np.flatnonzero(take)
    codes = codes[keep]
    responded = ev["responded"].to_numpy(dtype=bool)[keep] if "responded" in ev.columns else np.zeros(len(codes), bool)
    out: dict[str, np.ndarray] = {
        "contacts": np.bincount(codes, minlength=n).astype("int64"),
        "responses": np.bincount(codes[np.flatnonzero(responded)], minlength=n).astype("int64"),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        out["response_rate"] = np.where(out["contacts"] > 0, out["responses"] / out["contacts"], np.nan)
    if "channel" in ev.columns:
        # the channels these events use, in sorted order (as factorising only them would give)
        level_codes, levels = channels if channels is not None else channel_levels(ev)
        ch_codes = level_codes[keep]
        used = np.flatnonzero(np.bincount(ch_codes[ch_codes >= 0], minlength=len(levels)))
        for i, ch in zip(used, levels[used]):
            mask = ch_codes == i
            out[f"contacts_{slug(ch)}"] = np.bincount(codes[np.flatnonzero(mask)], minlength=n).astype("int64")
            out[f"responses_{slug(ch)}"] = np.bincount(codes[np.flatnonzero(mask & responded)], minlength=n).astype("int64")
    return out
