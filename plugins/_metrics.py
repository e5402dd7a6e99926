"""Evaluation metrics shared by the built-in methods (binary classification and uplift)."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def classification_report(y: np.ndarray, p: np.ndarray) -> dict[str, float | int]:
    """ROC AUC, PR AUC, top-decile lift and Brier score (NaN-free inputs)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    out: dict[str, float | int] = {"rows": int(len(y)), "positive_rate": float(y.mean()) if len(y) else float("nan")}
    if len(np.unique(y)) < 2:
        return out | {"roc_auc": None, "pr_auc": None, "top_decile_lift": None, "brier": None}
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, int(np.ceil(len(y) * 0.1)))]
    out.update(roc_auc=float(roc_auc_score(y, p)), pr_auc=float(average_precision_score(y, p)),
               top_decile_lift=float(y[top].mean() / y.mean()), brier=float(brier_score_loss(y, p)))
    return out


def uplift_at_k(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray, k: float = 0.3) -> float:
    """scikit-uplift's ``uplift_at_k(strategy='overall')``: response-rate difference in the top k."""
    y, t = np.asarray(y, float), np.asarray(treatment, int)
    order = np.argsort(np.asarray(uplift, float), kind="mergesort")[::-1]
    n_top = int(len(y) * k)
    top = order[:n_top]
    yt, tt = y[top], t[top]
    return float(yt[tt == 1].mean() - yt[tt == 0].mean())


def qini_curve(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve points (x = number targeted, y = incremental responders), as scikit-uplift."""
    y, t, u = np.asarray(y, float), np.asarray(treatment, int), np.asarray(uplift, float)
    order = np.argsort(u, kind="mergesort")[::-1]
    y, t, u = y[order], t[order], u[order]
    idx = np.r_[np.where(np.diff(u))[0], len(u) - 1]
    num_all = idx + 1
    num_t = np.cumsum(t)[idx]
    num_c = num_all - num_t
    y_t = np.cumsum(y * t)[idx]
    y_c = np.cumsum(y * (1 - t))[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = y_t - np.where(num_c > 0, y_c * num_t / np.where(num_c > 0, num_c, 1), 0)
    return np.r_[0, num_all], np.r_[0, curve]


def perfect_qini_curve(y: np.ndarray, treatment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-uplift's perfect Qini curve with ``negative_effect=True``."""
    y, t = np.asarray(y, float), np.asarray(treatment, int)
    perfect = y * t - y * (1 - t)
    return qini_curve(y, perfect, t)


def qini_auc_score(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray) -> float:
    """scikit-uplift's ``qini_auc_score``: area between the model's and the random Qini curve,
    normalised by the perfect model's."""
    x, yy = qini_curve(y, uplift, treatment)
    xp, yp = perfect_qini_curve(y, treatment)
    xb, yb = np.array([0, x[-1]]), np.array([0, yy[-1]])
    auc = lambda a, b: float(np.trapezoid(b, a))  # noqa: E731
    return (auc(x, yy) - auc(xb, yb)) / (auc(xp, yp) - auc(xb, yb))
