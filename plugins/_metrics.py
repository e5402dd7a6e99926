"""Evaluation metrics shared by the built-in methods (binary classification and uplift).

Every metric takes optional row weights: a 1-D array gives one value, a 2-D array (one row of
weights per bootstrap resample, see :mod:`microseg.plugins._bootstrap`) gives one value per row,
computed together from one sort of the scores. Unit weights give the ordinary metric (tested
against scikit-learn and scikit-uplift). Ties in the scores are handled as a group (the
expected value under a random order within the tie), so a constant score — the base-rate
predictor — has ROC AUC 0.5, PR AUC equal to the positive rate and top-decile lift 1.
"""
from __future__ import annotations

import numpy as np


def _weights(w: np.ndarray | None, n: int) -> tuple[np.ndarray, bool]:
    """Weights as a 2-D (resamples × rows) array, and whether the input was 1-D."""
    if w is None:
        return np.ones((1, n)), True
    w = np.asarray(w, dtype=float)
    return (w[None, :], True) if w.ndim == 1 else (w, False)


def _out(values: np.ndarray, single: bool) -> float | np.ndarray:
    return float(values[0]) if single else values


def _descending_groups(score: np.ndarray, stable_reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Row order by descending score and the start of each group of tied scores."""
    score = np.asarray(score, dtype=float)
    order = np.argsort(score, kind="mergesort")[::-1] if stable_reverse else np.argsort(-score, kind="mergesort")
    s = score[order]
    return order, np.r_[0, np.flatnonzero(np.diff(s)) + 1]


def roc_auc(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Area under the ROC curve (probability a positive outranks a negative, ties count half)."""
    y = np.asarray(y, dtype=float)
    w, single = _weights(w, len(y))
    order, starts = _descending_groups(score)
    pos = np.add.reduceat((w * y)[:, order], starts, axis=1)
    neg = np.add.reduceat((w * (1 - y))[:, order], starts, axis=1)
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    below = n_neg[:, None] - np.cumsum(neg, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out((pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg), single)


def average_precision(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Area under the precision-recall curve as scikit-learn's ``average_precision_score``."""
    y = np.asarray(y, dtype=float)
    w, single = _weights(w, len(y))
    order, starts = _descending_groups(score)
    tp = np.cumsum(np.add.reduceat((w * y)[:, order], starts, axis=1), axis=1)
    fp = np.cumsum(np.add.reduceat((w * (1 - y))[:, order], starts, axis=1), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1), 0.0)
        recall = tp / tp[:, -1:]
    gain = np.diff(np.concatenate([np.zeros((len(w), 1)), recall], axis=1), axis=1)
    return _out((gain * precision).sum(axis=1), single)


def _top_share(w_sorted: np.ndarray, starts: np.ndarray, fraction: float, ceil: bool) -> np.ndarray:
    """Per row (resample), the share of each sorted row inside the top ``fraction`` of the total
    weight, a tie group at the boundary counted in proportion."""
    group_w = np.add.reduceat(w_sorted, starts, axis=1)
    total = w_sorted.sum(axis=1, keepdims=True)
    cut = np.ceil(total * fraction) if ceil else np.floor(total * fraction)
    end = np.cumsum(group_w, axis=1)
    inside = np.clip(cut - (end - group_w), 0, group_w)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(group_w > 0, inside / np.where(group_w > 0, group_w, 1), 0.0)
    sizes = np.diff(np.r_[starts, w_sorted.shape[1]])
    return np.repeat(share, sizes, axis=1)


def top_lift(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None,
             fraction: float = 0.1) -> float | np.ndarray:
    """Positive rate among the top ``fraction`` by score ÷ the overall positive rate."""
    y = np.asarray(y, dtype=float)
    w, single = _weights(w, len(y))
    order, starts = _descending_groups(score)
    ws = w[:, order]
    top = ws * _top_share(ws, starts, fraction, ceil=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_top = (top * y[order]).sum(axis=1) / top.sum(axis=1)
        return _out(rate_top / ((w * y).sum(axis=1) / w.sum(axis=1)), single)


def classification_report(y: np.ndarray, p: np.ndarray) -> dict[str, float | int]:
    """ROC AUC, PR AUC, top-decile lift and Brier score (NaN-free inputs)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    out: dict[str, float | int] = {"rows": int(len(y)), "positive_rate": float(y.mean()) if len(y) else float("nan")}
    if len(np.unique(y)) < 2:
        return out | {"roc_auc": None, "pr_auc": None, "top_decile_lift": None, "brier": None}
    out.update(roc_auc=roc_auc(y, p), pr_auc=average_precision(y, p), top_decile_lift=top_lift(y, p),
               brier=float(np.mean((p - y) ** 2)))
    return out


def uplift_at_k(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray, k: float = 0.3,
                w: np.ndarray | None = None) -> float | np.ndarray:
    """scikit-uplift's ``uplift_at_k(strategy='overall')``: response-rate difference (treated −
    control) among the top k of rows by uplift."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    w, single = _weights(w, len(y))
    order, _ = _descending_groups(uplift, stable_reverse=True)
    ws = w[:, order]
    top = ws * _top_share(ws, np.arange(len(y)), k, ceil=False)      # ties in row order, as scikit-uplift
    yo, to = y[order], t[order]
    with np.errstate(invalid="ignore", divide="ignore"):
        treated = (top * yo * to).sum(axis=1) / (top * to).sum(axis=1)
        control = (top * yo * (1 - to)).sum(axis=1) / (top * (1 - to)).sum(axis=1)
    return _out(treated - control, single)


def treatment_effect(y: np.ndarray, treatment: np.ndarray, w: np.ndarray | None = None) -> float | np.ndarray:
    """Response rate of the treated − of the controls: what random targeting gains per customer."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    w, single = _weights(w, len(y))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out((w * y * t).sum(axis=1) / (w * t).sum(axis=1)
                    - (w * y * (1 - t)).sum(axis=1) / (w * (1 - t)).sum(axis=1), single)


def _qini_area(y: np.ndarray, t: np.ndarray, score: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area under the Qini curve (points at the ends of tie groups) and under the random line."""
    order, starts = _descending_groups(score, stable_reverse=True)
    ws = w[:, order]
    yo, to = y[order], t[order]
    n_all = np.cumsum(np.add.reduceat(ws, starts, axis=1), axis=1)
    n_t = np.cumsum(np.add.reduceat(ws * to, starts, axis=1), axis=1)
    y_t = np.cumsum(np.add.reduceat(ws * yo * to, starts, axis=1), axis=1)
    y_c = np.cumsum(np.add.reduceat(ws * yo * (1 - to), starts, axis=1), axis=1)
    n_c = n_all - n_t
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = y_t - np.where(n_c > 0, y_c * n_t / np.where(n_c > 0, n_c, 1), 0.0)
    zero = np.zeros((len(w), 1))
    x, c = np.concatenate([zero, n_all], axis=1), np.concatenate([zero, curve], axis=1)
    area = (np.diff(x, axis=1) * (c[:, 1:] + c[:, :-1]) / 2).sum(axis=1)
    return area, n_all[:, -1] * curve[:, -1] / 2


def qini_auc_score(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray,
                   w: np.ndarray | None = None) -> float | np.ndarray:
    """scikit-uplift's ``qini_auc_score``: area between the model's Qini curve and the random
    line, normalised by the perfect model's (``negative_effect=True``)."""
    y, t = np.asarray(y, float), np.asarray(treatment, float)
    w, single = _weights(w, len(y))
    area, rand = _qini_area(y, t, uplift, w)
    best, best_rand = _qini_area(y, t, y * t - y * (1 - t), w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out((area - rand) / (best - best_rand), single)
