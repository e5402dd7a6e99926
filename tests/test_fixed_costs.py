"""Fixed costs: what the registry and the rule parser load, the parser's table cache, and the cheaper
silhouettes and id conversion (the same results).

What loads is measured by ``sys.modules`` in a fresh process (not by time: the machine's load moves timings).
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: libraries a run needs only once a method fits or the store is written
LATE = ("sklearn", "lightgbm", "scipy", "sqlmodel", "presidio_analyzer", "spacy", "matplotlib")


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, env=env)
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_the_registry_and_its_listings_load_no_model_or_store_library():
    loaded = _modules_after("from microseg.registry import get_registry\nr = get_registry()\n"
                            "assert {'rules', 'rfm', 'clusters', 'clv-decline', 'campaign-response'} <= set(r.methods)\n"
                            "r.plugins(); r.recognizers; r.export_formats; r.report_renderers")
    assert not loaded & set(LATE), loaded & set(LATE)


def test_checking_rules_loads_no_model_library(tmp_path):
    code = ("from microseg.plugins.rules import Rules\n"
            "m = Rules(segments=[{'name': 'Seniors', 'when': \"age >= 65 and city in ('Oslo')\"}])\n"
            "assert m.check_columns(['age', 'city']) == []")
    loaded = _modules_after(code, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert not loaded & set(LATE), loaded & set(LATE)


def _parse_in_new_process(cache_home: Path) -> str:
    code = ("from microseg.plugins.rules.parser import parse, cache_file\n"
            "print(cache_file())\n"
            "print(repr(parse(\"age between 18 and 30 and not (city in ('Oslo', 'Bergen')) or signup_date >= as_of - "
            "90 days\")))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    return out.stdout


def test_the_parser_tables_are_cached_between_processes_and_parse_the_same(tmp_path):
    first = _parse_in_new_process(tmp_path)
    cached = tmp_path / "microseg" / "rules-grammar.lark"
    assert first.splitlines()[0] == str(cached)
    assert cached.is_file() and cached.stat().st_size > 1000
    assert stat.S_IMODE(cached.parent.stat().st_mode) == 0o700
    mtime = cached.stat().st_mtime_ns
    assert _parse_in_new_process(tmp_path) == first          # loaded from the cache: the same tree
    assert cached.stat().st_mtime_ns == mtime                 # read, not rebuilt


def test_a_damaged_cache_is_rebuilt(tmp_path):
    first = _parse_in_new_process(tmp_path)
    cached = tmp_path / "microseg" / "rules-grammar.lark"
    cached.write_bytes(cached.read_bytes()[:200])
    assert _parse_in_new_process(tmp_path) == first
    assert cached.stat().st_size > 1000


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_no_cache_in_a_folder_others_can_write(tmp_path):
    (tmp_path / "microseg").mkdir()
    os.chmod(tmp_path / "microseg", 0o777)
    out = _parse_in_new_process(tmp_path)
    assert out.splitlines()[0] == "None"
    assert not (tmp_path / "microseg" / "rules-grammar.lark").exists()


def test_silhouettes_from_one_distance_matrix_are_scikit_learns():
    from sklearn.metrics import silhouette_score

    from microseg.plugins.clusters import silhouette_scores
    rng = np.random.default_rng(3)
    x = np.clip(rng.standard_t(3, (700, 4)) + rng.integers(0, 3, (700, 1)), -5, 5)
    labelings = [rng.integers(0, k, len(x)) for k in (2, 3, 5)]
    labelings.append(np.where(np.arange(len(x)) == 0, 9, labelings[1]))     # a singleton, gaps in the codes
    assert silhouette_scores(x, labelings) == [float(silhouette_score(x, labels)) for labels in labelings]
    assert silhouette_scores(x, []) == []


@pytest.mark.parametrize("values", [
    ["C1", " C2", "C1", "C3 "], ["17850", "17850", " 12", "3"], ["1.0", "2", "2.0"], ["1.5", "2", "1.5"],
    ["12", "A1", "12"], [None, "5", "5"], [float("nan"), "x"]])
@pytest.mark.parametrize("dtype", [object, "string"])
def test_text_ids_are_converted_once_per_distinct_value_with_the_same_result(values, dtype):
    from microseg.loading import _ids_from_text, normalise_ids
    if dtype == "string" and any(v is not None and not isinstance(v, str) for v in values):
        return
    series = pd.Series(values * 3, dtype=dtype, name="customer_id", index=np.arange(len(values) * 3) * 2)
    got, expected = normalise_ids(series, "transactions", "customer_id"), _ids_from_text(series)
    pd.testing.assert_series_equal(got, expected)
    assert [type(v) for v in got] == [type(v) for v in expected]
