"""Thread limits for the numeric libraries a method calls (scikit-learn's OpenMP loops, BLAS)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def limited_threads(n_jobs: int | None) -> Iterator[None]:
    """Run the block with at most ``n_jobs`` OpenMP / BLAS threads (``None``: the libraries' default).

    On the 2 shared cores measured here, k-means and silhouette on 5,000 rows ran 10-40x faster
    on one thread than on two busy ones (the threads spin waiting for each other)."""
    if n_jobs is None:
        yield
        return
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=max(1, int(n_jobs))):
        yield
