"""The Dask engine: the same governed run, with the data on a Dask cluster.

* :mod:`~microseg.dask_engine.reading` reads Parquet / CSV in partitions sized from the workers'
  memory limit; :mod:`~microseg.dask_engine.rows` normalises and validates each partition with
  the pandas loader's own functions (errors name the file, column and row).
* :mod:`~microseg.dask_engine.customers` reads the customers table on the workers, and
  :mod:`~microseg.dask_engine.scan_tables` runs the privacy step (scan, level counts, masking,
  folding, erasure) there on every table: only the protected customers table and the findings
  reach the client.
* :mod:`~microseg.dask_engine.bycustomer` computes per-customer values from rows shuffled by
  customer through Dask's disk-backed shuffle, holding them in worker memory when they fit,
  else reading them again from the files for each computation.
* :class:`DaskCustomerData` implements :class:`microseg.engine.Engine`: the pandas engine's
  customer-level frame (same feature code), windowed spend and date range, all computed on the
  workers, and ``fit_classifier`` training LightGBM with ``DaskLGBMClassifier``
  (:func:`~microseg.dask_engine.lgbm.fit_dask_lgbm`).
* :func:`run_config_dask` connects (or starts a LocalCluster) and runs the shared pipeline.
"""
from __future__ import annotations

from microseg.dask_engine.cluster import dask_client, local_cluster, run_config_dask
from microseg.dask_engine.frame import DaskCustomerData
from microseg.dask_engine.lgbm import fit_dask_lgbm
from microseg.dask_engine.loader import load_data_dask

__all__ = ["DaskCustomerData", "dask_client", "fit_dask_lgbm", "load_data_dask", "local_cluster", "run_config_dask"]
