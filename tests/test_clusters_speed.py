"""Clusters' silhouettes summed per cluster by column runs give the figures the bincount gave."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import pairwise_distances_chunked, silhouette_score

from microseg.plugins import clusters
from microseg.plugins.clusters import Clusters, _run_sums, _transposed, silhouette_scores


def _bincount_silhouettes(x: np.ndarray, labelings: list[np.ndarray], block: int = 256) -> list[float]:
    """The previous implementation: one ``bincount`` per block of rows and labelling."""
    if not labelings:
        return []
    encoded = [np.unique(labels, return_inverse=True)[1].ravel() for labels in labelings]
    freqs = [np.bincount(codes) for codes in encoded]
    intra = [np.empty(len(x)) for _ in encoded]
    inter = [np.empty(len(x)) for _ in encoded]
    start = 0
    for chunk in pairwise_distances_chunked(x, metric="euclidean"):
        for lo in range(0, len(chunk), block):
            d = chunk[lo:lo + block]
            rows, first = np.arange(len(d)), start + lo
            for codes, freq, a, b in zip(encoded, freqs, intra, inter):
                k = len(freq)
                sums = np.bincount((rows[:, None] * k + codes[None, :]).ravel(), weights=d.ravel(),
                                   minlength=len(d) * k).reshape(len(d), k)
                own = (rows, codes[first:first + len(d)])
                a[first:first + len(d)] = sums[own]
                sums[own] = np.inf
                sums /= freq
                b[first:first + len(d)] = sums.min(axis=1)
        start += len(chunk)
    out = []
    for codes, freq, a, b in zip(encoded, freqs, intra, inter):
        with np.errstate(divide="ignore", invalid="ignore"):
            a /= (freq - 1).take(codes, mode="clip")
            s = b - a
            s /= np.maximum(a, b)
        out.append(float(np.mean(np.nan_to_num(s))))
    return out


def _data(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    x = np.clip(rng.standard_t(3, (n, 3)) + rng.integers(0, 3, (n, 1)), -5, 5)
    if kind == "ties":
        x = np.round(x)                                   # many equal distances
    elif kind == "duplicates":
        x[: n // 2] = x[0]                                # half the rows one point: zero distances
    return x


def _labelings(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    out = [rng.integers(0, k, n) for k in (2, 3, 7)]
    out.append(np.where(np.arange(n) == n - 1, 9, out[1]))           # a cluster of one, gaps in the codes
    out.append(np.array(["b", "a"] * (n // 2) + ["c"] * (n % 2)))   # text labels
    return [labels for labels in out if 2 <= len(np.unique(labels)) <= n - 1]


@pytest.mark.parametrize("kind", ["plain", "ties", "duplicates"])
@pytest.mark.parametrize("n", [5, 64, 65, 129, 700])
@pytest.mark.parametrize("block", [1, 2, 64, 256])
def test_silhouettes_are_the_bincounts_and_scikit_learns(kind, n, block):
    rng = np.random.default_rng(n * 7 + block)
    x = _data(rng, n, kind)
    labelings = _labelings(rng, n)
    got = silhouette_scores(x, labelings, block=block)
    assert got == _bincount_silhouettes(x, labelings)
    assert got == [float(silhouette_score(x, labels)) for labels in labelings]


@pytest.mark.parametrize("seed", range(40))
def test_silhouettes_on_random_shapes(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(3, 300)), int(rng.integers(1, 6))
    x = rng.normal(size=(n, d)) * rng.choice([1e-3, 1.0, 1e3])
    labelings = [labels for labels in (rng.integers(0, int(rng.integers(2, 12)), n) for _ in range(3))
                 if 2 <= len(np.unique(labels)) <= n - 1]
    block = int(rng.choice([1, 3, 16, 64]))
    assert silhouette_scores(x, labelings, block=block) == _bincount_silhouettes(x, labelings)


def test_degenerate_inputs_give_what_the_bincount_gave():
    one = np.array([[1.0, 2.0]])
    assert silhouette_scores(one, [np.array([0])]) == _bincount_silhouettes(one, [np.array([0])])
    two = np.array([[0.0], [1.0]])
    assert silhouette_scores(two, [np.array([0, 1]), np.array([3, 3])]) == \
        _bincount_silhouettes(two, [np.array([0, 1]), np.array([3, 3])])
    assert silhouette_scores(two, []) == []
    with pytest.raises(ValueError):                      # NaN: scikit-learn's distances refuse it, as before
        silhouette_scores(np.array([[0.0], [np.nan], [1.0]]), [np.array([0, 1, 1])])


@pytest.mark.parametrize("width", [2, 3, 8, 33, 64])
@pytest.mark.parametrize("rows", [1, 2, 9, 17, 200])
def test_run_sums_add_each_column_from_its_first_row_to_its_last(width, rows):
    """numpy must add the rows one after the other (not pairwise) for the bincount's sums."""
    rng = np.random.default_rng(width * 1000 + rows)
    columns = rng.random((rows, width)) * rng.choice([1e-3, 1.0, 1e3], size=(rows, width))
    bounds = np.array([0, rows // 3, rows])
    got = _run_sums(columns, bounds)
    for c in range(2):
        expected = np.zeros(width)
        for r in range(bounds[c], bounds[c + 1]):
            expected += columns[r]
        assert np.array_equal(got[c], expected)


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_transposed_blocks_have_two_columns_at_least(rows):
    """numpy sums a one-column array pairwise: a block of one row is padded."""
    block = np.arange(rows * 7, dtype=float).reshape(rows, 7)
    got = _transposed(block)
    assert got.shape == (7, max(rows, 2)) and got.flags.c_contiguous
    assert np.array_equal(got[:, :rows], block.T) and not got[:, rows:].any()


def test_fit_chooses_k_with_the_same_figures_as_scikit_learns_silhouette(monkeypatch):
    rng = np.random.default_rng(5)
    n = 900
    customers = pd.DataFrame({"recency_days": rng.integers(0, 400, n), "frequency": rng.poisson(5, n),
                              "monetary": rng.gamma(2, 100, n), "return_share": rng.beta(1, 9, n)},
                             index=[f"c{i}" for i in range(n)])
    fast = Clusters(k_range=(2, 6), n_bootstrap=2).fit(customers)
    monkeypatch.setattr(clusters, "silhouette_scores",
                        lambda x, labelings: [float(silhouette_score(x, labels)) for labels in labelings])
    slow = Clusters(k_range=(2, 6), n_bootstrap=2).fit(customers)
    assert (fast.k_, fast.silhouette_, fast.stability_ari_) == (slow.k_, slow.silhouette_, slow.stability_ari_)
    assert fast.report() == slow.report()
    pd.testing.assert_series_equal(fast.assign(customers), slow.assign(customers))
