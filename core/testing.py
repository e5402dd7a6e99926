"""Checks a segmentation method against the method contract (public API for plugin authors).

In the spirit of scikit-learn's ``check_estimator``::

    from microseg.testing import check_method

    def test_my_method_keeps_the_contract():
        check_method(MyMethod)                       # on microseg's small synthetic data
        check_method(MyMethod, params={"threshold": 10}, data=my_customer_data)

Each check raises ``AssertionError`` naming itself (``check 'assign_leaves_state_unchanged'
failed for MyMethod: ...``). The return-value checks are the ones a run makes
(:func:`microseg.method.validate_labels` and friends).
"""
from __future__ import annotations

import inspect
import pickle
from typing import Any, Callable

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.engine import Engine
from microseg.method import (ContractError, NotFittedError, SegmentationMethod, call_with_data, clone,
                             fitted_attributes, validate_description, validate_labels, validate_report,
                             validate_scores)

AS_OF = pd.Timestamp("2024-01-01")


def synthetic_data(n: int = 300, seed: int = 0) -> CustomerData:
    """Small made-up data every built-in method can run on in seconds: customers (age, city,
    enrolment channel, referrals, a 0/1 outcome), two years of transactions before
    2024-01-01 (a third of customers spending less lately) and campaign contacts by e-mail and
    SMS, half of them treated. No real person's data."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"S{i:04d}" for i in range(n)], name="customer_id")
    age = rng.integers(18, 85, n)
    customers = pd.DataFrame({
        "age": age, "city": rng.choice(["Oslo", "Porto", "Lyon", "Graz"], n),
        "enrolment": rng.choice(["web", "app", "store"], n), "referrals": rng.poisson(0.5, n),
        "converted": (rng.random(n) < 1 / (1 + np.exp(-(age - 50) / 10))).astype(int)}, index=ids)
    kind = rng.choice(3, n, p=[0.6, 0.3, 0.1])                   # steady, declining, growing
    rows = np.repeat(np.arange(n), rng.poisson(14, n) + 2)
    day = rng.beta(np.array([1.0, 1.0, 3.0])[kind][rows], np.array([1.0, 3.0, 1.0])[kind][rows]) * 729
    tx = pd.DataFrame({"customer_id": ids.to_numpy()[rows],
                       "ts": AS_OF - pd.Timedelta(days=730) + pd.to_timedelta(day, unit="D"),
                       "amount": np.round(rng.lognormal(3, 0.6, len(rows)), 2)})
    contacts = np.repeat(np.arange(n), 6)
    channel = rng.choice(["email", "sms"], len(contacts))
    treated = rng.random(len(contacts)) < 0.5
    likes_email = rng.random(n) < 0.5
    p = 0.04 + 0.2 * treated * (age[contacts] > 45) + 0.2 * (likes_email[contacts] == (channel == "email"))
    events = pd.DataFrame({"customer_id": ids.to_numpy()[contacts],
                           "ts": AS_OF - pd.to_timedelta(rng.integers(1, 730, len(contacts)), unit="D"),
                           "channel": channel, "responded": rng.random(len(contacts)) < p, "treatment": treated})
    return CustomerData(customers=customers, transactions=tx, events=events, as_of=AS_OF)


def _snapshot(method: Any) -> dict[str, bytes | str]:
    """The method's attributes, each as pickled bytes (or its repr when it cannot be pickled)."""
    out: dict[str, bytes | str] = {}
    for key, value in vars(method).items():
        try:
            out[key] = pickle.dumps(value)
        except Exception:  # noqa: BLE001 - an unpicklable attribute is compared by repr
            out[key] = repr(value)
    return out


class _Checks:
    def __init__(self, cls: type[SegmentationMethod], params: dict[str, Any], data: Engine) -> None:
        self.cls, self.params, self.data = cls, params, data
        self.customers = data.features()
        self.who = f"method {getattr(cls, 'name', '') or cls.__name__!r}"

    def fail(self, check: str, why: str) -> None:
        raise AssertionError(f"check {check!r} failed for {self.cls.__name__}: {why}")

    def new(self) -> SegmentationMethod:
        return self.cls(**self.params)

    def fit(self, method: SegmentationMethod) -> Any:
        try:
            return call_with_data(method.fit, self.customers, self.data)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"check 'fit_runs_on_the_data' failed for {self.cls.__name__}: fit raised "
                                 f"{type(exc).__name__}: {exc} (give check_method params= or data= it can "
                                 "run on)") from exc

    def call(self, method: SegmentationMethod, member: str) -> Any:
        return call_with_data(getattr(method, member), self.customers, self.data)

    # ---------------------------------------------------------------- the checks, in order
    def keyword_only_parameters(self) -> None:
        for p in list(inspect.signature(self.cls.__init__).parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                self.fail("keyword_only_parameters", f"__init__ takes **{p.name}: unknown parameters would be "
                          "swallowed; declare every parameter")
            if p.kind is not p.KEYWORD_ONLY:
                self.fail("keyword_only_parameters", f"parameter {p.name!r} is not keyword-only (put it after *)")

    def parameters_stored_unchanged(self) -> None:
        given = {p.name: p.default for p in list(inspect.signature(self.cls.__init__).parameters.values())[1:]}
        given.update(self.params)
        method = self.cls(**given)
        for name, value in given.items():
            if not hasattr(method, name) or getattr(method, name) is not value:
                self.fail("parameters_stored_unchanged", f"__init__ must store {name!r} as given, unchanged "
                          "(validate in fit)")
        if fitted_attributes(method):
            self.fail("parameters_stored_unchanged", f"__init__ sets fitted attributes {fitted_attributes(method)}")

    def unknown_parameter_rejected(self) -> None:
        try:
            self.cls(**self.params, no_such_parameter_xyz=1)
        except (TypeError, ValueError):
            return
        self.fail("unknown_parameter_rejected", "__init__ accepted the unknown parameter 'no_such_parameter_xyz'")

    def get_params_clone_round_trip(self) -> None:
        method = self.new()
        if set(method.get_params()) != set(self.cls.param_names()):
            self.fail("get_params_clone_round_trip", "get_params must return every __init__ parameter")
        twin = clone(method)
        if twin is method or type(twin) is not self.cls:
            self.fail("get_params_clone_round_trip", "clone must return a new instance of the same class")
        if pickle.dumps(twin.get_params()) != pickle.dumps(method.get_params()):
            self.fail("get_params_clone_round_trip", "clone(method).get_params() differs from method.get_params()")

    def assign_before_fit_raises_not_fitted(self) -> None:
        method = self.new()
        try:
            self.call(method, "assign")
        except NotFittedError as exc:
            if self.cls.name and self.cls.name not in str(exc):
                self.fail("assign_before_fit_raises_not_fitted", "the not-fitted error must name the method")
            return
        except Exception as exc:  # noqa: BLE001
            self.fail("assign_before_fit_raises_not_fitted", f"assign before fit raised {type(exc).__name__}, "
                      "not microseg.method.NotFittedError")
        self.fail("assign_before_fit_raises_not_fitted", "assign before fit returned instead of raising")

    def fit_returns_self_and_sets_fitted_attributes(self) -> SegmentationMethod:
        method = self.new()
        params = pickle.dumps(method.get_params())
        if self.fit(method) is not method:
            self.fail("fit_returns_self_and_sets_fitted_attributes", "fit must return self")
        if not fitted_attributes(method):
            self.fail("fit_returns_self_and_sets_fitted_attributes", "fit set no attribute ending in '_'")
        if pickle.dumps(method.get_params()) != params:
            self.fail("fit_returns_self_and_sets_fitted_attributes", "fit changed a parameter")
        return method

    def assign_leaves_state_unchanged(self, method: SegmentationMethod) -> pd.Series:
        before = _snapshot(method)
        labels = self.call(method, "assign")
        self.call(method, "scores")
        after = _snapshot(method)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if changed:
            self.fail("assign_leaves_state_unchanged", f"assign / scores changed {changed}: compute it in fit, "
                      "or return it without storing it")
        return labels

    def labels_scores_and_report_keep_the_contract(self, method: SegmentationMethod, labels: Any) -> pd.Series:
        try:
            labels = validate_labels(labels, self.customers, self.who)
            validate_scores(self.call(method, "scores"), self.customers, self.who)
            validate_report(method.report(), self.who)
        except ContractError as exc:
            self.fail("labels_scores_and_report_keep_the_contract", str(exc))
        return labels

    def seeded_runs_are_deterministic(self, labels: pd.Series) -> dict[str, str]:
        """(Also returns the second fit's descriptions, taken before its ``assign``.)"""
        twin = self.new()
        self.fit(twin)
        unassigned = {lbl: twin.describe(lbl) for lbl in pd.unique(labels)}
        again = validate_labels(self.call(twin, "assign"), self.customers, self.who)
        if not again.equals(labels):
            self.fail("seeded_runs_are_deterministic", "two fits with the same parameters gave different labels "
                      "(take randomness from a random_state parameter)")
        return unassigned

    def describe_works_for_every_label(self, method: SegmentationMethod, labels: pd.Series,
                                       unassigned: dict[str, str]) -> None:
        before = _snapshot(method)
        for label in pd.unique(labels):
            try:
                validate_description(method.describe(label), label, self.who)
            except ContractError as exc:
                self.fail("describe_works_for_every_label", str(exc))
        if _snapshot(method) != before:
            self.fail("describe_works_for_every_label", "describe changed the method")
        if any(method.describe(lbl) != text for lbl, text in unassigned.items()):
            self.fail("describe_works_for_every_label", "describe depends on something assign stored")


def check_method(method_class: type[SegmentationMethod], *, params: dict[str, Any] | None = None,
                 data: Engine | None = None) -> None:
    """Check ``method_class`` against the method contract; ``AssertionError`` naming the failed check.

    ``params`` are the parameters to build it with (default: none); ``data`` is the run data it
    is fitted on (default: :func:`synthetic_data`). Checked, in order: keyword-only parameters,
    parameters stored unchanged, unknown parameters rejected, ``get_params`` / ``clone`` round
    trip, ``assign`` before ``fit`` raises a not-fitted error naming the method, ``fit`` returns
    self and sets fitted attributes, ``assign`` / ``scores`` leave the state unchanged, labels /
    scores / report keep the contract, seeded runs are deterministic, ``describe`` works for
    every label (and does not depend on ``assign``).
    """
    if not (isinstance(method_class, type) and issubclass(method_class, SegmentationMethod)):
        raise AssertionError(f"check 'is_a_method_class' failed: {method_class!r} is not a "
                             "microseg.SegmentationMethod subclass")
    c = _Checks(method_class, dict(params or {}), data if data is not None else synthetic_data())
    steps: list[Callable[[], Any]] = [c.keyword_only_parameters, c.parameters_stored_unchanged,
                                      c.unknown_parameter_rejected, c.get_params_clone_round_trip,
                                      c.assign_before_fit_raises_not_fitted]
    for step in steps:
        step()
    method = c.fit_returns_self_and_sets_fitted_attributes()
    labels = c.assign_leaves_state_unchanged(method)
    labels = c.labels_scores_and_report_keep_the_contract(method, labels)
    unassigned = c.seeded_runs_are_deterministic(labels)
    c.describe_works_for_every_label(method, labels, unassigned)
