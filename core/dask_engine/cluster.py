"""Connect to a Dask cluster, or start a local one with memory settings that reach its workers."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from microseg.config import Config
from microseg.dask_engine.reading import require_dask
from microseg.errors import ConfigError

#: share of this machine's memory given to the workers of a local cluster (the rest: the client)
LOCAL_MEMORY_SHARE = 0.6
#: Worker memory settings of a local cluster. Thresholds are fractions of the limit: above
#: ``spill`` a worker writes results to disk, above ``pause`` it starts no task, above
#: ``terminate`` its nanny restarts it. A worker process needs ~200 MB for itself (Python,
#: pandas, pyarrow, Dask; measured), so on small workers the room for data is what lies between
#: that and ``pause``; Dask's default 0.8 is raised to 0.85. Arrow's own allocator (mimalloc)
#: keeps freed memory, which a worker then counts as unmanaged and pauses on (measured: ~60 MB
#: more per worker after reading Parquet): the workers use the system allocator instead.
WORKER_MEMORY = {
    "distributed.worker.memory.target": 0.6,
    "distributed.worker.memory.spill": 0.7,
    "distributed.worker.memory.pause": 0.85,
    "distributed.worker.memory.terminate": 0.95,
    "distributed.nanny.pre-spawn-environ.ARROW_DEFAULT_MEMORY_POOL": "system",
}


#: The smallest worker memory limit a local cluster accepts: a worker takes ~200 MB for itself,
#: and below this limit it pauses (above 0.85 of it) before any data arrive, so a run waits
#: forever (seen with 256 MiB; 384 MiB is the limit measured to work in tests/test_dask_engine.py).
MIN_WORKER_MEMORY = 384 << 20


def p2p_buffers(memory_limit: int) -> dict[str, str]:
    """Buffers of Dask's disk-backed shuffle for workers of ``memory_limit`` bytes: the defaults
    (1 GiB to send, 100 MiB before a disk write) overrun small workers; a twelfth of the limit
    each (at least 16 MiB)."""
    share = max(16 << 20, memory_limit // 12)
    return {"distributed.p2p.comm.buffer": f"{min(share, 1 << 30)}B",
            "distributed.p2p.storage.buffer": f"{min(share, 100 << 20)}B"}


def local_cluster(n_workers: int = 2, memory_limit: str | int | None = None, **kwargs: Any) -> Any:
    """A LocalCluster of single-threaded worker processes, dashboard off. The memory and shuffle
    settings are set in Dask's config while it starts: each nanny hands its config to its worker."""
    import dask
    import psutil
    from dask.utils import parse_bytes
    from distributed import LocalCluster
    if memory_limit is None:
        memory_limit = int(psutil.virtual_memory().total * LOCAL_MEMORY_SHARE / n_workers)
    try:
        limit = parse_bytes(memory_limit) if isinstance(memory_limit, str) else int(memory_limit)
    except (ValueError, TypeError):
        raise ConfigError(f"memory_limit {memory_limit!r} is not a size such as '2GiB'", key="memory_limit") from None
    if limit < MIN_WORKER_MEMORY:
        raise ConfigError(f"memory_limit {memory_limit!r} is below the {MIN_WORKER_MEMORY >> 20} MiB a Dask "
                          "worker needs (it takes ~200 MB for itself and would pause before any data arrive)",
                          key="memory_limit")
    # the scheduler (in this process) logs every shuffle's start and end as a warning: not news
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
    with dask.config.set({**WORKER_MEMORY, **p2p_buffers(limit)}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, memory_limit=limit,
                            # no dashboard; the scheduler's own HTTP server on a free port, not 8787
                            dashboard_address=":0", scheduler_kwargs={"dashboard": False}, **kwargs)


def check_workers(client: Any) -> None:
    """Every worker must import the same microseg version (partition functions are microseg's)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        mine = version("microseg")
    except PackageNotFoundError:
        mine = None
    try:
        theirs = client.run(version, "microseg")
    except Exception:  # noqa: BLE001 - whatever the worker raised, the fix is the same
        raise ConfigError("the Dask workers cannot import microseg: install microseg[dask] on every worker "
                          "(the same version as here)", key="engine") from None
    if mine is not None and any(v != mine for v in theirs.values()):
        found = ", ".join(sorted(set(theirs.values())))
        raise ConfigError(f"the Dask workers run microseg {found}, this process {mine}; install the same version",
                          key="engine")


def _check_reachable(scheduler: str, timeout: float = 5) -> None:
    """Fail fast when nothing listens at a TCP / TLS scheduler address (Dask's client would
    retry until its timeout), or when a TCP listener does not greet within ``timeout`` (a Dask
    server writes its handshake first; Dask's client would wait for it without a bound)."""
    import socket
    from urllib.parse import urlsplit
    address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls"):
        return
    try:
        port = parts.port or 8786
    except ValueError:
        raise ConfigError(f"{scheduler!r} is not a scheduler address such as tcp://host:8786", key="scheduler") \
            from None
    try:
        sock = socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout)
    except OSError:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}", key="scheduler") from None
    with sock:
        try:
            greeted = parts.scheme != "tcp" or bool(sock.recv(1))
        except OSError:                                        # socket.timeout included
            greeted = False
    if not greeted:
        raise ConfigError(f"the Dask scheduler at {scheduler} did not answer within {timeout:g} s: check that it "
                          "runs, or raise $MICROSEG_CONNECT_TIMEOUT", key="scheduler")


@contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = 2, memory_limit: str | int | None = None,
                timeout: float | None = None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a new local cluster; closed on exit.
    ``timeout``: seconds a scheduler may take to answer (default: the connect timeout,
    :func:`microseg.store.connect.timeouts`)."""
    require_dask()
    from distributed import Client

    from microseg.store.connect import timeouts
    timeout = timeout or timeouts().connect
    cluster = None
    try:
        if scheduler:
            _check_reachable(scheduler, timeout)
            try:
                client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError):
                raise ConfigError(f"the Dask scheduler at {scheduler} did not answer within {timeout:g} s: check "
                                  "that it runs, or raise $MICROSEG_CONNECT_TIMEOUT", key="scheduler") from None
            try:
                client.wait_for_workers(1, timeout=timeout)
            except TimeoutError:
                client.close()
                raise ConfigError(f"the Dask scheduler at {scheduler} has no worker (waited {timeout:g} s)",
                                  key="scheduler") from None
            check_workers(client)
        else:
            cluster = local_cluster(n_workers, memory_limit)
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def run_config_dask(cfg: Config, store: Any, registry: Any, *, scheduler: str | None = None,
                    progress: Callable[[str], None] | None = None, n_workers: int = 2,
                    memory_limit: str | int | None = None) -> Any:
    """Run the governed pipeline on the Dask engine: the cluster at ``scheduler``, or a local one
    (``n_workers`` processes of one thread, ``memory_limit`` each; default: together 60 % of
    this machine's memory). Only loading differs from the pandas engine."""
    from microseg.dask_engine.loader import load_data_dask
    from microseg.pipeline import run_config
    with dask_client(scheduler, n_workers=n_workers, memory_limit=memory_limit,
                     timeout=getattr(getattr(store, "bounds", None), "connect", None)) as client:
        return run_config(cfg, store, registry, progress=progress,
                          load=partial(load_data_dask, client=client, registry=registry))
