"""The segmentation-method contract (public API), and the framework's enforcement of it.

A method is a class in the scikit-learn style: keyword-only parameters stored unchanged in
``__init__`` (no ``**kwargs``), ``fit`` learns, sets attributes ending in ``_`` and returns
``self``, randomness comes from ``random_state``. Only ``name`` and ``assign`` are required.

``assign(customers) -> Series``
    One label per customer (index = customer id; a repeated id = multi-membership). It must not
    change the method: everything it uses was learnt by ``fit``.
``scores(customers) -> DataFrame | None``
    Per-customer numbers (a probability, a cluster distance, RFM scores), index = customer id.
``describe(label) -> str``
    A plain-language description of one segment, from the parameters and what ``fit`` learnt.
``report() -> dict``
    Evaluation figures of the fitted method (e.g. out-of-time ROC AUC), JSON-serialisable; the
    framework adds ``segment_sizes`` from the labels.
``check_columns(columns) -> list[str]``
    Problems with the parameters and the columns they name, found without data: ``columns`` are
    the names of the customer-level frame (from the files' headers and a sample). ``microseg
    check`` and the start of ``microseg run`` report them before anything is trained.
``previewable`` (class attribute)
    True when fitting and assigning on a sample is cheap and meaningful (rules): ``microseg
    check`` then estimates the method's segment sizes from a sample.

``assign`` and ``scores`` of a method that was not fitted raise :class:`NotFittedError`
(enforced for every subclass). Methods that need more than the customer-level frame (raw
transactions to build out-of-time labels, campaign events, a classifier trained on the run's
engine) declare a keyword parameter ``data`` on ``fit`` / ``assign`` / ``scores``; the framework
then passes the run's :class:`microseg.engine.Engine`.

:func:`run_method` is how the framework calls a method: every failure becomes a
:class:`MethodError` naming the method instance, and every return value is validated
(:func:`validate_labels`, :func:`validate_scores`, :func:`validate_report` — the same checks
:func:`microseg.testing.check_method` makes).
"""
from __future__ import annotations

import copy
import functools
import inspect
import json
from dataclasses import dataclass, field
from collections.abc import Collection
from typing import Any, Callable, ClassVar

import numpy as np
import pandas as pd

from microseg.errors import ConfigError, MicrosegError
from microseg.params import annotations_of, check_value
from microseg.suggest import did_you_mean


class NotFittedError(ValueError, AttributeError):
    """A method's ``assign`` / ``scores`` was called before ``fit``."""


class MethodError(ConfigError):
    """A method failed or broke its contract during a run; names the method instance."""


class ContractError(TypeError):
    """A method's return value breaks the contract (raised by the validators below)."""


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


def fitted_attributes(method: Any) -> list[str]:
    """Names of the attributes ``fit`` set (scikit-learn's convention: ending in ``_``)."""
    return [k for k in vars(method) if k.endswith("_") and not k.startswith("_")]


def check_is_fitted(method: Any) -> None:
    """Raise :class:`NotFittedError` naming the method unless ``fit`` has set an attribute."""
    if not fitted_attributes(method):
        name = getattr(method, "name", "") or type(method).__name__
        raise NotFittedError(f"method {name!r} ({type(method).__name__}) is not fitted: call fit before "
                             "assign or scores")


def _requires_fit(fn: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(fn, "_requires_fit", False):
        return fn

    @functools.wraps(fn)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        check_is_fitted(self)
        return fn(self, *args, **kwargs)

    guarded._requires_fit = True  # type: ignore[attr-defined]
    return guarded


class SegmentationMethod:
    """Base class for segmentation methods. Subclass it and register it with a hook."""

    #: how configs refer to the method (unique across plugins)
    name: ClassVar[str] = ""
    #: one line shown by ``microseg plugins``
    summary: ClassVar[str] = ""
    #: cheap and meaningful on a sample of customers: ``microseg check`` estimates its segment sizes
    previewable: ClassVar[bool] = False

    def __init__(self) -> None:
        """No parameters (a subclass declares its own, keyword-only)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for member in ("assign", "scores"):       # the not-fitted guard, for every method
            if member in cls.__dict__:
                setattr(cls, member, _requires_fit(cls.__dict__[member]))

    def fit(self, customers: pd.DataFrame) -> "SegmentationMethod":
        """Learn from the customer-level frame (index = customer id). The default learns only
        how many customers it saw (``n_customers_``): enough for a method that learns nothing."""
        self.n_customers_ = len(customers)
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

    def check_columns(self, columns: Collection[str]) -> list[str]:
        """Problems with the parameters and the columns they name (empty: none), without data."""
        return []

    # ------------------------------------------------------------ scikit-learn conveniences
    @classmethod
    def param_names(cls) -> list[str]:
        """The parameters of ``__init__`` (keyword-only by the contract)."""
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def clone(method: SegmentationMethod) -> SegmentationMethod:
    """A new, unfitted method with a deep copy of ``method``'s parameters."""
    return type(method)(**copy.deepcopy(method.get_params()))


class ParamError(ConfigError):
    """A method parameter is unknown or of the wrong type; ``param`` names it (None: unknown name)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        self.param = param
        super().__init__(message)


def check_params(cls: type[SegmentationMethod], params: dict[str, Any]) -> None:
    """Reject a parameter ``cls`` does not declare (naming the closest valid name) or whose value
    does not fit its annotation — before any data is read."""
    valid = cls.param_names()
    for key in params:
        if key not in valid:
            known = ", ".join(valid) or "none"
            raise ParamError(f"method {cls.name!r} has no parameter {key!r}" + did_you_mean(str(key), valid)
                             + f" (its parameters: {known})")
    hints = annotations_of(cls)
    for key, value in params.items():
        problem = check_value(value, hints[key]) if key in hints else None
        if problem:
            raise ParamError(f"{problem} (parameter {key!r} of method {cls.name!r})", param=key)


def new_method(cls: type[SegmentationMethod], params: dict[str, Any]) -> SegmentationMethod:
    """``cls(**params)`` after :func:`check_params`."""
    check_params(cls, params)
    return cls(**params)


# ---------------------------------------------------------------- return-value validators
def validate_labels(labels: Any, customers: pd.DataFrame, who: str) -> pd.Series:
    """``assign``'s labels: a Series indexed by the input's customer ids (each at least once,
    no other), no missing label. Returns them as text."""
    if not isinstance(labels, pd.Series):
        raise ContractError(f"{who}: assign must return a pandas Series, got {type(labels).__name__}")
    ids = customers.index
    if len(labels) == len(ids) and labels.index.equals(ids):
        pass
    elif not (labels.index.isin(ids).all() and ids.isin(labels.index).all()):
        extra = int((~labels.index.isin(ids)).sum())
        absent = int((~ids.isin(labels.index)).sum())
        raise ContractError(f"{who}: assign's labels must be indexed by the input's customer ids "
                         f"({absent} customer(s) without a label, {extra} label(s) for unknown ids)")
    if labels.isna().any():
        raise ContractError(f"{who}: assign returned {int(labels.isna().sum())} missing label(s)")
    return labels.astype(str)


def validate_scores(scores: Any, customers: pd.DataFrame, who: str) -> pd.DataFrame | None:
    """``scores``: None, or a DataFrame indexed like the input (each customer id once)."""
    if scores is None:
        return None
    if not isinstance(scores, pd.DataFrame):
        raise ContractError(f"{who}: scores must return a pandas DataFrame or None, got {type(scores).__name__}")
    ids = customers.index
    if not (scores.index.equals(ids) or (len(scores) == len(ids) and scores.index.is_unique
                                          and scores.index.isin(ids).all())):
        raise ContractError(f"{who}: scores must be indexed like the input (one row per customer id)")
    return scores


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def validate_report(report: Any, who: str) -> dict[str, Any]:
    """``report``: a dict that serialises to JSON (numpy scalars allowed)."""
    if report is None:
        return {}
    if not isinstance(report, dict):
        raise ContractError(f"{who}: report must return a dict, got {type(report).__name__}")
    try:
        json.dumps(report, default=_json_scalar)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"{who}: report must be JSON-serialisable ({exc})") from None
    return report


def validate_description(text: Any, label: str, who: str) -> str:
    if not isinstance(text, str) or not text:
        raise ContractError(f"{who}: describe({label!r}) must return a non-empty str, got {type(text).__name__}")
    return text


# ---------------------------------------------------------------- calling a method
def call_with_data(fn: Callable[..., Any], customers: pd.DataFrame, data: Any) -> Any:
    """Call ``fn(customers)``, adding ``data=`` when ``fn`` declares that keyword."""
    if "data" in inspect.signature(fn).parameters:
        return fn(customers, data=data)
    return fn(customers)


def run_method(method: SegmentationMethod, customers: pd.DataFrame, data: Any = None, *,
               who: str | None = None, key: str | None = None) -> Assignment:
    """Fit and apply one method, collecting validated labels, scores, descriptions and report.

    ``who`` names the method instance in errors (default: its method name) and ``key`` is its
    config key (``methods[i]``): any failure inside the method, or a return value that breaks
    the contract, becomes a :class:`MethodError` naming both (a microseg error keeps its
    message; another exception is named by type only, as its text may quote data).
    """
    who = who or f"method {method.name!r}"
    step = "fit"
    try:
        fitted = call_with_data(method.fit, customers, data)
        if fitted is not method:
            raise ContractError(f"{who}: fit must return self, got {type(fitted).__name__}")
        step = "assign"
        labels = validate_labels(call_with_data(method.assign, customers, data), customers, who)
        step = "scores"
        scores = validate_scores(call_with_data(method.scores, customers, data), customers, who)
        step = "describe"
        descriptions = {lbl: validate_description(method.describe(lbl), lbl, who) for lbl in pd.unique(labels)}
        step = "report"
        report = validate_report(method.report(), who)
    except ContractError as exc:
        raise MethodError(str(exc), key=key) from exc
    except MicrosegError as exc:
        raise MethodError(f"{who} failed in {step}: {exc}", key=key) from exc
    except Exception as exc:  # noqa: BLE001 - any plugin failure is named, not a traceback
        raise MethodError(f"{who} failed in {step} with {type(exc).__name__} (run with --debug for the "
                          "traceback)", key=key) from exc
    sizes = labels.value_counts()
    report = {**report, "segment_sizes": {str(k): int(v) for k, v in sizes.items()}}
    return Assignment(labels=labels, scores=scores, descriptions=descriptions, report=report)
