"""``DaskCustomerData``: the Dask engine's :class:`~microseg.engine.Engine`: transactions and
campaign events stay on a Dask cluster.

``customers`` is the masked customers table (pandas, one row per customer). Everything computed
from rows — behaviour features, windowed spend, the date range — runs on the workers, and only
customer-level numbers come back.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Callable, ClassVar

import numpy as np
import pandas as pd

from microseg.dask_engine.bycustomer import HOLD_SHARE, RowTable, cluster_room, collect, per_customer
from microseg.dask_engine.partitions import (basket_counts_part, channels_before_part, event_columns,
                                             event_features_part, level_spend_part, ts_range_part,
                                             tx_features_part, window_sums_part)
from microseg.dask_engine.lgbm import fit_dask_lgbm
from microseg.dask_engine.scan_tables import DaskTablesAccess
from microseg.engine import Classifier, customer_attributes
from microseg.features import BASKET_COUNTS, DEFAULT_WINDOWS, event_features, mix_levels, transaction_features


class DaskCustomerData(DaskTablesAccess):
    """Customers (pandas, once protected) plus transactions / events as :class:`RowTable` s on the cluster.

    ``tx`` / ``ev`` hold the Dask DataFrames of normalised rows (read lazily from the files). As
    loaded, the customers table is still on the workers (``pending``); the privacy step
    (:class:`~microseg.dask_engine.scan_tables.DaskTablesAccess`) protects it there and returns a
    DaskCustomerData holding the protected table.
    """

    engine: ClassVar[str] = "dask"

    def __init__(self, *, client: Any, customers: pd.DataFrame | None, tx: RowTable | None, ev: RowTable | None,
                 as_of: pd.Timestamp, ids: pd.Index, signup_column: str | None = None,
                 signup: pd.Series | None = None, windows: tuple[int, ...] = DEFAULT_WINDOWS,
                 date_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
                 levels: dict[pd.Timestamp, dict[str, list]] | None = None, pending: Any = None) -> None:
        self.client = client
        self.pending = pending
        self._ids = ids
        self.tx, self.ev = tx, ev
        self._signup = signup
        self._date_range = date_range
        self._levels: dict[pd.Timestamp, dict[str, list]] = dict(levels or {})
        self._channels: dict[pd.Timestamp, list] = {}
        self._spend: dict[tuple[pd.Timestamp, pd.Timestamp], pd.Series] = {}
        self._cache: dict[Any, Any] = {}
        self.customers = customers if customers is not None else pd.DataFrame(index=ids)
        self.as_of = pd.Timestamp(as_of)
        self.signup_column = signup_column
        self.windows = windows

    @property
    def ids(self) -> pd.Index:
        return self._ids

    @property
    def has_transactions(self) -> bool:
        return self.tx is not None

    @property
    def event_columns(self) -> tuple[str, ...]:
        return tuple(self.ev.rows.columns) if self.ev is not None else ()

    # ------------------------------------------------------------------ the customer-level frame
    def features(self, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The customer-level frame as of ``as_of``: the pandas engine's columns and values."""
        when = pd.Timestamp(as_of) if as_of is not None else self.as_of
        if when in self._cache:
            return self._cache[when]
        parts = [self.customers]
        if self.tx is not None:
            parts.append(self._tx_features(when))
        if self.ev is not None:
            parts.append(self._event_features(when))
        frame = pd.concat(parts, axis=1)
        frame.index.name = "customer_id"
        self._cache[when] = frame
        return frame

    def _tx_features(self, when: pd.Timestamp) -> pd.DataFrame:
        levels = self.mix_levels(when)
        empty = self.tx.rows._meta
        meta = transaction_features(empty, pd.Index([], dtype=empty["customer_id"].dtype, name="customer_id"),
                                    when, self.windows, levels)
        got = per_customer(self.client, self.tx, tx_features_part, when, self.windows, levels, meta=meta,
                           before=when)
        missing = self.ids.difference(got.index)
        if len(missing):
            got = pd.concat([got, transaction_features(empty, missing, when, self.windows, levels)])
        tf = got.reindex(self.ids)
        signup = self.signup_dates()
        if signup is not None:
            signup = pd.to_datetime(signup.reindex(self.ids), errors="coerce")
            tf["tenure_days"] = ((when - signup).dt.total_seconds() / 86400.0).to_numpy()
        return tf

    def signup_dates(self) -> pd.Series | None:
        if not self.signup_column:
            return None
        if self.signup_column in self.customers.columns:
            return self.customers[self.signup_column]
        return self._signup

    def mix_levels(self, when: pd.Timestamp) -> dict[str, list]:
        """The channel / category levels of the share columns: the largest by positive spend before
        ``when`` (exact ties in order of the level, where the pandas engine takes the first seen)."""
        if when not in self._levels:
            out = {}
            rows = self.tx.rows
            for role in ("channel", "category"):
                if role in rows.columns:
                    meta = pd.DataFrame({"level": pd.Series(dtype=object), "spend": pd.Series(dtype="float64")})
                    spend = rows.map_partitions(level_spend_part, role, when, meta=meta).groupby("level")["spend"].sum()
                    spend = self.client.compute(spend).result().sort_index()
                    out[role] = mix_levels(spend.index.to_numpy(), spend.to_numpy())
            self._levels[when] = out
        return self._levels[when]

    def _event_features(self, when: pd.Timestamp) -> pd.DataFrame:
        channels = self.event_channels(when)
        empty = self.ev.rows._meta
        meta = event_features(empty, pd.Index([], dtype=empty["customer_id"].dtype, name="customer_id"), when)
        meta = meta.reindex(columns=event_columns(channels), fill_value=0)
        got = per_customer(self.client, self.ev, event_features_part, when, channels, meta=meta, before=when)
        ef = got.reindex(self.ids)
        counts = [c for c in ef.columns if c != "response_rate"]
        ef[counts] = ef[counts].fillna(0).astype("int64")
        return ef

    def event_channels(self, when: pd.Timestamp) -> list:
        """Campaign channels contacted before ``when``, sorted (``event_features``' columns)."""
        if "channel" not in self.ev.rows.columns:
            return []
        if when not in self._channels:
            meta = pd.DataFrame({"channel": pd.Series(dtype=object)})
            parts = collect(self.client, self.ev.rows.map_partitions(channels_before_part, when, meta=meta))
            self._channels[when] = sorted({c for p in parts for c in p["channel"].tolist()})
        return self._channels[when]

    # ------------------------------------------------------------------ windows and ranges
    def window_spend(self, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """Net spend per customer of ``ids`` in [start, end), rounded to 6 decimals."""
        return self.window_spends(ids, [(start, end)])[:, 0]

    def window_spends(self, ids: pd.Index, windows: Iterable[tuple[Any, Any]]) -> np.ndarray:
        """Net spend per customer (rows) in each [start, end) window (columns), rounded to 6
        decimals; windows not asked before are summed on the workers in one pass over the rows
        (``window_spend`` is the one-window case)."""
        windows = [(pd.Timestamp(s), pd.Timestamp(e)) for s, e in windows]
        todo = [w for w in dict.fromkeys(windows) if w not in self._spend]
        if todo:
            sums = self._window_sums(todo)
            for i, w in enumerate(todo):
                self._spend[w] = sums[f"w{i}"]
        cols = [self._spend[w].reindex(ids).fillna(0.0).to_numpy(dtype="float64") for w in windows]
        return np.round(np.column_stack(cols), 6) if cols else np.zeros((len(ids), 0))

    def _window_sums(self, windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> pd.DataFrame:
        """Per customer with rows, the sums of every window: one shuffle of the rows before the
        last window's end (none when the rows are held)."""
        meta = window_sums_part(self.tx.rows._meta, None, windows)
        return per_customer(self.client, self.tx, window_sums_part, windows, meta=meta,
                            before=max(e for _, e in windows))

    def window_baskets(self, ids: pd.Index, windows: Iterable[tuple[Any, Any]]) -> np.ndarray | None:
        """Purchase invoices, lines and units per customer and window, counted on the workers in
        one pass over the rows shuffled by customer (the pandas engine's
        :func:`~microseg.features.basket_counts`); None without an invoice column."""
        if self.tx is None or "invoice" not in self.tx.rows.columns:
            return None
        windows = [(pd.Timestamp(s), pd.Timestamp(e)) for s, e in windows]
        names = [f"{name}{j}" for j in range(len(windows)) for name in BASKET_COUNTS]
        meta = pd.DataFrame({c: pd.Series(dtype="float64") for c in names})
        got = per_customer(self.client, self.tx, basket_counts_part, windows, meta=meta,
                           before=max(e for _, e in windows)).reindex(ids).fillna(0.0)
        out = np.array(got[names], dtype="float64").reshape(len(ids), len(windows), len(BASKET_COUNTS))
        if "quantity" not in self.tx.rows.columns:
            out[:, :, BASKET_COUNTS.index("units")] = np.nan
        return out

    def tx_date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last transaction time of this run's customers."""
        if self._date_range is None:
            meta = pd.DataFrame({"lo": pd.Series(dtype="datetime64[ns]"), "hi": pd.Series(dtype="datetime64[ns]")})
            parts = pd.concat(collect(self.client, self.tx.rows.map_partitions(ts_range_part, meta=meta)))
            self._date_range = (pd.Timestamp(parts["lo"].min()), pd.Timestamp(parts["hi"].max()))
        return self._date_range

    def event_rows(self, before: Any = None, columns: list[str] | None = None) -> pd.DataFrame | None:
        """Campaign contacts (before ``before`` when given; only ``columns`` when given) as a
        pandas frame on the client, for a method that trains on contact rows — the one place rows
        are collected: call it only on what fits in this process."""
        if self.ev is None:
            return None
        ev = self.ev.rows
        if before is not None and "ts" in ev.columns:
            ev = ev[ev["ts"] < pd.Timestamp(before)]
        if columns is not None:
            ev = ev[[c for c in columns if c in ev.columns]]
        parts = [p for p in collect(self.client, ev) if len(p)]
        out = pd.concat(parts, ignore_index=True) if parts else ev._meta.reset_index(drop=True)
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype(object)
        return out

    # ------------------------------------------------------------------ services
    def customer_attributes(self, columns: Sequence[str]) -> pd.DataFrame:
        """The protected customers table's ``columns``."""
        return customer_attributes(self.customers, self.ids, columns, {})

    def fit_classifier(self, params: dict[str, Any], x: pd.DataFrame, y: np.ndarray, *,
                       n_estimators: int, in_process: Callable[[], Classifier] | None = None) -> Classifier:
        """LightGBM trained on the cluster (``DaskLGBMClassifier``), returned as a local model
        (``in_process``, a fit in this process, is not used: the data belong on the cluster)."""
        return fit_dask_lgbm(self.client, params, n_estimators, x, y)

    # ------------------------------------------------------------------ subsets
    def restrict(self, keep: Any) -> DaskCustomerData:
        """Only the customers in ``keep`` (consent, or a training sample): the others' rows are
        filtered out on the workers; held again when the subset now fits in memory."""
        ids = self.ids[self.ids.isin(pd.Index(keep))]
        share = len(ids) / max(1, len(self.ids))
        room: list[int] = []

        def sub(table: RowTable | None) -> RowTable | None:
            if table is None:
                return None
            out = table.restricted(ids, share)
            if out.held is None:
                room[:] = room or [cluster_room(self.client)]
                if out.nbytes <= HOLD_SHARE * room[0]:
                    room[0] -= out.plan(room[0])
            return out

        signup = self._signup.reindex(ids) if self._signup is not None else None
        return DaskCustomerData(client=self.client, customers=self.customers.loc[self.customers.index.isin(ids)],
                                tx=sub(self.tx), ev=sub(self.ev), as_of=self.as_of, ids=ids,
                                signup_column=self.signup_column, signup=signup, windows=self.windows)
