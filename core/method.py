"""The segmentation-method contract (public API).

A method is a class in the scikit-learn style: keyword-only parameters stored unchanged in
``__init__``, ``fit`` learns and returns ``self``, fitted attributes end in ``_``, randomness
comes from ``random_state``. Only ``name``, ``fit`` and ``assign`` are required.

Optional extensions, all used by the built-in methods:

``scores(customers) -> DataFrame | None``
    Per-customer numbers (a probability, a cluster distance, RFM scores), index = customer id.
``describe(label) -> str``
    A plain-language description of one segment.
``report() -> dict``
    Evaluation figures of the fitted method (e.g. out-of-time ROC AUC), JSON-serialisable.

Methods that need more than the customer-level frame (raw transactions to build out-of-time
labels, campaign events) declare a keyword parameter ``data`` on ``fit`` / ``assign`` /
``scores``; the framework then passes the :class:`microseg.data.CustomerData` of the run.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import pandas as pd


@dataclass
class Assignment:
    """What one method instance produced for a run.

    ``labels`` has one row per (customer, segment) membership, index = customer id. A method
    that assigns one segment per customer has a unique index; a multi-membership method
    (e.g. rules in ``multi`` mode) repeats a customer once per segment.
    """

    labels: pd.Series
    scores: pd.DataFrame | None = None
    descriptions: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def multi_membership(self) -> bool:
        return not self.labels.index.is_unique


class SegmentationMethod:
    """Base class for segmentation methods. Subclass it and register it with a hook."""

    #: how configs refer to the method (unique across plugins)
    name: ClassVar[str] = ""
    #: one line shown by ``microseg plugins``
    summary: ClassVar[str] = ""

    def fit(self, customers: pd.DataFrame) -> "SegmentationMethod":
        """Learn from the customer-level frame (index = customer id)."""
        return self

    def assign(self, customers: pd.DataFrame) -> pd.Series:
        """One label per customer (index = customer id)."""
        raise NotImplementedError

    def scores(self, customers: pd.DataFrame) -> pd.DataFrame | None:
        """Per-customer scores, or ``None`` when the method has none."""
        return None

    def describe(self, label: str) -> str:
        """Plain-language description of segment ``label``."""
        return str(label)

    def report(self) -> dict[str, Any]:
        """Evaluation figures of the fitted method."""
        return {}

    # ------------------------------------------------------------ scikit-learn conveniences
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "SegmentationMethod":
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def call_with_data(fn: Callable[..., Any], customers: pd.DataFrame, data: Any) -> Any:
    """Call ``fn(customers)``, adding ``data=`` when ``fn`` declares that keyword."""
    params = inspect.signature(fn).parameters
    if "data" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return fn(customers, data=data)
    return fn(customers)


def run_method(method: SegmentationMethod, customers: pd.DataFrame, data: Any = None,
               *, fit: bool = True) -> Assignment:
    """Fit (optionally) and apply one method, collecting labels, scores, descriptions, report."""
    if fit:
        fitted = call_with_data(method.fit, customers, data)
        if fitted is not None:
            method = fitted
    labels = call_with_data(method.assign, customers, data)
    if not isinstance(labels, pd.Series):
        raise TypeError(f"{type(method).__name__}.assign must return a pandas Series, "
                        f"got {type(labels).__name__}")
    labels = labels.astype(str)
    scores = call_with_data(method.scores, customers, data)
    descriptions = {str(lbl): method.describe(lbl) for lbl in pd.unique(labels)}
    return Assignment(labels=labels, scores=scores, descriptions=descriptions,
                      report=method.report() or {})
