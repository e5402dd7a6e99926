#!/usr/bin/env python3
"""Uplift learner development on Hillstrom's training rows only (the 70 % the product trains on).

    .venv/bin/python bench/uplift_dev.py --repeats 3            # Womens and Mens, 3 x 3 folds
    .venv/bin/python bench/uplift_dev.py --arms Mens --trees     # plus uplift-tree variants
    .venv/bin/python bench/uplift_dev.py --arms Womens demo --bags 5 \
        --designs t-learner/logistic:bins8 class-transformation/logistic:nobins-c0.5   # more variants
    .venv/bin/python bench/uplift_dev.py --arms Womens Mens demo --nested 1 3   # the choice itself
    flock /work/bench.lock .venv/bin/python bench/uplift_dev.py --time-demo main   # choice CPU
    .venv/bin/python bench/uplift_dev.py --arms Womens Mens demo --nested 1 --outer-repeats 4 \
        --s-trees s3free --pools s-learner/logistic s-learner/logistic+s-learner/lgbm   # with extra candidates

``--arms demo`` runs ``microseg demo`` once and uses the contact rows its uplift choice sees (its
training customers; a customer's contacts in one fold). ``--nested`` scores the product's choice
itself: on outer folds of the training rows, the choice runs on each outer training part (with
each rule of :data:`RULES` and number of repeats) and what it picks is scored on the outer fold.

Every candidate (learner/base, tree variants, ensembles: the average of the members' uplift, the
members fixed or the top k on the other folds) is scored on the same repeats x 3 stratified folds of the training rows:
mean ± s.e. of Qini AUC and uplift@30 %. The first repeat uses the product's folds (seed 42), so
its figures are the ``cv_*_train`` the run reports. The held-out 30 % is not read. Needs
../shared/data.

The bench's own learners (:data:`BENCH_LEARNERS`: the S-learner — Lo's interaction model on
logistic regression, LightGBM with the treatment as a column — and the modified covariate
method) are scored beside the product's but are not among its candidates.

``--time-demo REV`` runs ``microseg demo`` once, keeps the inputs of its uplift choice, and times
that choice (CPU, one thread) with ``plugins/_uplift.py`` of git revision REV and of the working
tree (and, with ``--pools``, the working tree's with extra candidates), alternated in this one process.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from microseg.plugins import _uplift
from microseg.plugins._metrics import qini_auc_score, uplift_at_k
from microseg.plugins.campaign_response.inputs import Split, model_features

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hillstrom.csv.gz"
LGBM = {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 7, "min_child_samples": 100, "subsample": 0.8,
        "subsample_freq": 1, "colsample_bytree": 0.7, "reg_lambda": 5.0, "n_jobs": 1, "random_state": 42}
LEARNERS = [("t-learner", "logistic"), ("class-transformation", "logistic"), ("transformed-outcome", "logistic"),
            ("dr-learner", "logistic"), ("t-learner", "lgbm"), ("class-transformation", "lgbm"),
            ("x-learner", "logistic"), ("x-learner", "lgbm"), ("r-learner", "logistic"), ("r-learner", "lgbm"),
            ("s-learner", "logistic"), ("s-learner", "lgbm"), ("dr-learner", "lgbm"),
            ("transformed-outcome", "lgbm"), ("modified-covariate", "logistic")]
TREE_VARIANTS = {"stumps300": {"num_leaves": 2, "min_child_samples": 400, "n_estimators": 300},
                 "leaf1000": {"num_leaves": 3, "min_child_samples": 1000, "n_estimators": 150},
                 "trees75": {"num_leaves": 3, "min_child_samples": 400, "n_estimators": 75},
                 "stumps150": {"num_leaves": 2, "min_child_samples": 400, "n_estimators": 150},
                 "stumps150lr06": {"num_leaves": 2, "min_child_samples": 400, "n_estimators": 150,
                                   "learning_rate": 0.06}}
#: LightGBM S-learner variants (``s-learner/lgbm:<name>``): its trees (:attr:`SLearner.trees`) and
#: whether each tree pairs the treatment with one feature only
S_VARIANTS = {"s3": ({"num_leaves": 3}, True), "s2": ({"num_leaves": 2}, True), "s4": ({"num_leaves": 4}, True),
              "s3free": ({"num_leaves": 3}, False), "s4free": ({"num_leaves": 4}, False),
              "s3free75lr06": ({"num_leaves": 3, "n_estimators": 75, "learning_rate": 0.06}, False),
              "s3free75": ({"num_leaves": 3, "n_estimators": 75}, False),
              "s2free75lr06": ({"num_leaves": 2, "n_estimators": 75, "learning_rate": 0.06}, False),
              "s3x300": ({"num_leaves": 3, "n_estimators": 300}, True),
              "s3leaf1000": ({"num_leaves": 3, "min_child_samples": 1000}, True)}
#: linear-design variants (``learner/logistic:<name>``): 8 quantile bins (the design before stop 20, C 0.5),
#: no signed log, neither; another C
DESIGNS = {"bins8": {"n_bins": 8, "C": 0.5}, "bins8-c0.02": {"n_bins": 8, "C": 0.02}, "nobins": {"n_bins": 0},
           "nolog": {"signed_log": False, "n_bins": 8}, "plain": {"n_bins": 0, "signed_log": False},
           **{f"nobins-c{c}": {"n_bins": 0, "C": c} for c in (0.002, 0.005, 0.02, 0.1, 0.5, 2.0)}}
DEFAULT_C = _uplift.LOGISTIC_C


class SLearner(_uplift.Learner):
    """S-learner (not a product candidate: below the ``--nested`` bar, see docs/methods-clv-campaign.md):
    one response model with the treatment among its inputs; uplift = p(x, t=1) − p(x, t=0). On
    logistic regression it is Lo's (2002) interaction model: the design [x, t, t·x] (C: ``c``, else
    the product's). On LightGBM the treatment is a column, the trees :data:`_uplift.UPLIFT_TREES`
    with ``trees`` (stumps alone could not let the effect vary with x); ``constrained``: each tree
    may split on the treatment and one other feature only (LightGBM's interaction constraints)."""

    trees: dict = {"num_leaves": 3}
    constrained = False
    c: float | None = None

    def fit_rows(self, r: _uplift.Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "SLearner":
        if self.kind == "logistic":
            saved = _uplift.LOGISTIC_C
            _uplift.LOGISTIC_C = self.c or saved
            try:
                self.model_ = _uplift.Base("logistic", {}).fit(with_treatment(r, t), y)
            finally:
                _uplift.LOGISTIC_C = saved
        else:
            from lightgbm import LGBMClassifier
            gx = with_treatment(r, t).gx
            params = {**_uplift.uplift_trees(self.lgbm_params, len(y)), **self.trees}
            treatment = gx.shape[1] - 1
            if self.constrained:
                params["interaction_constraints"] = [[j, treatment] for j in range(treatment)]
            self.model_ = LGBMClassifier(verbose=-1, **params).fit(gx, y)
        if control:
            self.control_ = _Arm(self, 0)
        return self

    def uplift_rows(self, r: _uplift.Rows) -> np.ndarray:
        return self.arm_rows(r, 1) - self.arm_rows(r, 0)

    def arm_rows(self, r: _uplift.Rows, arm: int) -> np.ndarray:
        """The response probability of every row as if in ``arm`` (1 treated, 0 control)."""
        rows = with_treatment(r, np.full(len(r), arm))
        if isinstance(self.model_, _uplift.Base):
            return self.model_.predict(rows)
        return self.model_.predict_proba(rows.gx)[:, 1]


class _Arm:
    """One arm's response of a fitted :class:`SLearner` (its control-response model)."""

    def __init__(self, learner: SLearner, arm: int) -> None:
        self.learner, self.arm = learner, arm

    def predict(self, r: _uplift.Rows) -> np.ndarray:
        return self.learner.arm_rows(r, self.arm)


def with_treatment(r: _uplift.Rows, t: np.ndarray) -> _uplift.Rows:
    """``r`` with the treatment as an input: the linear design [z, t, t·z], LightGBM's frame plus an
    ``uplift_treatment`` column."""
    out = object.__new__(_uplift.Rows)
    out.kinds, out.design, out.cats = r.kinds, r.design, r.cats
    tt = np.asarray(t, dtype="float32")[:, None]
    out.z = None if r.z is None else np.hstack([r.z, tt, tt * r.z])
    out.gx = None if r.gx is None else r.gx.assign(uplift_treatment=tt[:, 0])
    return out


class ModifiedCovariate(_uplift.Learner):
    """Tian et al.'s (2014) modified covariate method (not a product candidate): one logistic
    regression of y on the design times (t − e) (e: the treatment share; no main effects: the
    treatment is randomised), logit = γ0 + (t − e)·z'γ; uplift = p(t=1) − p(t=0) at that logit,
    increasing in z'γ."""

    def fit_rows(self, r: _uplift.Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "ModifiedCovariate":
        self.e_ = float(np.mean(t))
        self.model_ = _uplift.Base("logistic", {}).fit(_times(r, t - self.e_), y)
        if control:
            off = np.flatnonzero(t == 0)
            self.control_ = _uplift.Base("logistic", {}).fit(r.take(off), y[off])
        return self

    def uplift_rows(self, r: _uplift.Rows) -> np.ndarray:
        n = len(r)
        return (self.model_.predict(_times(r, np.full(n, 1 - self.e_)))
                - self.model_.predict(_times(r, np.full(n, -self.e_))))


def _times(r: _uplift.Rows, w: np.ndarray) -> _uplift.Rows:
    out = object.__new__(_uplift.Rows)
    out.kinds, out.design, out.cats, out.gx = r.kinds, r.design, r.cats, None
    out.z = r.z * np.asarray(w, dtype="float32")[:, None]
    return out


class SLearnerC005(SLearner):
    """Lo's model at C 0.005 (best Qini on Mens' training folds)."""
    c = 0.005


#: the bench's own learners, registered with the product's (:data:`_uplift.LEARNERS`) when it runs
BENCH_LEARNERS = {"s-learner": SLearner, "s-learner-c0.005": SLearnerC005,
                  "modified-covariate": ModifiedCovariate}


def training_rows(arm: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    df = pd.read_csv(DATA)
    df = df[df["segment"].isin([f"{arm} E-Mail", "No E-Mail"])].reset_index(drop=True)
    y = df["visit"].to_numpy(dtype=int)
    t = (df["segment"] == f"{arm} E-Mail").to_numpy(dtype=int)
    x = model_features(df, ["conversion", "spend", "visit", "segment"])
    tr, _ = Split("stratified", None, 42)(len(df), t * 2 + y)     # the product's 70 %; the rest unread
    return x.iloc[tr], y[tr], t[tr]


def run(arm: str, repeats: int, trees: bool, ks: tuple[int, ...], variants: list[str] | None = None,
        learners: list[str] | None = None, bags: tuple[int, ...] = (), designs: list[str] | None = None,
        s_variants: list[str] | None = None) -> None:
    x, y, t, groups = demo_rows() if arm == "demo" else (*training_rows(arm), None)
    r = _uplift.Rows(x)
    design_rows = {v: _uplift.Rows(x, design=_uplift.Design(**{k: a for k, a in d.items() if k != "C"}))
                   for v, d in DESIGNS.items()
                   if any(c.endswith(f":{v}") for c in designs or ())}
    rng = np.random.default_rng(42)
    cands = [f"{a}/{b}" for a, b in LEARNERS]
    if trees:
        cands += [f"{a}/lgbm:{v}" for a, b in LEARNERS if b == "lgbm" for v in variants or TREE_VARIANTS]
    cands += [f"{a}/{b}:bag{n}" for a, b in LEARNERS if b == "lgbm" for n in bags]
    cands += list(designs or ())
    cands += [f"s-learner/lgbm:{v}" for v in s_variants or ()]
    if learners:
        cands = [c for c in cands if c in learners]
    folds = []                              # (validation rows, {candidate: uplift ranks})
    cpu = {c: 0.0 for c in cands}
    for _ in range(repeats):
        fold = _uplift._folds(y, t, 3, rng, groups)
        for f in range(3):
            tr, va = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            rt0, rv0 = r.take(tr), r.take(va)
            design_folds = {v: (dr.take(tr), dr.take(va)) for v, dr in design_rows.items()}
            scores = {}
            for c in cands:
                learner, kind = c.split("/")
                kind, _, variant = kind.partition(":")
                rt, rv = design_folds.get(variant, (r.take(tr), r.take(va))) if variant in DESIGNS else (rt0, rv0)
                _uplift.LOGISTIC_C = DESIGNS.get(variant, {}).get("C", DEFAULT_C)
                saved = dict(_uplift.UPLIFT_TREES)
                _uplift.UPLIFT_TREES.update(TREE_VARIANTS.get(variant, {}))
                s_saved = SLearner.trees, SLearner.constrained
                if variant in S_VARIANTS:
                    SLearner.trees, SLearner.constrained = S_VARIANTS[variant]
                n_bags = int(variant[3:]) if variant.startswith("bag") else 1
                t0 = time.process_time()
                u = np.mean([_uplift.LEARNERS[learner](kind, LGBM | {"random_state": 42 + b}).fit_rows(
                    rt, y[tr], t[tr], control=False).uplift_rows(rv) for b in range(n_bags)], axis=0)
                cpu[c] += time.process_time() - t0
                _uplift.UPLIFT_TREES.clear()
                _uplift.UPLIFT_TREES.update(saved)
                _uplift.LOGISTIC_C = DEFAULT_C            # the product's own settings for what runs next
                SLearner.trees, SLearner.constrained = s_saved
                scores[c] = u
            folds.append((va, scores))
    table = {c: [_figures(y[va], s[c], t[va]) for va, s in folds] for c in cands}
    base = list(table)
    for k in ks:                            # fixed members: the k best by the first repeat's mean rank
        for members in _top_by_rank(table, k, base, folds_used=range(3)):
            name = "avg(" + "+".join(members) + ")"
            table[name] = [_figures(y[va], np.mean([s[m] for m in members], axis=0), t[va]) for va, s in folds]
        # honest top-k: fold i's members ranked on the other folds of the same repeat
        name = f"avg-top{k}-other-folds"
        table[name] = []
        for i, (va, s) in enumerate(folds):
            rep = i // 3
            others = [j for j in range(rep * 3, rep * 3 + 3) if j != i]
            members = _top_by_rank(table, k, base, folds_used=others)[0]
            table[name].append(_figures(y[va], np.mean([s[m] for m in members], axis=0), t[va]))
        name = f"rankavg-top{k}-other-folds"        # the same members, averaged by rank within the fold
        table[name] = []
        for i, (va, s) in enumerate(folds):
            rep = i // 3
            others = [j for j in range(rep * 3, rep * 3 + 3) if j != i]
            members = _top_by_rank(table, k, base, folds_used=others)[0]
            table[name].append(_figures(y[va], np.mean([_ranks(s[m]) for m in members], axis=0), t[va]))
    for rule, metrics in RULES.items():       # the learner a rule picks on the other folds, scored on this one
        name = f"chosen-by-{rule}-other-folds"
        table[name] = []
        for i, (va, s) in enumerate(folds):
            rep = i // 3
            others = [j for j in range(rep * 3, rep * 3 + 3) if j != i]
            pool = [c for c in base if c in product_pool(table)] or base
            pick = _pick(table, pool, others, metrics)
            table[name].append(table[pick][i])
    effect = y[t == 1].mean() - y[t == 0].mean()
    print(f"\n## {'the demo (contact rows)' if arm == 'demo' else 'Hillstrom ' + arm}: {len(y)} training rows, {repeats} x 3 folds (effect {effect:.4f})")
    print("| candidate | Qini mean ± s.e. | uplift@30 mean ± s.e. | repeat-1 Qini | repeat-1 uplift@30 | fit CPU s |")
    print("|---|---|---|---|---|---|")
    for c, v in sorted(table.items(), key=lambda kv: -np.mean([f[0] for f in kv[1]])):
        a = np.array(v)
        se = a.std(axis=0, ddof=1) / np.sqrt(len(a))
        print(f"| {c} | {a[:, 0].mean():.4f} ± {se[0]:.4f} | {a[:, 1].mean():.4f} ± {se[1]:.4f} | "
              f"{a[:3, 0].mean():.4f} | {a[:3, 1].mean():.4f} | {cpu.get(c, 0):.1f} |")
    per_repeat = [(f"repeat {i + 1}" + (" (the product's folds)" if i == 0 else ""), range(3 * i, 3 * i + 3))
                  for i in range(repeats)]
    for label, used in (("all folds", range(len(folds))), *per_repeat):
        product = [f"{a}/{b}" for a, b in _uplift.CANDIDATES if f"{a}/{b}" in table]
        for pool_name, pool in (("the product's CANDIDATES", product), ("learners", base),
                                ("all candidates", list(table))):
            print(f"choice by mean rank, {label}, among {pool_name}: {_top_by_rank(table, 1, pool, used)[0][0]}")


def nested(arm: str, repeat_options: tuple[int, ...], outer_repeats: int = 2, pools: tuple[str, ...] = ()) -> None:
    """The product's choice itself, scored honestly: on outer folds of the training rows, the
    choice (:func:`microseg.plugins._uplift.choose_uplift`, ``repeats`` x 3 inner folds of the
    outer training part) picks by each rule; the pick (or the average uplift of its top 2) is
    fitted on the outer training part and scored on the outer fold. ``pools``: extra candidates
    ("+"-joined) the product's choice (rule rank) would also compare; the inner folds do not depend
    on the candidates, so one choice over all of them gives each pool's pick, paired on the same
    outer folds (the difference to the product's pick: mean ± s.e. over the outer folds)."""
    x, y, t, groups = demo_rows() if arm == "demo" else (*training_rows(arm), None)
    rng = np.random.default_rng(7)
    r = _uplift.Rows(x)
    rows: dict[str, list[tuple[float, float]]] = {}
    product = [f"{a}/{b}" for a, b in _uplift.CANDIDATES]
    extras = [c for pool in pools for c in pool.split("+") if c not in product]
    everything = tuple(_uplift.CANDIDATES) + tuple(tuple(c.split("/")) for c in dict.fromkeys(extras))
    for _ in range(outer_repeats):
        outer = _uplift._folds(y, t, 3, rng, groups)
        for f in range(3):
            tr, va = np.flatnonzero(outer != f), np.flatnonzero(outer == f)
            fitted: dict[str, np.ndarray] = {}

            def uplift(name: str) -> np.ndarray:
                if name not in fitted:
                    learner, kind = name.split("/")
                    fitted[name] = _uplift.LEARNERS[learner](kind, LGBM).fit_rows(
                        r.take(tr), y[tr], t[tr], control=False).uplift_rows(r.take(va))
                return fitted[name]

            for name in product + list(dict.fromkeys(extras)):
                rows.setdefault(f"fixed {name}", []).append(_figures(y[va], uplift(name), t[va]))
            for reps in repeat_options:
                g = None if groups is None else groups[tr]
                saved, _uplift.CANDIDATES = _uplift.CANDIDATES, everything
                try:
                    _, scores = _uplift.choose_uplift(x.iloc[tr], y[tr], t[tr], LGBM, 42, repeats=reps, groups=g)
                finally:
                    _uplift.CANDIDATES = saved
                for rule, metrics in RULES.items():
                    order = _ordered(_within(scores, product), metrics)
                    rows.setdefault(f"choice {reps} x 3 folds, rule {rule}", []).append(
                        _figures(y[va], uplift(order[0]), t[va]))
                    rows.setdefault(f"choice {reps} x 3 folds, rule {rule}, top-2 average", []).append(
                        _figures(y[va], (uplift(order[0]) + uplift(order[1])) / 2, t[va]))
                base = rows[f"choice {reps} x 3 folds, rule rank"][-1]
                for pool in pools:
                    pick = _ordered(_within(scores, product + pool.split("+")), RULES["rank"])[0]
                    got = _figures(y[va], uplift(pick), t[va])
                    rows.setdefault(f"choice {reps} x 3 folds, rule rank, + {pool}", []).append(got)
                    rows.setdefault(f"  difference to the product's choice, + {pool}", []).append(
                        (got[0] - base[0], got[1] - base[1]))
                    print(f"{arm} outer fold {len(rows[f'fixed {product[0]}'])}, + {pool}: picks {pick}", flush=True)
    effect = y[t == 1].mean() - y[t == 0].mean()
    print(f"\n## nested, {arm}: {len(y)} rows, {outer_repeats} x 3 outer folds (effect {effect:.4f})")
    print("| procedure | Qini mean ± s.e. | uplift@30 mean ± s.e. |\n|---|---|---|")
    for name, v in rows.items():
        a = np.array(v)
        se = a.std(axis=0, ddof=1) / np.sqrt(len(a))
        print(f"| {name} | {a[:, 0].mean():.4f} ± {se[0]:.4f} | {a[:, 1].mean():.4f} ± {se[1]:.4f} |", flush=True)


def _within(scores: dict[str, dict[str, float]], pool: list[str]) -> dict[str, dict[str, float]]:
    return {m: {c: v for c, v in by.items() if c in pool} for m, by in scores.items()}


def _ordered(scores: dict[str, dict[str, float]], metrics: tuple[int, ...]) -> list[str]:
    """Candidates best first by the mean rank over ``metrics`` (0 Qini, 1 uplift@30; ties: Qini)."""
    by = [scores[("qini", "uplift_at_30")[m]] for m in metrics]
    def rank(c: str) -> float:
        return float(np.mean([1 + sum(v > s[c] for v in s.values()) for s in by]))
    return sorted(scores["qini"], key=lambda c: (rank(c), -scores["qini"][c]))


def demo_rows() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray | None]:
    """The rows, outcomes, treatments and groups (customers) ``microseg demo`` chooses its uplift
    learner on (training customers only: the held-out customers are not among them)."""
    args, kwargs = _demo_choice_inputs()
    x, y, t = args[0], args[1], args[2]
    return x, np.asarray(y), np.asarray(t), kwargs.get("groups")


def _demo_choice_inputs() -> tuple[tuple, dict]:
    """Runs ``microseg demo`` once and keeps the arguments of its uplift learner choice."""
    import tempfile
    from microseg.cli import cli
    captured = {}
    original = _uplift.choose_uplift

    def spy(*args, **kwargs):
        captured["args"] = (args, kwargs)
        return original(*args, **kwargs)

    _uplift.choose_uplift = spy
    with tempfile.TemporaryDirectory() as tmp:
        try:
            cli(["demo", "--out", tmp], standalone_mode=False)
        finally:
            _uplift.choose_uplift = original
    return captured["args"]


def time_demo(rev: str, rounds: int = 3, pools: tuple[str, ...] = ()) -> None:
    """The demo's choice: ``plugins/_uplift.py`` of ``rev`` against the working tree's, and the
    working tree's with each pool of extra candidates ("+"-joined), alternated."""
    import importlib.util
    import subprocess
    import tempfile
    from threadpoolctl import threadpool_limits
    args, kwargs = _demo_choice_inputs()
    with tempfile.TemporaryDirectory() as tmp:
        source = subprocess.run(["git", "show", f"{rev}:plugins/_uplift.py"], capture_output=True, text=True,
                                check=True, cwd=Path(__file__).resolve().parents[1]).stdout
        path = Path(tmp) / "uplift_before.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("uplift_before", path)
        before = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(before)
    variants = [(rev, before, before.CANDIDATES), ("working tree", _uplift, _uplift.CANDIDATES)]
    variants += [(f"working tree + {pool}", _uplift,
                  tuple(_uplift.CANDIDATES) + tuple(tuple(c.split("/")) for c in pool.split("+"))) for pool in pools]
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    product = _uplift.CANDIDATES
    with threadpool_limits(1):
        before.choose_uplift(*args, **kwargs)                      # imports and caches warm
        for _ in range(rounds):
            for name, module, candidates in variants:
                module.CANDIDATES = candidates
                t0 = time.process_time()
                try:
                    choice = module.choose_uplift(*args, **kwargs)[0]
                finally:
                    _uplift.CANDIDATES = product
                cpu[name].append(time.process_time() - t0)
                print(f"{name}: {'/'.join(choice)} {cpu[name][-1]:.2f} s CPU", flush=True)
    for name, v in cpu.items():
        print(f"{name}: median {float(np.median(v)):.2f} s CPU over {rounds} (demo: {len(args[1])} contact rows)")


RULES = {"rank": (0, 1), "uplift30": (1,), "qini": (0,)}


def product_pool(table: dict) -> list[str]:
    return [f"{a}/{b}" for a, b in _uplift.CANDIDATES if f"{a}/{b}" in table]


def _pick(table: dict, pool: list[str], used: list[int], metrics: tuple[int, ...]) -> str:
    """The candidate with the best mean rank over ``metrics`` (0 Qini, 1 uplift@30) of its mean
    figure on the folds ``used`` (ties: the higher Qini)."""
    means = {c: [float(np.mean([table[c][i][m] for i in used])) for m in (0, 1)] for c in pool}
    def rank(c: str) -> float:
        return float(np.mean([1 + sum(means[o][m] > means[c][m] for o in pool) for m in metrics]))
    return min(pool, key=lambda c: (rank(c), -means[c][0]))


def _ranks(u: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(u, kind="stable"), kind="stable") / max(len(u) - 1, 1)


def _figures(y: np.ndarray, u: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    return qini_auc_score(y, u, t), uplift_at_k(y, u, t, 0.3)


def _top_by_rank(table: dict, k: int, pool: list[str], folds_used) -> list[tuple[str, ...]]:
    """The k candidates of ``pool`` with the best mean rank of mean Qini and mean uplift@30 on
    ``folds_used`` (the product's rule, :func:`microseg.plugins._uplift.best_of`)."""
    used = list(folds_used)
    scores = {"qini": {c: float(np.mean([table[c][i][0] for i in used])) for c in pool},
              "uplift_at_30": {c: float(np.mean([table[c][i][1] for i in used])) for c in pool}}
    order = []
    left = dict(scores)
    for _ in range(k):
        best = _uplift.best_of(left)
        order.append(best)
        left = {m: {c: v for c, v in by.items() if c != best} for m, by in left.items()}
    return [tuple(order)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arms", nargs="+", default=["Womens", "Mens"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trees", action="store_true", help="also the uplift-tree variants")
    ap.add_argument("--variants", nargs="+", default=None, help="only these tree variants")
    ap.add_argument("--learners", nargs="+", default=None, help="only these learner/base candidates")
    ap.add_argument("--ks", nargs="+", type=int, default=[2, 3, 4])
    ap.add_argument("--bags", nargs="+", type=int, default=[], help="also the LightGBM learners bagged over N seeds")
    ap.add_argument("--designs", nargs="+", default=None,
                    help="also these learner/logistic:<design> candidates (designs: " + ", ".join(DESIGNS) + ")")
    ap.add_argument("--s-variants", nargs="+", default=None,
                    help="also these s-learner/lgbm:<variant> candidates (" + ", ".join(S_VARIANTS) + ")")
    ap.add_argument("--nested", nargs="+", type=int, metavar="REPEATS",
                    help="score the product's choice itself on outer folds, with these numbers of inner repeats")
    ap.add_argument("--outer-repeats", type=int, default=2, help="with --nested: repeats of the 3 outer folds")
    ap.add_argument("--pools", nargs="+", default=[],
                    help="with --nested or --time-demo: extra candidates (learner/base, '+'-joined) the choice would also compare")
    ap.add_argument("--s-trees", choices=list(S_VARIANTS), help="the LightGBM S-learner's trees everywhere")
    ap.add_argument("--time-demo", metavar="REV", help="time the demo's uplift choice: REV vs the working tree")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    _uplift.LEARNERS.update(BENCH_LEARNERS)
    if args.s_trees:
        SLearner.trees, SLearner.constrained = S_VARIANTS[args.s_trees]
    if args.time_demo:
        time_demo(args.time_demo, pools=tuple(args.pools))
        return
    if args.nested:
        for arm in args.arms:
            nested(arm, tuple(args.nested), args.outer_repeats, tuple(args.pools))
        return
    for arm in args.arms:
        run(arm, args.repeats, args.trees, tuple(args.ks), args.variants, args.learners, tuple(args.bags),
            args.designs, args.s_variants)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
