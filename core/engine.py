"""The engine protocol: what a segmentation method (and the pipeline) may ask of a run's data.

A method that declares a keyword parameter ``data`` on ``fit`` / ``assign`` / ``scores``
receives an object implementing :class:`Engine`, whatever engine loaded the run:

* the pandas engine, :class:`microseg.data.CustomerData`, computes everything in this process;
* the Dask engine, :class:`microseg.dask_engine.DaskCustomerData`, computes row-level work on a
  Dask cluster and returns customer-level results (pandas) only.

A method written against this protocol alone — never against an engine's own attributes such
as a ``client`` or raw row frames — runs on every engine. Adding an engine (DuckDB, Spark, …)
means one new package with a class implementing this protocol and a loader that builds it from a
:class:`microseg.config.Config`, run as ``microseg.pipeline.run_config(cfg, store, registry,
load=its_loader)`` (what :func:`microseg.dask_engine.run_config_dask` does); the pipeline, the
privacy layer and the methods stay as they are. Only the engine's name is chosen outside the
package: the ``engine`` config value and the dispatch in :func:`microseg.api.run`.

Results are the same on every engine: customer-level frames have the pandas engine's columns and
values, ``fit_classifier`` returns an in-process model whatever trained it.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from microseg.errors import ConfigError


@runtime_checkable
class Classifier(Protocol):
    """A fitted binary classifier (what :meth:`Engine.fit_classifier` returns: a LightGBM
    ``LGBMClassifier``, so ``predict(x, pred_contrib=True)`` works as well)."""

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray: ...


@runtime_checkable
class Engine(Protocol):
    """The data of one run on one engine: customers, transactions and campaign events, plus the
    reference date ``as_of``. Every time argument is a ``pandas.Timestamp`` (or a string it parses)."""

    #: short name recorded with the run ("pandas", "dask")
    engine: ClassVar[str]
    #: reference date: behaviour features use data strictly before it
    as_of: pd.Timestamp
    #: customer attributes (pandas, index ``customer_id``; after the privacy step: protected), or None
    customers: pd.DataFrame | None

    @property
    def ids(self) -> pd.Index:
        """All customer ids of the run (the index of :meth:`features`)."""

    @property
    def has_transactions(self) -> bool:
        """Whether the run has a transactions source."""

    @property
    def event_columns(self) -> tuple[str, ...]:
        """Columns of the campaign events (``customer_id``, ``ts``, ``channel``, ``responded``,
        optionally ``campaign``, ``treatment``); empty without events."""

    def features(self, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The customer-level frame as of ``as_of`` (default: the run's): attributes joined with
        behaviour features from data strictly before it (docs/customer-frame.md)."""

    def window_spend(self, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """Net spend per customer of ``ids`` in [start, end), rounded to 6 decimals."""

    def window_spends(self, ids: pd.Index, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]) -> np.ndarray:
        """Net spend per customer (rows) in each [start, end) window (columns), rounded to 6 decimals."""

    def window_baskets(self, ids: pd.Index, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]
                       ) -> np.ndarray | None:
        """Per customer (rows), [start, end) window and (purchase invoices, purchase lines, units)
        (last axis; :func:`microseg.features.basket_counts`: units NaN without a mapped quantity);
        None when the transactions have no invoice column."""

    def tx_date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last transaction time."""

    def event_rows(self, before: Any = None, columns: list[str] | None = None) -> pd.DataFrame | None:
        """Campaign contacts (before ``before`` when given; only those of ``columns`` that exist
        when given) as a pandas frame in this process, or None without events. Rows are many:
        ask only for the columns needed."""

    def restrict(self, keep: pd.Index | np.ndarray) -> Engine:
        """The same data with only the customers in ``keep`` (consent, a training sample)."""

    def customer_attributes(self, columns: Sequence[str]) -> pd.DataFrame:
        """The customers table's ``columns`` for every customer of :attr:`ids` (release of
        attributes); a :class:`~microseg.errors.ConfigError` naming the first one that is not there."""

    # The privacy step's access (microseg.privacy.protect runs it right after loading, the same
    # on every engine): every table scanned, counted, masked and folded where the data are.
    def table_names(self) -> list[str]:
        """The loaded tables ("customers", "transactions", "events", …)."""

    def scan_table(self, name: str, registry: Any) -> list[Any]:
        """The PII scan's findings for table ``name`` (customer ids as the column ``customer_id``)."""

    def summarise(self, name: str, fn: Any) -> list[Any]:
        """``fn(partition)`` of every partition of table ``name`` (customer ids as a column)."""

    def transformed(self, fn: Any, erased: pd.Index | None = None) -> Engine:
        """The data with every table passed through ``fn(name, partition)`` and the customers in
        ``erased`` removed everywhere."""

    def fit_classifier(self, params: dict[str, Any], x: pd.DataFrame, y: np.ndarray, *,
                       n_estimators: int, in_process: Callable[[], Classifier] | None = None) -> Classifier:
        """A LightGBM binary classifier with ``params`` and ``n_estimators`` trees fitted on
        ``x``, ``y``, returned as an in-process model. The pandas engine fits it here — by calling
        ``in_process`` when the caller has an equivalent, cheaper fit ready (rows it already binned);
        the Dask engine trains it on the cluster (``lightgbm.DaskLGBMClassifier``) and ignores it."""


def customer_attributes(customers: pd.DataFrame | None, ids: pd.Index, columns: Sequence[str],
                        masked_actions: dict[str, str], where: str = "", advice: str = "") -> pd.DataFrame:
    """``customers[columns]`` for ``ids``; an error naming the first missing column (and, when
    masking removed it, the action; ``where`` says where the masking ran, ``advice`` what to do)."""
    have = customers.columns if customers is not None else pd.Index([])
    missing = [c for c in columns if c not in have]
    if missing and missing[0] in masked_actions:
        raise ConfigError(f"{missing[0]!r} was removed when the customers table was masked{where} "
                          f"(action {masked_actions[missing[0]]}){advice}")
    if missing:
        raise ConfigError(f"{missing[0]!r} is not a customer attribute")
    return customers.loc[ids, list(columns)]
