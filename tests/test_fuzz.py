"""Fuzzing the two parsers that read what users type: rule expressions and ``microseg.toml``.

Crashes: anything but the documented error (:class:`ConfigError`, exit code 2) fails the test.
Hangs: every input has a wall-clock bound (``BOUND`` seconds, enforced with SIGALRM, so a hang
fails the test instead of stalling CI). Hypothesis generates both free text and structured input
(grammar tokens; TOML built from the config's own keys, misspellings and values of every type).
atheris (coverage-guided; the optional extra ``fuzz``) runs a short bounded session in a child
process where it is installed, and the test says why it skipped where it is not.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microseg.config import parse_config
from microseg.errors import ConfigError
from microseg.plugins.rules import Rules
from microseg.plugins.rules.parser import parse

BOUND = 2.0          # seconds per input, far above the milliseconds a parse takes
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_CONFIG = settings(FUZZ, max_examples=120)          # a config parse is slower: keep the test to seconds


@contextlib.contextmanager
def time_bound(seconds: float = BOUND) -> Iterator[None]:
    """Fail (TimeoutError) when the block runs longer than ``seconds``: a hang is a finding."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    outer_left, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)   # pytest-timeout's, if any
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:                                    # the suite's own hang guard keeps running
            left = max(outer_left - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


# ------------------------------------------------------------------------------ rule expressions
FRAME = pd.DataFrame({
    "age": [25, 40, None, 71], "Country": ["Norway", "EIRE", None, "United Kingdom"],
    "vip": [True, False, True, False], "signup_date": pd.to_datetime(["2024-01-05", None, "2023-06-01", "2020-02-29"]),
    "monetary": [10.5, 0.0, -3.0, 1e6], "native-country": ["a", "b", "c", "d"],
}, index=pd.Index(["c1", "c2", "c3", "c4"], name="customer_id"))

TOKENS = ["age", "Country", "vip", "signup_date", "monetary", "`native-country`", "`nope`", "unknown_col",
          "==", "!=", "<", "<=", ">", ">=", "=", "and", "or", "not", "in", "not in", "between", "is", "null",
          "is not null", "contains", "startswith", "endswith", "matches", "(", ")", ",", "as_of", "+", "-",
          "days", "weeks", "months", "years", "date(", "true", "false", "'Norway'", "'x'", "''", "'[a-z]+'",
          "'('", "'\\d+$'", "0", "-1", "65", "1e309", "3.5", "'2024-01-01'", "'unterminated", "`", "'", "\"",
          "__import__('os')", "lambda", ";", "\n", "\x00", "é", "💥"]

rule_text = st.text(max_size=80)
rule_tokens = st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join)


def _parse_only_config_errors(expr: str) -> None:
    with time_bound():
        try:
            parse(expr, "fuzz")
        except ConfigError:
            pass


def _rules_only_config_errors(expr: str, mode: str = "first") -> None:
    """Check, fit and assign on a small frame: a rule is accepted and labels every customer, or it
    is refused with a ConfigError (type errors, unknown columns) — nothing else."""
    method = Rules(segments=[{"name": "S", "when": expr}], mode=mode)
    with time_bound():
        try:
            method.check_columns(list(FRAME.columns))
            labels = method.fit(FRAME).assign(FRAME)
        except ConfigError:
            return
    assert set(FRAME.index) == set(labels.index)


@FUZZ
@given(rule_text)
def test_rule_parser_text(expr: str) -> None:
    _parse_only_config_errors(expr)


@FUZZ
@given(rule_tokens)
def test_rule_parser_tokens(expr: str) -> None:
    _parse_only_config_errors(expr)


@FUZZ
@given(st.one_of(rule_tokens, rule_text), st.sampled_from(["first", "multi"]))
def test_rules_evaluate_only_config_errors(expr: str, mode: str) -> None:
    _rules_only_config_errors(expr, mode)


# ------------------------------------------------------------------------------ the config loader
KEYS = {
    None: ["as_of", "engine", "plugins", "sources", "methods", "microsegments", "privacy", "release", "quality",
           "store", "methds", "source"],
    "sources": ["customers", "transactions", "events", "transaction"],
    "source": ["path", "url", "table", "query", "format", "sep", "header", "names", "encoding", "na_values",
               "date_format", "dayfirst", "customer_id", "timestamp", "amount", "quantity", "unit_price", "invoice",
               "channel", "category", "attributes", "signup_date", "dates", "responded", "treatment", "pth"],
    "methods": ["id", "method", "params", "parms"],
    "microsegments": ["dimensions", "separator", "dimension"],
    "privacy": ["min_segment_size", "release_scope", "key_env", "key_file", "columns", "consent", "consent_missing",
                "allow_hashed_audiences", "dp", "small_segments", "k_anonymity", "min_segment_sise"],
    "release": ["customer_ids", "families", "include_scores", "score_bands", "attributes", "include_score"],
    "quality": ["gate", "confidence", "resamples", "seed", "confidense"],
    "store": ["url", "uri"],
}

scalars = st.one_of(
    st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(max_size=20), st.sampled_from(["rfm", "rules", "clusters", "pandas", "dask", "pseudonym", "2025-01-01",
                                           "customers.csv", "customer_id", "ts", "amount", ";"]),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=10)


@st.composite
def configs(draw: st.DrawFn) -> dict:
    """A config dict from the real keys (and misspellings) with values of any TOML type."""
    out: dict = {}
    for key in draw(st.lists(st.sampled_from(KEYS[None]), max_size=6, unique=True)):
        if key in ("sources", "source"):
            out[key] = {role: draw(st.one_of(values, st.dictionaries(st.sampled_from(KEYS["source"]), values,
                                                                     max_size=6)))
                        for role in draw(st.lists(st.sampled_from(KEYS["sources"]), max_size=3, unique=True))}
        elif key == "methods":
            out[key] = draw(st.lists(st.dictionaries(st.sampled_from(KEYS["methods"]), values, max_size=3),
                                     max_size=3))
        elif key in KEYS:
            out[key] = draw(st.one_of(values, st.dictionaries(st.sampled_from(KEYS[key]), values, max_size=4)))
        else:
            out[key] = draw(values)
    return out


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")) if not math.isfinite(value) \
            else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def toml_text(config: dict) -> str:
    lines = []
    for key, value in config.items():
        if key == "methods" and isinstance(value, list) and value:
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{json.dumps(k)} = {_toml(v)}" for k, v in item.items()]
        else:
            lines.insert(0, f"{json.dumps(key)} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _config_only_config_errors(text: str) -> None:
    with time_bound():
        try:
            parse_config(text)
        except ConfigError as exc:
            assert str(exc) and "Traceback" not in str(exc)


@FUZZ
@given(st.text(max_size=300))
def test_config_loader_text(text: str) -> None:
    _config_only_config_errors(text)


@FUZZ_CONFIG
@given(configs())
def test_config_loader_structured(config: dict) -> None:
    _config_only_config_errors(toml_text(config))


@FUZZ_CONFIG
@given(configs(), st.integers(0, 400), st.sampled_from(["", "[", "]", "=", '"', "\n", "[[", "#", "\\", "\x00"]))
def test_config_loader_damaged(config: dict, at: int, junk: str) -> None:
    """Valid-looking TOML with one character inserted somewhere."""
    text = toml_text(config)
    at = min(at, len(text))
    _config_only_config_errors(text[:at] + junk + text[at:])


def test_the_time_bound_catches_a_hang() -> None:
    with pytest.raises(TimeoutError), time_bound(0.2):
        while True:
            pass


def test_ci_profile_is_deterministic() -> None:
    """.ci/run sets MICROSEG_CI=1: tests/conftest.py then loads the derandomised profile."""
    profile = settings.get_profile("ci")
    assert profile.derandomize and profile.database is None and profile.print_blob
    if os.environ.get("MICROSEG_CI") == "1":
        assert settings.default.derandomize


# ------------------------------------------------------------------------------ atheris
ATHERIS_HARNESS = textwrap.dedent('''
    import sys
    import atheris
    import lark, numpy, pandas, pydantic, sqlalchemy  # noqa: F401,E401 - libraries load uninstrumented
    with atheris.instrument_imports(include=["microseg"]):
        from microseg.config import parse_config
        from microseg.errors import ConfigError
        from microseg.plugins.rules.parser import parse

    def one_input(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 400))
        try:
            parse(text, "fuzz")
        except ConfigError:
            pass
        try:
            parse_config(text)
        except ConfigError:
            pass

    atheris.Setup([sys.argv[0], "-runs=30000", "-max_total_time=10", "-timeout=2", "-seed=14"], one_input)
    atheris.Fuzz()
''')


def test_atheris_rules_and_config(tmp_path) -> None:
    """A short coverage-guided session (30,000 inputs, ≤ 10 s, 2 s per input); any other exception
    or a hang makes libFuzzer exit non-zero with the crashing input."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        pytest.skip("atheris is not installed (pip install 'microseg[fuzz]'; it has wheels for Linux x86-64): "
                    "the hypothesis fuzzers above still ran")
    script = tmp_path / "fuzz_parsers.py"
    script.write_text(ATHERIS_HARNESS)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
