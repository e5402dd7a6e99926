"""The model quality gate and its bootstrap intervals.

Invariants, checked from microseg's outputs (run report, store, audit trail, export):
- a model whose paired interval against its naive baseline does not clear 0 releases no segment
  of its own family, no score, and its dimension in microsegments is the single "not released"
  label; the run report and the audit trail say why, in words;
- a model that clears its baseline is released;
- every reported interval contains its point value, and a weighted resample gives the metric
  of the explicitly resampled rows (oracle: scikit-learn / scikit-uplift on repeated rows).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from microseg import api
from microseg.config import parse_config
from microseg.plugins.comparison import ModelComparison, resample_weights
from microseg.plugins._metrics import average_precision, qini_auc_score, roc_auc, top_lift, uplift_at_k
from microseg.quality import WITHHELD, QualityPolicy, assess

warnings.filterwarnings("ignore", category=UserWarning)

CONFIG = """
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"

[[methods]]
id = "tier"
method = "rules"
[methods.params]
default = "b"
segments = [{{ name = "a", when = "x1 > 0" }}]

[[methods]]
id = "response"
method = "campaign-response"
[methods.params]
segments = "propensity"
outcome_column = "bought"

[microsegments]
dimensions = ["tier", "response"]

[privacy]
min_segment_size = 20
key_env = "MICROSEG_KEY"

[release]
include_scores = true
{extra}
"""


def _customers(n: int, signal: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    p = 1 / (1 + np.exp(-(signal * (x[:, 0] + x[:, 1]) - 1.2)))
    return pd.DataFrame({"customer_id": [f"K{i:05d}" for i in range(n)], "x1": x[:, 0], "x2": x[:, 1],
                         "x3": x[:, 2], "bought": (rng.random(n) < p).astype(int)})


def _run(tmp_path, customers: pd.DataFrame, extra: str = ""):
    customers.to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "microseg.toml").write_text(CONFIG.format(extra=extra))
    db = tmp_path / "ms.db"
    result = api.run(tmp_path / "microseg.toml", db=str(db))
    return result, db


def _audit_payloads(db, kind: str) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM auditevent")).mappings().all()
    return [json.loads(r["payload"]) for r in rows if r["kind"] == kind]


def test_a_model_on_pure_noise_is_withheld_with_the_reason(tmp_path):
    result, db = _run(tmp_path, _customers(3000, signal=0.0))
    q = result.report["quality"]["response"]
    assert q["passes"] is False and q["withheld"] is True
    assert q["reason"].startswith("response model not better than the base rate")
    assert "ROC AUC" in q["reason"] and "withheld" in q["reason"]
    lo, hi = q["interval"]
    assert lo <= q["value"] <= hi and lo <= 0.5 <= hi
    released = [s for s in result.report["segments"] if s["status"] == "released"]
    assert not [s for s in released if s["family"] == "response"]               # no segment of its own
    micro = {s["label"] for s in result.report["segments"] if s["family"] == "micro"}
    assert micro and all(WITHHELD in label for label in micro if " × " in label)
    audit = _audit_payloads(db, "run.quality")
    assert audit and audit[0]["models"]["response"]["reason"] == q["reason"]
    assert audit[0]["withheld"] == ["response"]
    out = tmp_path / "export.csv"
    columns = api.export_run(api.open_store(str(db)), result.run_id, out).columns
    assert not [c for c in columns if c.startswith("response")]                  # no label, no score
    assert "segment_sizes" not in result.report["methods"]["response"]


def test_a_good_model_is_released(tmp_path):
    result, db = _run(tmp_path, _customers(3000, signal=1.5))
    q = result.report["quality"]["response"]
    assert q["passes"] is True and q["withheld"] is False
    assert q["reason"].startswith("response model better than the base rate")
    assert q["difference_interval"][0] > 0
    labels = {s["label"] for s in result.report["segments"] if s["family"] == "response" and s["status"] == "released"}
    assert {"Likely responders", "Unlikely responders"} <= labels
    columns = api.export_run(api.open_store(str(db)), result.run_id, tmp_path / "export.csv").columns
    assert "response.response_propensity" in columns


def test_gate_off_releases_with_a_warning_in_the_reason(tmp_path):
    result, _ = _run(tmp_path, _customers(3000, signal=0.0), extra="[quality]\ngate = false\n")
    q = result.report["quality"]["response"]
    assert q["passes"] is False and q["withheld"] is False and "quality gate off" in q["reason"]
    assert [s for s in result.report["segments"] if s["family"] == "response" and s["status"] == "released"]


def test_quality_config_is_validated():
    from microseg.errors import ConfigError
    base = '[sources.customers]\npath = "c.csv"\n'
    assert parse_config(base).quality == QualityPolicy()
    with pytest.raises(ConfigError, match="quality.confidence"):
        parse_config(base + "[quality]\nconfidence = 1.5\n")
    with pytest.raises(ConfigError, match=r"unknown key 'resample' in \[quality\]; did you mean 'resamples'"):
        parse_config(base + "[quality]\nresample = 10\n")


def _noise_uplift(seed: int, n: int) -> ModelComparison:
    rng = np.random.default_rng(seed)
    y, t = (rng.random(n) < 0.2).astype(int), (rng.random(n) < 0.5).astype(int)
    return ModelComparison(model="uplift model", kind="uplift", metric="qini_auc", baseline="random targeting",
                           y=y, score=rng.normal(size=n), treatment=t)


def test_noise_passes_the_gate_about_as_rarely_as_the_confidence_says():
    """One-sided: a 95 % interval's lower end is above 0 for pure noise in ~2.5 % of samples."""
    passed = sum(assess(_noise_uplift(s, 1000), QualityPolicy(resamples=200, seed=s))["passes"] for s in range(80))
    assert passed <= 6


def test_uplift_without_effect_is_not_better_than_random_targeting():
    rng = np.random.default_rng(0)
    n = 4000
    check = _noise_uplift(0, n)
    y, t = check.y, check.treatment
    e = assess(check, QualityPolicy(resamples=300))
    assert not e["passes"] and e["reason"].startswith("uplift model not better than random targeting: Qini")
    assert e["baseline"] == 0 and e["interval"][0] < 0 < e["interval"][1]
    u30 = e["metrics"]["uplift_at_30"]
    assert u30["baseline"] == pytest.approx(y[t == 1].mean() - y[t == 0].mean(), abs=1e-4)
    good = ModelComparison(model="uplift model", kind="uplift", metric="qini_auc", baseline="random targeting",
                           y=((rng.random(n) < 0.1 + 0.3 * t * (np.arange(n) < n / 3))).astype(int),
                           score=-np.arange(n, dtype=float), treatment=t)
    assert assess(good, QualityPolicy(resamples=300))["passes"]


def test_not_evaluable_model_is_withheld():
    check = ModelComparison(model="decline model", kind="classifier", metric="roc_auc", baseline="recency",
                            y=np.zeros(50, dtype=int), score=np.random.default_rng(0).random(50),
                            baseline_score=np.zeros(50), protocol="none: not enough history for a backtest")
    e = assess(check, QualityPolicy())
    assert not e["passes"] and "could not be evaluated" in e["reason"]


def test_intervals_cover_the_truth_about_as_often_as_stated():
    """Coverage of the 90 % interval of ROC AUC over 120 independent samples of 300 rows."""
    rng = np.random.default_rng(11)
    truth, hits = 0.7602, 0
    for i in range(120):
        y = (rng.random(300) < 0.3).astype(int)
        score = rng.normal(size=300) + y        # binormal, d' = 1: AUC = Phi(1 / sqrt 2) = 0.7602
        check = ModelComparison(model="m", kind="classifier", metric="roc_auc", baseline="constant", y=y,
                                score=score, baseline_score=np.zeros(300))
        lo, hi = assess(check, QualityPolicy(confidence=0.9, resamples=300, seed=i))["interval"]
        hits += lo <= truth <= hi
    assert 0.8 <= hits / 120 <= 0.97


@settings(max_examples=40, deadline=None)
@given(n=st.integers(20, 200), seed=st.integers(0, 10_000), ties=st.booleans())
def test_weighted_resample_equals_the_metric_of_the_resampled_rows(n, seed, ties):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    y[:2] = [0, 1]
    t = (rng.random(n) < 0.5).astype(int)
    t[2:4] = [0, 1]
    score = rng.normal(size=n) + y
    if ties:
        score = np.round(score, 0)
    w = next(resample_weights(n, 3, seed, strata=y))
    assert (w[y == 1].sum(axis=0) == y.sum()).all()                     # stratified: class sizes kept
    for row in w.T.astype(float):
        idx = np.repeat(np.arange(n), row.astype(int))
        assert roc_auc(y, score, row) == pytest.approx(roc_auc_score(y[idx], score[idx]))
        assert average_precision(y, score, row) == pytest.approx(average_precision_score(y[idx], score[idx]))
        assert top_lift(y, score, row) == pytest.approx(top_lift(y[idx], score[idx]))
    sklift = pytest.importorskip("sklift.metrics")
    groups = np.arange(n) // 3
    for row in next(resample_weights(n, 3, seed, groups=groups)).T.astype(float):
        idx = np.repeat(np.arange(n), row.astype(int))
        if len(np.unique(t[idx])) < 2 or len(np.unique(y[idx])) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert qini_auc_score(y, score, t, row) == pytest.approx(sklift.qini_auc_score(y[idx], score[idx], t[idx]))
            if len(np.unique(t[idx][np.argsort(score[idx], kind="mergesort")[::-1][: int(len(idx) * 0.3)]])) == 2:
                expected = sklift.uplift_at_k(y[idx], score[idx], t[idx], strategy="overall", k=0.3)
                assert uplift_at_k(y, score, t, 0.3, row) == pytest.approx(expected)


def test_constant_score_is_the_base_rate_predictor():
    y = np.array([0, 1, 0, 0, 1, 0, 1, 0, 0, 0])
    c = np.full(10, 0.3)
    assert roc_auc(y, c) == 0.5 and average_precision(y, c) == pytest.approx(0.3) and top_lift(y, c) == pytest.approx(1)


def test_a_run_whose_only_model_is_withheld_stores_no_segment(tmp_path):
    customers = _customers(2000, signal=0.0, seed=4)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    text = CONFIG.format(extra="")
    text = text[:text.index("[[methods]]")] + text[text.index("[[methods]]\nid = \"response\""):]
    text = text.replace('dimensions = ["tier", "response"]', "dimensions = []")
    (tmp_path / "microseg.toml").write_text(text)
    result = api.run(tmp_path / "microseg.toml", db=str(tmp_path / "ms.db"))
    assert result.report["quality"]["response"]["withheld"] and result.report["segments"] == []
    run_row, rows = api.segments_view(api.open_store(str(tmp_path / "ms.db")), result.run_id)
    assert rows == [] and run_row.id == result.run_id


@pytest.mark.realdata
def test_bank_marketing_response_model_clears_the_base_rate():
    """Real data, out of time (rows in time order, last 20 % held out): the propensity model is
    better than scoring everyone alike, with every metric's interval around its value."""
    from conftest import shared_file
    from microseg.plugins.campaign_response import CampaignResponse
    bank = pd.read_csv(shared_file("bank_marketing_full.csv.gz"), sep=";")
    m = CampaignResponse(outcome_column="y", split="ordered", segments="propensity", drop_columns=["duration"],
                         n_estimators=100).fit(bank)
    (check,) = m.quality_checks()
    e = assess(check, QualityPolicy(resamples=200))
    assert e["passes"] and e["reason"].startswith("response model better than the base rate: ROC AUC")
    assert e["rows"] == len(bank) - int(len(bank) * 0.8)
    for name, mm in e["metrics"].items():
        assert mm["interval"][0] <= mm["value"] <= mm["interval"][1], name
    assert e["metrics"]["pr_auc"]["baseline"] == pytest.approx(check.y.mean(), abs=1e-4)


def test_run_prints_and_json_carries_the_verdict(tmp_path):
    from click.testing import CliRunner
    from microseg.cli import cli
    _customers(2000, signal=0.0, seed=5).to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "microseg.toml").write_text(CONFIG.format(extra=""))
    db = str(tmp_path / "ms.db")
    text = CliRunner().invoke(cli, ["run", str(tmp_path / "microseg.toml"), "--db", db, "--no-report"])
    assert text.exit_code == 0, text.output
    assert "Model quality, response: response model not better than the base rate" in text.output
    out = CliRunner().invoke(cli, ["run", str(tmp_path / "microseg.toml"), "--db", db, "--json", "--no-report"])
    q = json.loads(out.stdout)["quality"]["response"]
    assert q["withheld"] and q["metric"] == "roc_auc" and len(q["interval"]) == 2
