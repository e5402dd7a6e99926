"""The model quality gate: a model that does not beat its naive baseline releases no segments.

A method may offer ``quality_checks() -> list`` of comparisons (see
:class:`microseg.plugins.comparison.ModelComparison` for the built-in one): the out-of-time rows
of a model beside a naive baseline's scores on the same rows. For each, this module draws
``resamples`` paired bootstrap resamples and reports every metric with its percentile interval
at ``confidence``, the baseline's, and the interval of their difference. The model passes when
the lower end of the difference's interval is above 0 (for random targeting, whose Qini is 0,
that is the Qini's own interval).

With ``gate = true`` (the default), a method whose segment model fails is *withheld*: every
customer gets the label :data:`WITHHELD` (so microsegments that use the method as a dimension
still partition the customers), the method's own segments are not candidates for release, its
model scores are dropped from exports, and its segment sizes and drivers are removed from the
report. The reason, in words, goes to the run report (``report["quality"][instance_id]``) and
to the audit trail (``run.quality``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from microseg.method import Assignment
from microseg.threads import limited_threads

WITHHELD = "Not released (model quality)"
METRIC_WORDS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "top_decile_lift": "top-decile lift",
                "qini_auc": "Qini", "uplift_at_30": "uplift@30%"}
#: report keys of a withheld method that describe its segments (removed)
SEGMENT_REPORT_KEYS = ("segment_sizes", "top_drivers")


class QualityPolicy(BaseModel):
    """``[quality]`` in microseg.toml."""

    model_config = ConfigDict(extra="forbid")

    gate: bool = True
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    resamples: int = Field(default=500, ge=100, le=20_000)
    seed: int = 0


class Comparison(Protocol):
    """What :func:`assess` needs from a method's quality check."""

    model: str
    metric: str
    baseline: str
    segments: bool
    score_columns: tuple[str, ...]
    protocol: str

    @property
    def rows(self) -> int: ...

    def evaluable(self) -> bool: ...

    def values(self) -> dict[str, tuple[float, float]]: ...

    def replicates(self, n_resamples: int, seed: int | None) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...


def _interval(values: np.ndarray, confidence: float) -> list[float]:
    alpha = (1 - confidence) / 2
    finite = values[np.isfinite(values)]
    if not len(finite):
        return [float("nan"), float("nan")]
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return [round(float(lo), 4), round(float(hi), 4)]


def _fmt(v: float) -> str:
    return f"{v:.3f}".replace("-", "−")


def _span(iv: list[float]) -> str:
    return f"[{_fmt(iv[0])}, {_fmt(iv[1])}]"


def assess(check: Comparison, policy: QualityPolicy) -> dict[str, Any]:
    """The report entry of one check: every metric with its interval and the baseline's, and
    whether the primary metric's paired difference clears 0."""
    entry: dict[str, Any] = {"model": check.model, "metric": check.metric, "baseline_name": check.baseline,
                             "segments": check.segments, "confidence": policy.confidence,
                             "resamples": policy.resamples, "rows": check.rows, "protocol": check.protocol}
    if not check.evaluable():
        return entry | {"passes": False, "value": None, "interval": None, "baseline": None,
                        "baseline_interval": None, "difference": None, "difference_interval": None, "metrics": {},
                        "reason": f"{check.model} could not be evaluated out of time (no held-out rows with both "
                                  f"outcomes{'' if not check.protocol else '; ' + check.protocol}): "
                                  "not shown to be better than " + check.baseline}
    values = check.values()
    with limited_threads(1):                  # BLAS threads only spin on small products on shared cores
        reps = check.replicates(policy.resamples, policy.seed)
    metrics = {}
    for name, (model, base) in values.items():
        m_rep, b_rep = reps[name]
        metrics[name] = {"value": round(model, 4), "interval": _interval(m_rep, policy.confidence),
                         "baseline": round(base, 4), "baseline_interval": _interval(b_rep, policy.confidence),
                         "difference": round(model - base, 4),
                         "difference_interval": _interval(m_rep - b_rep, policy.confidence)}
    main = metrics[check.metric]
    passes = bool(main["difference_interval"][0] > 0)
    entry |= {"passes": passes, "value": main["value"], "interval": main["interval"], "baseline": main["baseline"],
              "baseline_interval": main["baseline_interval"], "difference": main["difference"],
              "difference_interval": main["difference_interval"], "metrics": metrics}
    entry["reason"] = _reason(entry)
    return entry


def _reason(e: dict[str, Any]) -> str:
    words = METRIC_WORDS.get(e["metric"], e["metric"])
    verdict = "better than" if e["passes"] else "not better than"
    constant = e["baseline_interval"][0] == e["baseline_interval"][1]
    if constant:       # random targeting / base rate: the baseline is a fixed number
        return (f"{e['model']} {verdict} {e['baseline_name']}: {words} {_fmt(e['value'])} {_span(e['interval'])} "
                f"vs {_fmt(e['baseline'])}")
    return (f"{e['model']} {verdict} {e['baseline_name']}: {words} {_fmt(e['value'])} {_span(e['interval'])} vs "
            f"{_fmt(e['baseline'])} {_span(e['baseline_interval'])}, difference {_fmt(e['difference'])} "
            f"{_span(e['difference_interval'])}")


@dataclass
class QualityOutcome:
    """Per method instance: its checks' entries, and which instances are withheld."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    withheld: set[str] = field(default_factory=set)

    def report(self) -> dict[str, dict[str, Any]]:
        return self.entries

    def audit(self) -> dict[str, Any]:
        return {"models": {i: {k: e[k] for k in ("passes", "withheld", "reason", "metric", "value", "interval",
                                                 "baseline_name", "baseline", "baseline_interval",
                                                 "difference_interval", "confidence", "resamples")}
                           for i, e in self.entries.items()},
                "withheld": sorted(self.withheld)}


def assess_methods(methods: dict[str, Any], policy: QualityPolicy) -> QualityOutcome:
    """Assess every method instance that offers ``quality_checks()``."""
    out = QualityOutcome()
    for instance_id, method in methods.items():
        checks = getattr(method, "quality_checks", None)
        checks = list(checks()) if callable(checks) else []
        if not checks:
            continue
        entries = [assess(c, policy) for c in checks]
        main = next((e for e in entries if e["segments"]), entries[0])
        withheld = policy.gate and main["segments"] and not main["passes"]
        drop = [col for c, e in zip(checks, entries) if policy.gate and not e["passes"] for col in c.score_columns]
        entry = main | {"withheld": bool(withheld), "gate": policy.gate, "scores_withheld": drop}
        if not policy.gate and not main["passes"]:
            entry["reason"] += " (quality gate off: released anyway)"
        elif withheld:
            entry["reason"] += ": segments withheld"
        others = [e for e in entries if e is not main]
        if others:
            entry["other_checks"] = others
        out.entries[instance_id] = entry
        if withheld:
            out.withheld.add(instance_id)
    return out


def withhold(assignments: dict[str, Assignment], outcome: QualityOutcome) -> dict[str, Assignment]:
    """Assignments with the failing models' labels, scores and segment figures taken out."""
    out = dict(assignments)
    for instance_id, entry in outcome.entries.items():
        a = out[instance_id]
        scores = a.scores
        if scores is not None and entry["scores_withheld"]:
            scores = scores.drop(columns=[c for c in entry["scores_withheld"] if c in scores.columns])
            scores = scores if len(scores.columns) else None
        if instance_id not in outcome.withheld:
            out[instance_id] = replace(a, scores=scores)
            continue
        ids = a.labels.index.unique()
        report = {k: v for k, v in a.report.items() if k not in SEGMENT_REPORT_KEYS}
        out[instance_id] = Assignment(labels=pd.Series(WITHHELD, index=ids), scores=scores,
                                      descriptions={WITHHELD: entry["reason"]}, report=report)
    return out
