"""Buy-till-you-die quantities from the behaviour frame: a BG/NBD model fitted at one date.

BG/NBD (Fader, Hardie & Lee 2005): while alive a customer buys at rate λ ~ Gamma(r, α); after
each purchase they drop out with probability p ~ Beta(a, b). Per customer it needs ``x`` (repeat
purchases), ``t_x`` (days from the first to the last purchase) and ``T`` (days from the first
purchase to the date), which the behaviour frame gives as ``frequency``, ``recency_days`` and
``interpurchase_days``. The four parameters are fitted by maximum likelihood on the customers of
that date only (their data before it), so features at a training cutoff never see later data.

From the fit, per customer: ``P(alive)`` and the expected purchases in the next ``horizon``
days, E[λ | x, T] × horizon × P(alive) — the posterior mean rate of a customer still alive (the
chance of dropping out within the horizon itself is left to the gradient-boosting model).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MAX_FIT_CUSTOMERS = 20_000


def purchase_history(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) in days from the behaviour frame; customers without a purchase get T = 0."""
    freq = frame["frequency"].to_numpy(dtype="float64")
    recency = frame["recency_days"].to_numpy(dtype="float64")
    gap = frame["interpurchase_days"].to_numpy(dtype="float64") if "interpurchase_days" in frame else \
        np.full(len(frame), np.nan)
    x = np.maximum(freq - 1, 0)
    age = np.where(x > 0, recency + np.nan_to_num(gap) * x, recency)        # days since the first purchase
    age = np.where(np.isfinite(age) & (freq > 0), age, 0.0)
    t_x = np.clip(age - np.nan_to_num(recency), 0, None)
    return x, t_x, age


def _log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> float:
    from scipy.special import betaln, gammaln     # SciPy on use: plugin registration stays fast
    r, alpha, a, b = np.exp(params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    survive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    repeat = x > 0
    dropped = np.full(len(x), -np.inf)
    dropped[repeat] = (betaln(a + 1, b + x[repeat] - 1) - betaln(a, b)
                       - (r + x[repeat]) * np.log(alpha + t_x[repeat]))
    return float(np.sum(common + np.logaddexp(survive, dropped)))


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, age: np.ndarray, seed: int | None = 0) -> np.ndarray | None:
    """(r, α, a, b) by maximum likelihood on at most ``MAX_FIT_CUSTOMERS`` customers (seeded
    sample); None when there are too few customers with a purchase or the fit fails."""
    keep = np.flatnonzero(age > 0)
    if len(keep) < 50:
        return None
    if len(keep) > MAX_FIT_CUSTOMERS:
        keep = np.random.default_rng(seed).choice(keep, MAX_FIT_CUSTOMERS, replace=False)
    from scipy.optimize import minimize
    xs, ts, ages = x[keep], t_x[keep], age[keep]
    start = np.log([1.0, max(float(np.mean(ages)), 1.0), 1.0, 1.0])
    with np.errstate(all="ignore"):
        res = minimize(lambda p: -_log_likelihood(p, xs, ts, ages) / len(xs), start, method="L-BFGS-B",
                       bounds=[(-6, 6), (-6, 12), (-6, 6), (-6, 6)])
    return np.exp(res.x) if np.all(np.isfinite(res.x)) and np.isfinite(res.fun) else None


def btyd_features(frame: pd.DataFrame, horizon: int, seed: int | None = 0) -> pd.DataFrame:
    """``p_alive`` and ``expected_purchases`` (next ``horizon`` days) per customer of ``frame``
    (NaN when the model cannot be fitted)."""
    x, t_x, age = purchase_history(frame)
    params = fit_bgnbd(x, t_x, age, seed)
    out = pd.DataFrame({"p_alive": np.nan, "expected_purchases": np.nan}, index=frame.index)
    if params is None:
        return out
    r, alpha, a, b = params
    with np.errstate(all="ignore"):
        odds = np.where(x > 0, a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0)
        p_alive = np.where(age > 0, 1 / (1 + odds), np.nan)
        out["p_alive"] = p_alive
        out["expected_purchases"] = p_alive * (r + x) / (alpha + age) * horizon
    return out
