"""LightGBM in process: the one place a classifier is built (engines and methods use it)."""
from __future__ import annotations

from typing import Any


def classifier(params: dict[str, Any], n_estimators: int) -> Any:
    """An unfitted ``lightgbm.LGBMClassifier`` with ``params``, ``n_estimators`` trees, quiet."""
    from lightgbm import LGBMClassifier
    return LGBMClassifier(n_estimators=n_estimators, verbose=-1, **params)
