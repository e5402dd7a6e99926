"""Property tests of the release invariant (hypothesis), judged from the exported rows alone.

Random families (single and multi membership), microsegment trees over some of them, a score
with quantile bands, an attribute, k, and a sequence of runs over a drifting base (labels moving,
customers leaving and joining, a threshold nudged) go through the gate, the store and the export
builder. The oracle (tests/release_oracle.py) reads nothing but the exported frames: it rebuilds
every customer's released vector, joins runs on the customer key (absent is a value) and
brute-forces cells, intersections, one-sided differences and parent-minus-children chains.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microseg.compose import method_segments, microsegments
from release_oracle import oracle_one_run, oracle_runs, set_expressions
from microseg.method import Assignment
from microseg.privacy.history import release_namespace
from microseg.privacy.pseudonym import pseudonymise
from microseg.privacy.release import ReleaseSpec, gate_release
from microseg.privacy.released import released_rows
from microseg.privacy.scope import ReleaseScope
from microseg.privacy.subkeys import key_id
from microseg.store import Store

SECRET = b"property-test-secret-0123456789"


# ------------------------------------------------------------------------------ scenarios
@st.composite
def scenarios(draw):
    return {"n": draw(st.integers(40, 320)), "k": draw(st.integers(2, 30)), "seed": draw(st.integers(0, 2**31 - 1)),
            "flat": draw(st.integers(1, 3)), "multi": draw(st.booleans()), "micro": draw(st.booleans()),
            "score": draw(st.booleans()), "attribute": draw(st.booleans()), "bands": draw(st.sampled_from([2, 4, 8])),
            "runs": draw(st.integers(1, 3)), "hold": draw(st.booleans())}


def _run_inputs(sc: dict, run: int, rng: np.random.Generator, base: dict) -> tuple:
    """One run's customers and assignments: the base drifts between runs."""
    if run:
        keep = rng.random(len(base["ids"])) > 0.05                      # leavers
        joiners = int(rng.integers(0, 8))
        new_ids = [f"C{base['next'] + i}" for i in range(joiners)]
        base["next"] += joiners
        base["ids"] = [i for i, ok in zip(base["ids"], keep) if ok] + new_ids
        for f in base["labels"]:
            old = base["labels"][f]
            base["labels"][f] = {c: (old[c] if c in old and rng.random() > 0.1 else
                                     f"L{rng.integers(0, base['sizes'][f])}") for c in base["ids"]}
        base["age"] = {c: base["age"].get(c, int(rng.integers(18, 95))) for c in base["ids"]}
        base["threshold"] -= 1                                          # a nudged rule: age >= 89 → 88
    ids = pd.Index(sorted(base["ids"]))
    assignments = {f: Assignment(labels=pd.Series([base["labels"][f][c] for c in ids], index=ids))
                   for f in base["labels"]}
    ages = pd.Series([base["age"][c] for c in ids], index=ids)
    assignments["senior"] = Assignment(labels=pd.Series(np.where(ages >= base["threshold"], "Senior", "Other"),
                                                        index=ids))
    if sc["multi"]:
        rows, labels = [], []
        for c in ids:
            got = [lab for lab in ("a", "b", "c") if rng.random() < 0.4] or ["none"]
            rows += [c] * len(got)
            labels += got
        assignments["multi"] = Assignment(labels=pd.Series(labels, index=pd.Index(rows)))
    return ids, assignments, ages


def _release(sc: dict, store: Store, ids: pd.Index, assignments: dict, ages: pd.Series, rng: np.random.Generator):
    flat = [f for f in assignments if f.startswith("f")]
    dims = flat[:2] if sc["micro"] and len(flat) >= 2 else []
    specs = [s for f, a in assignments.items() for s in method_segments(f, f, a, ids)]
    specs += microsegments(dims, assignments, ids) if dims else []
    families = list(dict.fromkeys(dims + list(assignments))) + (["micro"] if dims else [])
    scores = pd.DataFrame({"m.p": rng.beta(2, 5, len(ids))}, index=ids) if sc["score"] else None
    attrs = pd.DataFrame({"age": ages}) if sc["attribute"] else None
    spec = ReleaseSpec(families=families, micro_dims=dims, k=sc["k"], scores=scores, score_bands=sc["bands"],
                       attributes=attrs, scope=ReleaseScope(all=True, hold=sc["hold"]))
    keys = pseudonymise(ids.to_numpy(), SECRET)
    namespace = release_namespace("pseudonym", SECRET)
    releasable = np.flatnonzero(rng.random(len(ids)) < 0.95)           # marketing consent
    release = gate_release(spec, specs, ids, releasable, keys, namespace, store)
    run_row = {"as_of": "2025-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
               "plugin_versions": "{}", "timings": "{}", "n_customers": len(ids), "k": sc["k"], "report": "{}",
               "key_id": key_id(SECRET), "namespace": namespace, "scope": json.dumps(release.scope)}
    return store.write_run(run_row, release.segment_rows, release.members, keys, release.cells, [], SECRET)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_exports_hold_no_cell_of_1_to_k_minus_1(sc):
    rng = np.random.default_rng(sc["seed"])
    sizes = {f"f{i}": int(rng.integers(1, 7)) for i in range(sc["flat"])}
    base = {"ids": [f"C{i}" for i in range(sc["n"])], "next": sc["n"], "sizes": sizes, "threshold": 89,
            "labels": {f: {f"C{i}": f"L{min(int(rng.geometric(0.4)) - 1, s - 1)}" for i in range(sc["n"])}
                       for f, s in sizes.items()},
            "age": {f"C{i}": int(rng.integers(18, 95)) for i in range(sc["n"])}}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 's.db'}")
        frames = []
        for run in range(sc["runs"]):
            ids, assignments, ages = _run_inputs(sc, run, rng, base)
            run_id = _release(sc, store, ids, assignments, ages, rng)
            frames.append(released_rows(store, run_id).astype(object))
            oracle_one_run(frames[-1], sc["k"])
        if len(frames) > 1:
            oracle_runs(frames, sc["k"])
        store.engine.dispose()


def test_oracle_finds_a_planted_small_cell():
    """The oracle can fail: a hand-made export with an intersection of 3 at k = 5, and two leavers."""
    frame = pd.DataFrame({"customer": [f"c{i}" for i in range(13)],
                          "a": ["x"] * 8 + ["y"] * 5, "b": ["u"] * 5 + ["v"] * 3 + ["u"] * 5})
    with pytest.raises(AssertionError, match="< k=5"):
        oracle_one_run(frame, 5)
    one = frame[["customer", "a"]]
    oracle_runs([one, one.iloc[2:]], 2)
    with pytest.raises(AssertionError, match="cross-run cell of 2"):
        oracle_runs([one, one.iloc[2:]], 3)
    with pytest.raises(AssertionError, match="intersection"):
        set_expressions(frame, 5)                                  # (a = x) ∩ (b = v) = 3
    with pytest.raises(AssertionError, match="holds 2 < k=5"):
        set_expressions(frame.assign(b=["u"] * 6 + ["v"] * 7), 5)   # (a = x) minus (b = u) = (x, v) = 2
