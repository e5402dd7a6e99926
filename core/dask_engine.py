"""The Dask engine: the same governed run, with transactions and campaign events on a cluster.

* Transactions and events are read with Dask DataFrame straight from Parquet (split by row
  group, so one big pandas-written file still becomes many partitions) or CSV (by block size;
  a ``.gz`` CSV cannot be split: one partition per file).
* Rows are normalised per partition with the loader's own functions, then **shuffled by
  customer**, so every customer's rows sit in one partition; behaviour features are computed
  there by the very same pandas code as the in-process engine (``microseg.features``) and only
  the customer-level result — one row of numbers per customer — comes back to the client.
* LightGBM models train through ``lightgbm.DaskLGBMClassifier`` (see :func:`fit_lgbm`).
* The customers table (attributes, consent) is read in process: it has one row per customer,
  like the result. Its personal columns are scanned and masked before methods see it, as in
  the pandas engine.
* Everything after loading — scan, consent, methods, microsegments, the release gate, the
  atomic store write and the audit trail — is the shared pipeline (``run_config``).
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

import numpy as np
import pandas as pd

from microseg.config import Config, EventsSource, TransactionsSource
from microseg.data import CustomerData
from microseg.errors import ConfigError, InputError
from microseg.features import DEFAULT_WINDOWS, event_features, mix_levels, transaction_features
from microseg.loading import load_customers, normalise_events, normalise_transactions, source_label

PARQUET_BLOCK = "8MiB"
BYTES_PER_ROW = 48          # normalised transaction row in memory, with overhead
PERSIST_SHARE = 0.3         # persist the shuffled table only below this share of cluster memory


def cluster_memory(client: Any) -> int:
    workers = client.scheduler_info().get("workers", {}).values()
    return int(sum(w.get("memory_limit") or 0 for w in workers))
CSV_BLOCK = "16MB"


def _dd():
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("the Dask engine needs the dask extra: pip install 'microseg[dask]'", key="engine") from None
    return dd


def read_partitioned(cfg: Config, src: Any, columns: list[str]):
    """A Dask DataFrame of the needed columns, split into many partitions."""
    dd = _dd()
    if src.url:
        raise ConfigError("the Dask engine reads files (Parquet/CSV); use the pandas engine for SQL sources",
                          key="engine")
    path = cfg.resolve(src.path)
    if not path.exists():
        raise InputError("file not found", source=str(path))
    if (src.format or "") == "parquet" or path.suffix.lower() in (".parquet", ".pq") or path.is_dir():
        return dd.read_parquet(str(path), columns=columns, split_row_groups="adaptive", blocksize=PARQUET_BLOCK)
    sep = src.sep or ","
    return dd.read_csv(str(path), sep=sep.strip() or sep, usecols=columns, blocksize=None if path.suffix == ".gz"
                       else CSV_BLOCK, dtype=str, skipinitialspace=sep.endswith(" "))


def _normalise_transactions(part: pd.DataFrame, src: TransactionsSource, label: str) -> pd.DataFrame:
    """The loader's own row normalisation, on one partition (text roles as plain strings)."""
    out = normalise_transactions(part.loc[part[src.customer_id].notna().to_numpy()], src, label)
    for role in ("invoice", "channel", "category"):
        if role in out:
            out[role] = out[role].astype(str)
    return out


def _normalise_events(part: pd.DataFrame, src: EventsSource, label: str) -> pd.DataFrame:
    """The loader's own event normalisation, on one partition."""
    return normalise_events(part.loc[part[src.customer_id].notna().to_numpy()], src, label)


def _tx_partition_features(part: pd.DataFrame, as_of: pd.Timestamp, windows: tuple[int, ...],
                           levels: dict[str, list]) -> pd.DataFrame:
    ids = pd.Index(pd.unique(part["customer_id"]), name="customer_id")
    return transaction_features(part, ids, as_of, windows, levels)


def _event_partition_features(part: pd.DataFrame, as_of: pd.Timestamp, channels: list[str]) -> pd.DataFrame:
    ids = pd.Index(pd.unique(part["customer_id"]), name="customer_id")
    out = event_features(part, ids, as_of)
    cols = ["contacts", "responses", "response_rate"] + [f"{p}{ch}" for ch in channels
                                                         for p in ("contacts_", "responses_")]
    return out.reindex(columns=cols, fill_value=0)        # same columns in every partition


class DaskCustomerData(CustomerData):
    """CustomerData whose transactions / events are Dask DataFrames on a cluster."""

    engine = "dask"

    def __init__(self, *, client: Any, customers: pd.DataFrame | None, transactions: Any, events: Any,
                 as_of: pd.Timestamp | None, signup_column: str | None, ids: pd.Index,
                 windows: tuple[int, ...] = DEFAULT_WINDOWS) -> None:
        self.client = client
        self._ids = ids
        self._levels: dict[str, list] | None = None
        super().__init__(customers=customers if customers is not None else pd.DataFrame(index=ids),
                         transactions=transactions, events=events, as_of=as_of, signup_column=signup_column,
                         windows=windows)

    @property
    def ids(self) -> pd.Index:
        return self._ids

    def tx_date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        import dask
        tx = self.flat_transactions if self.flat_transactions is not None else self.transactions
        lo, hi = dask.compute(tx["ts"].min(), tx["ts"].max())
        return pd.Timestamp(lo), pd.Timestamp(hi)

    def _mix_levels(self) -> dict[str, list]:
        if self._levels is None:
            self._levels = {}
            for role in ("channel", "category"):
                if role in self.transactions.columns:
                    pos = self.transactions["amount"].clip(lower=0)
                    spend = pos.groupby(self.transactions[role]).sum().compute()
                    self._levels[role] = mix_levels(spend.index.to_numpy(), spend.to_numpy())
        return self._levels

    def features(self, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
        when = pd.Timestamp(as_of) if as_of is not None else self.as_of
        if when in self._cache:
            return self._cache[when]
        ids = self.ids
        parts = [self.customers]
        if self.transactions is not None:
            levels = self._mix_levels()
            tf = self.transactions.map_partitions(_tx_partition_features, when, self.windows, levels,
                                                  meta=transaction_features(self.transactions._meta, pd.Index([]),
                                                                            when, self.windows, levels)).compute()
            missing = ids.difference(tf.index)
            empty = transaction_features(self.transactions._meta, missing, when, self.windows, levels)
            tf = pd.concat([tf, empty]).reindex(ids)
            if self.signup_column and self.signup_column in self.customers:
                signup = pd.to_datetime(self.customers[self.signup_column], errors="coerce")
                tf["tenure_days"] = ((when - signup).dt.total_seconds() / 86400.0).to_numpy()
            parts.append(tf)
        if self.events is not None:
            channels = sorted(self.events["channel"].unique().compute()) if "channel" in self.events.columns else []
            from microseg.features import _slug
            channels = [_slug(c) for c in channels]
            meta = _event_partition_features(self.events._meta, when, channels)
            ef = self.events.map_partitions(_event_partition_features, when, channels, meta=meta).compute()
            counts = [c for c in ef.columns if c != "response_rate"]
            ef = ef.reindex(ids)
            ef[counts] = ef[counts].fillna(0).astype("int64")
            parts.append(ef)
        frame = pd.concat(parts, axis=1)
        frame.index.name = "customer_id"
        self._cache[when] = frame
        return frame

    flat_transactions: Any = None      # the unshuffled table when not persisted (sums need no shuffle)

    def window_spends(self, ids: pd.Index, windows: Any) -> np.ndarray:
        """Net spend per customer (rows) in each [start, end) window (columns), computed on the
        workers in one graph (``window_spend`` is the one-window case)."""
        import dask
        tx = self.flat_transactions if self.flat_transactions is not None else self.transactions
        sums = [tx[(tx["ts"] >= start) & (tx["ts"] < end)].groupby("customer_id")["amount"].sum()
                for start, end in windows]
        return np.column_stack([np.round(s.reindex(ids).fillna(0.0).to_numpy(), 6) for s in dask.compute(*sums)])

    def restrict(self, keep: Any) -> "DaskCustomerData":
        keep_ids = pd.Index(keep)
        keep_set = set(keep_ids.tolist())
        tx = self.transactions[self.transactions["customer_id"].isin(keep_set)] if self.transactions is not None else None
        ev = self.events[self.events["customer_id"].isin(keep_set)] if self.events is not None else None
        return DaskCustomerData(client=self.client, customers=self.customers.loc[self.customers.index.isin(keep_ids)],
                                transactions=tx, events=ev, as_of=self.as_of, signup_column=self.signup_column,
                                ids=self.ids[self.ids.isin(keep_ids)], windows=self.windows)


def load_data_dask(cfg: Config, client: Any) -> tuple[DaskCustomerData, dict]:
    """Read and validate the sources onto the cluster, shuffled by customer."""
    s = cfg.sources
    stats: dict = {}
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    customers = load_customers(cfg, s.customers) if s.customers else None
    tx = ev = flat = None
    if s.transactions:
        src = s.transactions
        cols = [c for c in [src.customer_id, src.timestamp, src.amount, src.quantity, src.unit_price, src.invoice,
                            src.channel, src.category] if c]
        if src.attributes:
            raise ConfigError("the Dask engine does not carry transaction attributes yet; put them in a customers "
                              "table", key="sources.transactions.attributes")
        raw = read_partitioned(cfg, src, cols)
        missing = [c for c in cols if c not in raw.columns]
        if missing:
            raise InputError(f"missing column {missing[0]!r}", source=source_label(cfg, src), column=missing[0])
        meta = _normalise_transactions(raw._meta.assign(**{src.timestamp: pd.Series(dtype="datetime64[ns]")}), src, "")
        flat = raw.map_partitions(_normalise_transactions, src, source_label(cfg, src), meta=meta)
        rows = int(flat.shape[0].compute())            # also validates every row before anything runs
        tx = flat.shuffle(on="customer_id", npartitions=max(flat.npartitions, 2 * workers), method="tasks")
        fits = rows * BYTES_PER_ROW < PERSIST_SHARE * cluster_memory(client)
        if fits:          # small enough: keep it on the workers; otherwise stream from the files
            tx, flat = tx.persist(), None
        stats["transactions"] = {"partitions": int(tx.npartitions), "rows": rows, "persisted": bool(fits)}
    if s.events:
        src = s.events
        cols = [c for c in [src.customer_id, src.timestamp, src.channel, src.responded, src.campaign, src.treatment] if c]
        raw = read_partitioned(cfg, src, cols)
        meta = _normalise_events(raw._meta, src, "")
        ev = raw.map_partitions(_normalise_events, src, source_label(cfg, src), meta=meta)
        ev = ev.shuffle(on="customer_id", npartitions=max(ev.npartitions, 2 * workers), method="tasks").persist()
    if customers is not None:
        ids = customers.index
        if tx is not None:
            known = set(ids.tolist())
            tx = tx[tx["customer_id"].isin(known)]
            flat = flat[flat["customer_id"].isin(known)] if flat is not None else None
    else:
        ids = pd.Index(np.sort(tx["customer_id"].unique().compute()), name="customer_id")
    as_of = pd.Timestamp(cfg.as_of) if cfg.as_of is not None else None
    if as_of is None and tx is not None:
        as_of = pd.Timestamp(tx["ts"].max().compute()).normalize() + pd.Timedelta(days=1)
    data = DaskCustomerData(client=client, customers=customers, transactions=tx, events=ev, as_of=as_of,
                            signup_column=s.customers.signup_date if s.customers else None, ids=ids)
    data.flat_transactions = flat if s.transactions else None
    stats["customers"] = int(len(ids))
    return data, stats


def fit_lgbm(data: Any, params: dict, n_estimators: int, x: pd.DataFrame, y: np.ndarray):
    """Fit a LightGBM classifier: through ``DaskLGBMClassifier`` on the cluster when ``data`` is on
    the Dask engine (returned as a local model for scoring), else in process."""
    client = getattr(data, "client", None)
    if client is None:
        from microseg.plugins._lgbm import classifier
        return classifier(params, n_estimators).fit(x, y)
    import dask.dataframe as dd
    from lightgbm import DaskLGBMClassifier
    n_workers = max(1, len(client.scheduler_info()["workers"]))
    dx = dd.from_pandas(x, npartitions=n_workers)
    dy = dd.from_pandas(pd.Series(y, index=x.index), npartitions=n_workers)
    local = {k: v for k, v in params.items() if k != "n_jobs"}
    model = DaskLGBMClassifier(client=client, n_estimators=n_estimators, verbose=-1, **local)
    return model.fit(dx, dy).to_local()


def run_config_dask(cfg: Config, store: Any, registry: Any, *, scheduler: str | None = None,
                    progress: Callable[[str], None] | None = None, n_workers: int = 2,
                    memory_limit: str | None = None) -> Any:
    """Run the governed pipeline with the Dask engine (a LocalCluster when no scheduler is given)."""
    _dd()
    cfg.engine = "dask"
    from distributed import Client, LocalCluster
    from microseg.pipeline import run_config
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit=memory_limit or "auto")
        client = Client(cluster)
    try:
        return run_config(cfg, store, registry, progress=progress, load=partial(load_data_dask, client=client))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
