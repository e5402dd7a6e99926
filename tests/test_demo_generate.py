"""The demo generator's vectorised draws and labels give what the per-row code gave."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from microseg.demo import draws, generate, labels


@pytest.mark.parametrize("seed", [0, 7, 123])
@pytest.mark.parametrize("bounds", [[(100, 999), (100000, 999999)], [(1, 200), (0, 11), (0, 6)],
                                    [(1, 20), (1, 9), (0, 26), (0, 26)], [(0, 1)], [(-5, 2**40)]])
def test_draws_are_the_scalar_calls_in_order(seed, bounds):
    rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = np.array([[rng_a.integers(lo, hi) for lo, hi in bounds] for _ in range(257)])
    got = draws(rng_b, bounds, 257)
    assert got.shape == (257, len(bounds)) and np.array_equal(got, expected)
    assert rng_a.random() == rng_b.random()          # the generator is left in the same state


def test_labels_are_the_numpy_labels_a_frame_makes():
    codes = np.random.default_rng(1).integers(0, 3, 1000)
    names = ["email", "sms", "push"]
    got = pd.DataFrame({"c": labels(names, codes)})
    pd.testing.assert_frame_equal(got, pd.DataFrame({"c": np.array(names)[codes]}), check_exact=True)
    assert labels(np.array(["a", "b"]), np.array([], dtype=np.int64)).tolist() == []


def test_choice_by_position_draws_what_choice_of_the_labels_draws():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    seq = ["store", "web", "app"]
    assert np.array_equal(np.array(seq)[a.choice(len(seq), 500, p=[0.45, 0.35, 0.2])],
                          b.choice(seq, 500, p=[0.45, 0.35, 0.2]))
    assert np.array_equal(np.array(seq)[a.choice(len(seq), 500)], b.choice(seq, 500))


def test_small_demo_is_what_the_per_row_generator_gave():
    """Digests of a small demo's tables as stop 22's generator (one ``rng.integers`` per value,
    NumPy labels) wrote them."""
    frames = generate(300, seed=3)
    digests = {k: hashlib.sha256(v.to_csv(index=False).encode()).hexdigest()[:16] for k, v in frames.items()}
    assert digests == {"customers": "e67cffd2fa30ff95", "transactions": "6cdb996b32ae2547",
                       "events": "99b01df909982864"}


def test_cents_text_is_python_str_of_each_amount():
    from microseg.demo import cents_text
    rng = np.random.default_rng(0)
    x = np.round(rng.lognormal(3, 2, 20_000) * np.where(rng.random(20_000) < 0.1, -1, 1), 2)
    x = np.concatenate([x, [0.0, -0.0, 0.01, -0.01, 0.1, 0.5, 100.0, -100.0, 2.67, 1.01, 0.07, 1e12,
                            9_999_999_999_999.99, 123_456_789_012.34, -0.05]])
    assert cents_text(x).to_pylist() == pd.Series(x).astype(str).tolist()


@pytest.mark.parametrize("x", [[2.675], [0.1 + 0.2], [0.001], [np.nan], [np.inf], [1e13], [], [1e-5]])
def test_cents_text_declines_what_is_not_whole_cents(x):
    from microseg.demo import cents_text
    assert cents_text(np.array(x, dtype=np.float64)) is None
    assert cents_text(np.array([0.5, 0.25], dtype=np.float32)) is None      # float32 has its own text
