"""The uplift bootstrap from the units' draw counts (uplift_resampled) gives the very numbers of the
row-weight metrics: every replicate bit for bit, NaN and signed zeros included."""
from __future__ import annotations

import numpy as np
import pytest

from microseg.plugins import _metrics, comparison
from microseg.plugins._metrics import qini_auc_score, reused, treatment_effect, uplift_at_k, uplift_resampled
from microseg.plugins.comparison import ModelComparison, resample_weights


def _row_replicates(check: ModelComparison, n_resamples: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The replicates as computed before: row weights, sliced as replicates() slices them, into _all."""
    strata = check.y if check.kind == "classifier" else check.treatment
    out: dict[str, tuple[list, list]] = {name: ([], []) for name in check.metric_names()}
    step = max(comparison.METRIC_CELLS // max(check.rows, 1), 2 if check.rows <= comparison.PAIRED_ROWS else 1)
    with reused():
        for chunk in resample_weights(check.rows, n_resamples, seed,
                                      strata=None if check.groups is not None else strata, groups=check.groups):
            for at in range(0, chunk.shape[1], step):
                for name, (model, base) in check._all(np.ascontiguousarray(chunk[:, at:at + step])).items():
                    out[name][0].append(model)
                    out[name][1].append(base)
    return {name: (np.concatenate(m), np.concatenate(b)) for name, (m, b) in out.items()}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name, pair in a.items():
        for x, y in zip(pair, b[name]):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert x.tobytes() == y.tobytes(), name                   # bit for bit: NaN, -0.0 and all


def _check(rng: np.random.Generator, n: int, scores: str, grouped: bool, treated: float = 0.5) -> ModelComparison:
    y = rng.integers(0, 2, n)
    t = (rng.random(n) < treated).astype(int)
    score = {"distinct": rng.random(n), "ties": rng.random(n).round(2), "few": rng.integers(0, 5, n) / 4.0,
             "many-few": rng.integers(0, 40, n) / 8.0, "constant": np.full(n, 0.25),
             "float32": rng.random(n).astype(np.float32)}[scores]
    groups = np.array([f"C{i}" for i in rng.integers(0, max(1, n // 4), n)], dtype=object) if grouped else None
    return ModelComparison("m", "uplift", "qini_auc", "random", y, score, treatment=t, groups=groups)


@pytest.mark.parametrize("scores", ["distinct", "ties", "few", "many-few", "constant", "float32"])
@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("n", [1, 2, 7, 300, 2_000])
def test_uplift_replicates_are_the_row_weights_numbers(scores, grouped, n):
    check = _check(np.random.default_rng(n), n, scores, grouped)
    _same(check.replicates(45, 3), _row_replicates(check, 45, 3))
    counts, units = next(comparison.resample_counts(n, 2, 0, strata=check.treatment, groups=check.groups))
    assert uplift_resampled(check.y, check.treatment, check.score, counts, units) is not None    # the fast path


@pytest.mark.parametrize("unit_cells", [1, 1_600_000])                 # a block per step … the whole chunk
@pytest.mark.parametrize("cells", [1_000_000, 6_000, 600, 0])           # 600: two at a time, some alone; 0: one
@pytest.mark.parametrize("scores", ["ties", "many-few"])
def test_uplift_replicates_whatever_the_metric_chunk(monkeypatch, cells, unit_cells, scores):
    monkeypatch.setattr(comparison, "METRIC_CELLS", cells)
    if cells == 0:
        monkeypatch.setattr(comparison, "PAIRED_ROWS", 0)               # as for more than 500,000 rows
    monkeypatch.setattr(comparison, "CHUNK_CELLS", 30_000)              # several chunks, the last one short
    monkeypatch.setattr(_metrics, "UNIT_CELLS", unit_cells)
    check = _check(np.random.default_rng(5), 1_200, scores, grouped=True)
    _same(check.replicates(61, 9), _row_replicates(check, 61, 9))


def test_an_arm_missing_from_resamples_gives_the_same_nans():
    # three treated customers: many resamples draw no treated row, or no treated responder
    check = _check(np.random.default_rng(11), 200, "ties", grouped=True, treated=0.02)
    got, ref = check.replicates(80, 1), _row_replicates(check, 80, 1)
    _same(got, ref)
    assert np.isnan(got["uplift_at_30"][0]).any()


def test_outcomes_not_zero_one_fall_back_to_the_rows():
    check = _check(np.random.default_rng(2), 300, "ties", grouped=False)
    check.y = check.y.astype(float)
    check.y[:3] = np.nan
    _same(check.replicates(20, 0), _row_replicates(check, 20, 0))
    assert uplift_resampled(check.y, check.treatment, check.score, np.ones((300, 2), np.float32)) is None


@pytest.mark.parametrize("seed", range(4))
def test_units_counts_equal_the_row_functions(seed):
    """Hand-made counts, incl. zero weight on the best-ranked rows (uplift@k reads past its first guess of
    rows), and counts that are not whole numbers or too large (None: the caller uses the rows)."""
    rng = np.random.default_rng(seed)
    n, units_n = 3_000, 700
    y, t = rng.integers(0, 2, n), rng.integers(0, 2, n)
    score = rng.random(n).round(3)
    units = rng.integers(0, units_n, n)
    counts = rng.poisson(1.0, (units_n, 5)).astype(np.float32)
    counts[units[np.argsort(-score, kind="stable")[:2_000]], 1] = 0      # the top two thirds of rows undrawn
    got = uplift_resampled(y, t, score, counts, units, step=5)                 # all five at once, as below
    w = counts[units]
    assert got["qini_auc"].tobytes() == qini_auc_score(y, score, t, w).tobytes()
    assert got["uplift_at_k"].tobytes() == uplift_at_k(y, score, t, 0.3, w).tobytes()
    assert got["treatment_effect"].tobytes() == treatment_effect(y, t, w).tobytes()
    assert uplift_resampled(y, t, score, counts + 0.5, units) is None
    assert uplift_resampled(y, t, score, -counts, units) is None
    assert uplift_resampled(y, t, score, np.full((units_n, 2), 2.0 ** 21, np.float32), units) is None
    assert uplift_resampled(y, t, score, counts.astype(np.int64), units) is None


@pytest.mark.parametrize("rows", [5, 130, 1_000])
def test_running_sums_down_the_first_axis_of_any_shape(rows):
    x = np.random.default_rng(rows).poisson(1.0, (rows, 4, 9)).astype(np.float32)
    view = x.transpose(0, 2, 1)                                          # not contiguous
    assert _metrics._running_sums(view, exact=True).tobytes() == np.cumsum(view, axis=0).tobytes()


@pytest.mark.parametrize("k", [0.0, 0.05, 0.3, 1.0, 1.5])
@pytest.mark.parametrize("scores", ["ties", "many-few", "constant"])
def test_uplift_at_any_k_is_the_row_functions(k, scores):
    check = _check(np.random.default_rng(int(k * 10)), 900, scores, grouped=True)
    counts, units = next(comparison.resample_counts(900, 7, 4, groups=check.groups))
    got = uplift_resampled(check.y, check.treatment, check.score, counts, units, k, step=7)
    expected = uplift_at_k(check.y, check.score, check.treatment, k, counts[units])
    assert got["uplift_at_k"].tobytes() == expected.tobytes()
