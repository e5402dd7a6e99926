"""The data of one run: customers, transactions and campaign events in a normalised shape.

``customers``
    index ``customer_id``; the user's attribute columns under their own names.
``transactions``
    columns ``customer_id``, ``ts`` (datetime), ``amount`` (net, negative for returns), and
    optionally ``channel``, ``category``, ``invoice``, ``quantity`` (units of the line).
``events`` (campaign contacts)
    columns ``customer_id``, ``ts``, ``channel``, ``responded`` (bool), and optionally
    ``campaign``, ``treatment`` (bool: True treated, False control).

:class:`CustomerData` is the pandas engine: it implements :class:`microseg.engine.Engine` in
this process. :meth:`CustomerData.features` joins the customer attributes with behaviour features
as of a date; that frame is what every method's ``fit`` / ``assign`` receives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from microseg.engine import Classifier, customer_attributes
from microseg.features import (DEFAULT_WINDOWS, channel_levels, count_baskets, event_columns, purchase_lines,
                               transaction_columns)
from microseg.lgbm import classifier

#: customers × window bounds summed at once by :meth:`CustomerData.window_spends` (2 MB of float64)
SPEND_CELLS = 262_144


@dataclass
class CustomerData:
    """Customers, transactions and campaign events (pandas frames), plus the reference date
    ``as_of``: the pandas engine (:class:`microseg.engine.Engine`)."""

    engine: ClassVar[str] = "pandas"

    customers: pd.DataFrame | None = None
    transactions: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    #: customers column holding the sign-up date (used for ``tenure_days`` when given)
    signup_column: str | None = None
    windows: tuple[int, ...] = DEFAULT_WINDOWS
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.customers is None and self.transactions is None:
            raise ValueError("CustomerData needs customers or transactions")
        for name, table, needed in (("transactions", self.transactions, ("customer_id", "ts", "amount")),
                                    ("events", self.events, ("customer_id",))):
            missing = [c for c in needed if table is not None and c not in table.columns]
            if missing:
                raise ValueError(f"CustomerData's {name} need the normalised columns {list(needed)} (missing "
                                 f"{missing}); from your own column names use microseg.customer_data(...), "
                                 "see docs/customer-frame.md")
        if self.as_of is None:
            self.as_of = default_as_of(self.transactions)
        self.as_of = pd.Timestamp(self.as_of)

    @property
    def ids(self) -> pd.Index:
        """All customer ids of the run."""
        if self.customers is not None:
            return self.customers.index
        ids = pd.Index(pd.unique(self.transactions["customer_id"]), name="customer_id")
        return ids.sort_values()

    @property
    def has_transactions(self) -> bool:
        return self.transactions is not None

    @property
    def event_columns(self) -> tuple[str, ...]:
        return tuple(self.events.columns) if self.events is not None else ()

    def features(self, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The customer-level frame as of ``as_of`` (default: the run's ``as_of``).

        Only the run's ``as_of`` frame is kept for later calls: another date's (clv-decline's
        training cutoffs, each asked for once) is computed anew, so a dozen cutoffs' frames are
        not held for the rest of the run."""
        when = pd.Timestamp(as_of) if as_of is not None else self.as_of
        if when in self._cache:
            return self._cache[when]
        ids = self.ids
        parts = ([self.customers] if self.customers is not None else []) + [
            pd.DataFrame(columns, index=ids) for columns in self._behaviour_parts(when, ids)]
        frame = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0].copy()
        frame.index.name = "customer_id"
        if when == self.as_of:
            self._cache[when] = frame
        return frame

    def behaviour_columns(self, as_of: pd.Timestamp | str | None = None) -> tuple[dict[str, Any], pd.Index]:
        """The columns of :meth:`features` that are not customer attributes, by name in the frame's
        order, and the customers they list (:attr:`ids`): the cached frame's series, or numpy
        arrays computed without building the frame (a training cutoff's behaviour, not its copy
        of every attribute)."""
        when = pd.Timestamp(as_of) if as_of is not None else self.as_of
        raw = set(self.customers.columns) if self.customers is not None else set()
        if when in self._cache:
            frame = self._cache[when]
            return {c: s for c, s in frame.items() if c not in raw}, frame.index
        ids = self.ids
        return {c: v for part in self._behaviour_parts(when, ids) for c, v in part.items() if c not in raw}, ids

    def _behaviour_parts(self, when: pd.Timestamp, ids: pd.Index) -> list[dict[str, Any]]:
        """The transaction and event features of ``ids`` (the run's customers) as of ``when``
        (columns by name, in ``ids``' order)."""
        parts = []
        if self.transactions is not None:
            tf = transaction_columns(self.transactions, ids, when, self.windows, codes=self.tx_codes(ids))
            if self.signup_column and self.customers is not None:
                tf["tenure_days"] = (when - self._signup_dates()).total_seconds() / 86400.0
            parts.append(tf)
        if self.events is not None:
            channels = self._cache.get("ev_channels")
            if channels is None and "channel" in self.events.columns:
                channels = self._cache["ev_channels"] = channel_levels(self.events)
            parts.append(event_columns(self.events, ids, when, codes=self.ev_codes(ids), channels=channels))
        return parts

    def _signup_dates(self) -> Any:
        """The customers' sign-up dates (a datetime array, unparseable ones missing), parsed once."""
        hit = self._cache.get("signup_dates")
        if hit is None:
            hit = self._cache["signup_dates"] = pd.to_datetime(self.customers[self.signup_column], errors="coerce").array
        return hit

    def tx_date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last transaction time."""
        ts = self.transactions["ts"]
        return pd.Timestamp(ts.min()), pd.Timestamp(ts.max())

    def window_spend(self, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """Net spend per customer of ``ids`` in [start, end), rounded to 6 decimals (fully
        cancelled purchases net to 0, not to a float artefact like 1e-13)."""
        return self.window_spends(ids, [(start, end)])[:, 0]

    def window_spends(self, ids: pd.Index, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]) -> np.ndarray:
        """Net spend per customer (rows) in each [start, end) window (columns), in one pass over
        the transactions: each is bucketed between consecutive window bounds once, then summed per
        block of customers, so the customers × bounds table is at most :data:`SPEND_CELLS` cells
        whatever the number of customers and windows."""
        codes, origin, seconds, amount = self._timeline(ids)
        bounds = np.array([[pd.Timestamp(t).value // 10**9 - origin for t in w] for w in windows], dtype=np.int64)
        edges = np.unique(bounds)
        bucket = buckets(seconds, edges)                                # in [edges[b], edges[b + 1])
        inside = (bucket >= 0) & (bucket < len(edges) - 1)
        codes, bucket, amount = codes[inside], bucket[inside], amount[inside]
        width = max(len(edges) - 1, 1)
        lo = np.searchsorted(edges, bounds[:, 0])
        hi = np.maximum(np.searchsorted(edges, bounds[:, 1]), lo)          # an empty window sums to 0
        out = np.empty((len(ids), len(windows)))
        step = max(1, SPEND_CELLS // width)
        cuts = np.searchsorted(codes, np.arange(0, len(ids) + step, step))    # codes are sorted: a block is a slice
        for first, a, b in zip(range(0, len(ids), step), cuts[:-1], cuts[1:]):
            rows = min(step, len(ids) - first)
            cells = np.bincount((codes[a:b] - first).astype(np.int64) * width + bucket[a:b], weights=amount[a:b],
                                minlength=rows * width).reshape(rows, width)
            cumulative = np.zeros((rows, width + 1))
            np.cumsum(cells, axis=1, out=cumulative[:, 1:])
            np.subtract(cumulative[:, hi], cumulative[:, lo], out=out[first:first + rows])
        return np.round(out, 6, out=out)

    def window_baskets(self, ids: pd.Index, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]
                       ) -> np.ndarray | None:
        """Purchase invoices, lines and units per customer (rows) and [start, end) window
        (:func:`microseg.features.basket_counts`; the purchase lines prepared once per ``ids``);
        None when the transactions have no invoices."""
        tx = self.transactions
        if tx is None or "invoice" not in tx.columns:
            return None
        key = ("purchase_lines", id(ids))
        hit = self._cache.get(key)
        if hit is None or hit[0] is not ids:
            hit = (ids, purchase_lines(tx, self.tx_codes(ids)))
            self._cache[key] = hit
        return count_baskets(hit[1], len(ids), windows)

    def _timeline(self, ids: pd.Index) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        """Transactions of ``ids`` as compact arrays, built once per ``ids`` and ordered by
        customer (stably: each customer's transactions keep their order, so sums are unchanged):
        position in ids (int32), the first transaction's epoch second, seconds since it and the amount."""
        key = ("timeline", id(ids))
        hit = self._cache.get(key)
        if hit is not None and hit[0] is ids:
            return hit[1]
        tx = self.transactions
        codes = self.tx_codes(ids)
        rows: np.ndarray | slice = np.flatnonzero(codes >= 0)
        if len(rows) == len(codes):
            rows = slice(None)                         # every row is a customer's: views, no copies
        if (np.diff(codes[rows]) < 0).any():
            rows = np.arange(len(codes))[rows]
            rows = rows[np.argsort(codes[rows], kind="stable")]
        codes = codes[rows]
        seconds = tx["ts"].to_numpy()[rows].astype("datetime64[s]").view("int64")
        origin = int(seconds.min()) if len(seconds) else 0
        seconds -= origin
        arrays = (codes, origin, seconds, tx["amount"].to_numpy(dtype="float64")[rows])
        self._cache[key] = (ids, arrays)
        return arrays

    def tx_codes(self, ids: pd.Index) -> np.ndarray:
        """Position in ``ids`` of every transaction's customer (−1 when absent), computed once per ids."""
        return self._positions("tx_codes", self.transactions, ids)

    def ev_codes(self, ids: pd.Index) -> np.ndarray:
        """Position in ``ids`` of every campaign event's customer (−1 when absent), computed once per ids."""
        return self._positions("ev_codes", self.events, ids)

    def _positions(self, name: str, table: pd.DataFrame, ids: pd.Index) -> np.ndarray:
        """``table``'s customers as positions in ``ids`` (int32, −1: absent), cached as ``(name, id(ids))``."""
        key = (name, id(ids))
        hit = self._cache.get(key)
        if hit is None or hit[0] is not ids:
            hit = (ids, positions(ids, table["customer_id"]))
            self._cache[key] = hit
        return hit[1]

    def event_rows(self, before: Any = None, columns: list[str] | None = None) -> pd.DataFrame | None:
        """Campaign contacts (before ``before`` when given; only ``columns`` when given) as a
        pandas frame, for a method that trains on contact rows (None without events)."""
        ev = self.events
        if ev is None:
            return None
        if before is not None and "ts" in ev.columns:
            ev = ev.loc[ev["ts"].to_numpy() < np.datetime64(pd.Timestamp(before))]
        if columns is not None:
            ev = ev[[c for c in columns if c in ev.columns]]
        return ev.reset_index(drop=True)

    def restrict(self, keep: pd.Index | np.ndarray) -> "CustomerData":
        """A copy with only the customers in ``keep`` (e.g. those who consented).

        When ``keep`` are distinct customers of the customers table, the transactions are
        selected through their cached customer positions (:meth:`tx_codes`), which the copy
        inherits, renumbered: the transactions' ids are matched once, not once here and once in
        the copy."""
        keep_ids = pd.Index(keep)
        kept = is_in(self.customers.index, keep_ids) if self.customers is not None else None
        cust = self.customers.loc[kept] if self.customers is not None else None
        tx, tx_codes = self.transactions, None
        if (tx is not None and kept is not None and keep_ids.is_unique and self.customers.index.is_unique
                and int(kept.sum()) == len(keep_ids)):
            renumber = np.where(kept, np.cumsum(kept) - 1, -1).astype(np.int32)
            codes = self.tx_codes(self.customers.index)
            rows = (codes >= 0) & kept[np.maximum(codes, 0)]
            tx, tx_codes = tx.loc[rows], renumber[codes[rows]]
        elif tx is not None:
            tx = tx.loc[is_in(tx["customer_id"], keep_ids)]
        ev = self.events.loc[is_in(self.events["customer_id"], keep_ids)] if self.events is not None else None
        out = CustomerData(customers=cust, transactions=tx, events=ev, as_of=self.as_of,
                           signup_column=self.signup_column, windows=self.windows)
        if tx_codes is not None:
            out._cache[("tx_codes", id(out.ids))] = (out.ids, tx_codes)
        return out

    # ------------------------------------------------------------------ the privacy step's access
    # (microseg.privacy.protect: one partition per table here; the Dask engine works on its workers)
    def table_names(self) -> list[str]:
        """The loaded tables, for the privacy step."""
        return [n for n in ("customers", "transactions", "events") if getattr(self, n) is not None]

    def _table(self, name: str) -> pd.DataFrame:
        if name == "customers":     # copy: one block per dtype, however many columns were set one by one
            return self.customers.copy().reset_index()
        return getattr(self, name)

    def scan_table(self, name: str, registry: Any) -> list[Any]:
        """The PII scan of table ``name`` (customer ids as the column ``customer_id``)."""
        from microseg.privacy.scan import scan_frame
        return scan_frame(self._table(name), registry=registry)

    def summarise(self, name: str, fn: Any) -> list[Any]:
        """``fn`` of each partition of table ``name`` (here: the whole table)."""
        return [fn(self._table(name))]

    def transformed(self, fn: Any, erased: pd.Index | None = None) -> "CustomerData":
        """A copy with every table passed through ``fn(name, table)`` and the ``erased`` customers removed."""
        tables = {}
        for name in self.table_names():
            frame = self._table(name)
            if erased is not None:
                frame = frame.loc[~is_in(frame["customer_id"], erased)]
            tables[name] = fn(name, frame)
        if "customers" in tables:
            tables["customers"] = tables["customers"].set_index("customer_id")
        return CustomerData(**tables, as_of=self.as_of, signup_column=self.signup_column, windows=self.windows)

    def customer_attributes(self, columns: Sequence[str]) -> pd.DataFrame:
        """The customers table's ``columns`` for every customer of the run."""
        return customer_attributes(self.customers, self.ids, columns, {})

    @property
    def fits_in_process(self) -> bool:
        """Whether :meth:`fit_classifier` is this class's, which returns the caller's ``in_process``
        fit: a caller may start that fit early (an engine without this attribute: it may not)."""
        return type(self).fit_classifier is CustomerData.fit_classifier

    def fit_classifier(self, params: dict[str, Any], x: pd.DataFrame, y: np.ndarray, *,
                       n_estimators: int, in_process: Callable[[], Classifier] | None = None) -> Classifier:
        """LightGBM fitted in this process (by ``in_process`` when the caller has it ready)."""
        if in_process is not None:
            return in_process()
        return classifier(params, n_estimators).fit(x, y)


def _arrow_strings(values: Any) -> pa.Array | None:
    """The pyarrow array behind a column of pandas' pyarrow-backed strings (the default ``str``
    dtype of ids read from text), else None."""
    array = values.array if isinstance(values, (pd.Series, pd.Index)) else None
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return None
    out = pa.array(array)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _arrow_pair(values: Any, wanted: Any) -> tuple[pa.Array, pa.Array] | None:
    """The pyarrow strings of ``values`` and of ``wanted`` (cast to the same type), when both are
    pandas' pyarrow-backed strings; else None (pandas' own lookups apply)."""
    strings, other = _arrow_strings(values), _arrow_strings(wanted)
    if strings is None or other is None:
        return None
    return strings, other if other.type == strings.type else other.cast(strings.type)


def is_in(values: pd.Series | pd.Index, keep: Any) -> np.ndarray:
    """``values.isin(keep)`` as a boolean array. For pyarrow strings on both sides it is one
    pyarrow set lookup: pandas' own ``isin`` first turns each of ``keep`` into a Python scalar
    (~6 µs each: 0.1 s for the demo's 20 000 customers, once per table and consent step)."""
    both = _arrow_pair(values, keep)
    if both is None:
        return np.asarray(values.isin(keep), dtype=bool)
    return np.asarray(pc.is_in(both[0], value_set=both[1]), dtype=bool)


def positions(ids: pd.Index, values: pd.Series) -> np.ndarray:
    """``ids.get_indexer(values)`` as int32 (−1: absent). For pyarrow strings on both sides and
    distinct ``ids`` it is one pyarrow lookup instead of converting every value to a Python
    string and hashing it again (0.1 s per 300 000 transactions)."""
    both = _arrow_pair(values, ids) if ids.is_unique else None
    if both is None:
        return ids.get_indexer(values.to_numpy()).astype(np.int32)
    found = pc.index_in(both[0], value_set=both[1]).fill_null(-1)
    return np.asarray(found, dtype=np.int32)


#: largest lookup table :func:`buckets` builds (entries; 8 MB)
BUCKET_TABLE = 1 << 20


def buckets(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.searchsorted(edges, values, side="right") - 1`` for sorted integer ``edges``: each
    value's bucket [edges[b], edges[b + 1]), −1 before the first edge. When the edges lie on a
    common step (window bounds are whole days) the buckets of every step are tabulated and each
    value is found by one division and one lookup instead of a binary search."""
    if len(edges) < 2:
        return np.searchsorted(edges, values, side="right") - 1
    base = int(edges[0])
    step = int(np.gcd.reduce(np.diff(edges)))
    span = (int(edges[-1]) - base) // step
    if span > BUCKET_TABLE:
        return np.searchsorted(edges, values, side="right") - 1
    # table[d + 1]: the bucket of every value in [base + d·step, base + (d + 1)·step), d in −1..span
    table = np.searchsorted((edges - base) // step, np.arange(-1, span + 1), side="right") - 1
    at = (values - base) // step
    np.clip(at, -1, span, out=at)
    at += 1
    return table[at]


def default_as_of(transactions: pd.DataFrame | None) -> pd.Timestamp:
    """The day after the last transaction (midnight), or today when there are none."""
    if transactions is None or transactions.empty:
        return pd.Timestamp.today().normalize()
    return pd.Timestamp(transactions["ts"].max()).normalize() + pd.Timedelta(days=1)
