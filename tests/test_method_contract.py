"""The method contract: check_method on every built-in and the examples, broken methods caught,
run-time failures named, the engine protocol, and no state kept between runs."""
from __future__ import annotations

import inspect
import os
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import load_module, write_shop_config

import microseg
from microseg import api
from microseg.cli import cli
from microseg.config import load_config
from microseg.data import CustomerData
from microseg.engine import Engine
from microseg.errors import ConfigError
from microseg.method import MethodError, NotFittedError, run_method
from microseg.registry import Registry, get_registry
from microseg.testing import check_method, synthetic_data

warnings.filterwarnings("ignore", category=UserWarning)
REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "docs" / "examples"

#: parameters that make each built-in quick on the synthetic data (several per method where its
#: strategies differ); campaign-response's uplift strategies are checked in test_campaign_strategies.py
BUILTIN_PARAMS = {
    "rules": [{"segments": [{"name": "Older", "when": "age >= 50"}, {"name": "Porto", "when": "city == 'Porto'"}]},
              {"segments": [{"name": "Older", "when": "age >= 50"}, {"name": "Buyers", "when": "frequency > 10"}],
               "mode": "multi"}],
    "rfm": [{}],
    "clusters": [{"n_bootstrap": 2}],
    "clv-decline": [{"n_estimators": 60, "n_origins": 2, "early_stopping_rounds": 20}],
    "campaign-response": [{"segments": "channel", "referrals_column": "referrals", "enrollment_column": "enrolment"},
                          {"segments": "propensity", "outcome_column": "converted", "n_estimators": 30}],
}


@pytest.fixture(scope="module")
def data():
    return synthetic_data()


def test_every_builtin_is_checked():
    assert set(Registry(entry_points=False).methods) == set(BUILTIN_PARAMS)


@pytest.mark.parametrize("name,params", [(n, p) for n, ps in BUILTIN_PARAMS.items() for p in ps],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_builtin_passes_check_method(name, params, data):
    check_method(Registry(entry_points=False).method(name), params=params, data=data)


def test_example_plugin_package_tests_use_check_method():
    folder = EXAMPLES / "plugin-high-spenders"
    sys.path.insert(0, str(folder))
    try:
        tests = load_module(folder / "test_high_spenders.py", "example_high_spenders_tests")
        assert "check_method" in inspect.getsource(tests)
        for name, fn in inspect.getmembers(tests, inspect.isfunction):
            if name.startswith("test_"):
                fn()
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("microseg_high_spenders", None)


def test_worked_example_passes_check_method(data):
    check_method(load_module(EXAMPLES / "likely_buyers.py", "example_likely_buyers").LikelyBuyers, data=data)


# ------------------------------------------------------------------ broken methods are caught
class _Base(microseg.SegmentationMethod):
    name = "broken"

    def fit(self, customers):
        self.median_ = float(customers["monetary"].median())
        return self

    def assign(self, customers):
        return pd.Series(["high" if m > self.median_ else "low" for m in customers["monetary"]],
                         index=customers.index)


class MutatesInAssign(_Base):
    def assign(self, customers):
        labels = super().assign(customers)
        self.sizes_ = labels.value_counts().to_dict()
        return labels


class SwallowsParameters(_Base):
    def __init__(self, *, level: int = 1, **kwargs):
        self.level = level


class DescribesFromAssign(_Base):
    def assign(self, customers):
        self.last_labels_ = super().assign(customers)
        return self.last_labels_

    def describe(self, label):
        return f"{label}: {int((self.last_labels_ == label).sum())} customers"


class ChangesItsParameter(_Base):
    def __init__(self, *, columns: list | None = None):
        self.columns = list(columns or ["monetary"])


class NotSeeded(_Base):
    def assign(self, customers):
        import numpy as np
        return pd.Series(np.random.default_rng().choice(["a", "b"], len(customers)), index=customers.index)


class LosesCustomers(_Base):
    def assign(self, customers):
        return super().assign(customers).iloc[1:]


@pytest.mark.parametrize("cls,check", [
    (MutatesInAssign, "assign_leaves_state_unchanged"),
    (SwallowsParameters, "keyword_only_parameters"),
    (DescribesFromAssign, "assign_leaves_state_unchanged"),
    (ChangesItsParameter, "parameters_stored_unchanged"),
    (NotSeeded, "seeded_runs_are_deterministic"),
    (LosesCustomers, "labels_scores_and_report_keep_the_contract"),
])
def test_a_broken_method_fails_the_named_check(cls, check, data):
    with pytest.raises(AssertionError, match=f"check '{check}' failed for {cls.__name__}"):
        check_method(cls, data=data)


def test_a_method_without_kwargs_that_swallows_is_caught(data):
    class Swallows(_Base):
        def __init__(self, *args, level: int = 1):
            self.level = level

    with pytest.raises(AssertionError, match="keyword_only_parameters"):
        check_method(Swallows, data=data)


def test_not_fitted_error_names_the_method(data):
    f = data.features()
    with pytest.raises(NotFittedError, match="'rfm'.*not fitted"):
        Registry(entry_points=False).method("rfm")().assign(f)
    assert microseg.clone(_Base()).get_params() == {}


# ------------------------------------------------------------------ at run time
def test_run_method_names_the_instance_and_validates(data):
    f = data.features()

    class Fails(_Base):
        def fit(self, customers):
            raise ZeroDivisionError("a value from the data: 123.45")

    with pytest.raises(MethodError) as err:
        run_method(Fails(), f, who="method instance 'x' (broken, plugin p)", key="methods[3]")
    text = str(err.value)
    assert text.startswith("methods[3]: method instance 'x' (broken, plugin p) failed in fit with ZeroDivisionError")
    assert "123.45" not in text and err.value.exit_code == 2
    with pytest.raises(MethodError, match="1 customer\\(s\\) without a label"):
        run_method(LosesCustomers(), f)
    got = run_method(_Base(), f)
    assert got.report["segment_sizes"] == {k: int(v) for k, v in got.labels.value_counts().items()}


PLUGIN = '''
import pandas as pd, microseg
class Exploding(microseg.SegmentationMethod):
    name = "exploding"
    def __init__(self, *, when: str = "assign"):
        self.when = when
    def fit(self, customers):
        self.n_ = len(customers)
        return self
    def assign(self, customers):
        raise KeyError("K00001")
@microseg.hookimpl
def register_methods(register):
    register(Exploding)
'''


def _config_with(tmp_path, method_block: str) -> Path:
    cfg = write_shop_config(tmp_path, k=10)
    (tmp_path / "exploding.py").write_text(PLUGIN)
    text = cfg.read_text().replace('[microsegments]\ndimensions = ["recent", "recent90"]\n', method_block)
    cfg.write_text(text.replace("plugins = [", 'plugins = ["exploding.py", '))
    return cfg


def test_cli_names_a_failing_method_without_traceback_and_writes_nothing(tmp_path):
    cfg = _config_with(tmp_path, '[[methods]]\nid = "boom"\nmethod = "exploding"\n')
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2, result.output
    assert "methods[2]: method instance 'boom' (exploding, plugin file:" in result.output
    assert "failed in assign with KeyError" in result.output
    assert "Traceback" not in result.output and "K00001" not in result.output
    assert not (tmp_path / "s.db").exists() or not microseg.api.open_store(str(tmp_path / "s.db")).runs()
    debug = CliRunner().invoke(cli, ["--debug", "run", str(cfg), "--db", str(tmp_path / "s.db")])
    assert isinstance(debug.exception, MethodError) and "MICROSEG_DEBUG" not in os.environ


def test_unknown_parameter_suggests_the_closest(tmp_path):
    cfg = _config_with(tmp_path, '[[methods]]\nid = "boom"\nmethod = "exploding"\nparams = { wehn = "fit" }\n')
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2
    assert "methods[2].params: method 'exploding' has no parameter 'wehn'; did you mean 'when'?" in result.output


# ------------------------------------------------------------------ no process-wide state
def test_each_registry_is_its_own(tmp_path):
    cfg = write_shop_config(tmp_path, k=10)
    api.run(cfg, db=str(tmp_path / "a.db"))               # loads the config's local plugin file
    assert "recent-buyers" not in get_registry().methods  # ... into that run's registry only
    assert get_registry() is not get_registry()


def test_api_run_leaves_the_callers_config_alone(tmp_path, monkeypatch):
    cfg = load_config(write_shop_config(tmp_path, k=10))
    seen = {}
    import microseg.dask_engine as dask_engine
    monkeypatch.setattr(dask_engine, "run_config_dask", lambda c, *a, **k: seen.setdefault("engine", c.engine))
    api.run(cfg, db=str(tmp_path / "a.db"), engine="dask")
    assert seen["engine"] == "dask" and cfg.engine == "pandas"


# ------------------------------------------------------------------ the engine protocol
def _protocol_members() -> set[str]:
    return {n for n in vars(Engine) if not n.startswith("_")} | set(Engine.__annotations__)


def test_the_pandas_engine_implements_the_protocol(data):
    assert isinstance(data, Engine) and _protocol_members() <= set(dir(data))
    assert data.engine == "pandas" and data.has_transactions and "treatment" in data.event_columns
    with pytest.raises(ConfigError, match="'nope' is not a customer attribute"):
        data.customer_attributes(["nope"])


def test_the_dask_engine_class_implements_the_protocol():
    pytest.importorskip("distributed")
    from microseg.dask_engine import DaskCustomerData
    methods = {n for n in _protocol_members() if callable(getattr(Engine, n, None)) or
               isinstance(getattr(Engine, n, None), property)}
    assert methods <= set(dir(DaskCustomerData)) and DaskCustomerData.engine == "dask"
    assert CustomerData not in DaskCustomerData.__mro__      # no pandas attributes holding Dask frames


def test_no_plugin_module_knows_an_engine():
    for path in (REPO / "plugins").rglob("*.py"):
        text = path.read_text()
        for banned in ("dask", ".client", "microseg.data ", "microseg.data\n"):
            assert banned not in text, f"{path.relative_to(REPO)} mentions {banned!r}"


def test_the_worked_example_in_the_docs_is_the_tested_file():
    """Every line of the method shown in docs/plugins.md is in docs/examples/likely_buyers.py."""
    doc = (REPO / "docs" / "plugins.md").read_text()
    snippet = doc.split("```python\nclass LikelyBuyers", 1)[1].split("```", 1)[0]
    source = {line.strip() for line in (EXAMPLES / "likely_buyers.py").read_text().splitlines()}
    shown = [line.split("  #")[0].strip() for line in snippet.splitlines()[1:]]
    missing = [line for line in shown if line and line != "..." and not line.startswith("...") and line not in source]
    assert not missing, f"docs/plugins.md shows lines not in likely_buyers.py: {missing}"
