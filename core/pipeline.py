"""The governed run: load → scan → consent → features → methods → microsegments → gate → store.

Nothing is written until every step has succeeded; the store write is one transaction.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from microseg.compose import SegmentSpec, method_segments, microsegments
from microseg.config import Config
from microseg.engine import Engine
from microseg.errors import ConfigError, MicrosegError
from microseg.killpoints import checkpoint
from microseg.loading import error_text, fingerprint_inputs, load_data
from microseg.method import Assignment, ParamError, SegmentationMethod, new_method, run_method
from microseg.privacy.consent import consent_masks
from microseg.privacy.history import release_namespace
from microseg.privacy.keyring import load_keyring
from microseg.privacy.masking import apply_release_actions, frame_for_methods
from microseg.privacy.pseudonym import pseudonymise
from microseg.privacy.public_report import public_report, sanitise
from microseg.privacy.release import gate_release, release_spec
from microseg.privacy.subkeys import key_id
from microseg.progress import task as progress_task
from microseg.quality import assess_methods, withhold
from microseg.registry import Registry
from microseg.store import Store
from microseg.suggest import did_you_mean

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """A stored run: its id, the gate-checked report, and (as DataFrames) what was released."""

    run_id: int
    store_url: str
    report: dict[str, Any] = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)
    report_path: Path | None = None        # the rendered report, when api.run wrote one
    report_error: str | None = None        # why it could not be written (the run is stored all the same)
    store: Any = field(default=None, repr=False)

    @property
    def segments(self) -> pd.DataFrame:
        """The released segments: key, family, label, description, size."""
        from microseg.results import segments_frame
        return segments_frame(self.report)

    def memberships(self) -> pd.DataFrame:
        """Released memberships, one row per customer × segment, read back from the store."""
        from microseg.results import memberships_frame
        return memberships_frame(self.store, self.run_id)


class _Timer:
    def __init__(self, progress: Progress | None) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.progress:
            self.progress(name)
        checkpoint(f"step:{name}")
        t0 = time.perf_counter()
        with progress_task(name):
            yield
        self.timings[name] = round(time.perf_counter() - t0, 3)
        checkpoint(f"done:{name}")


def instantiate_methods(cfg: Config, registry: Registry) -> dict[str, SegmentationMethod]:
    """Build every configured method instance; bad names or params name the config key."""
    return {m.instance_id: instantiate_method(i, m, registry) for i, m in enumerate(cfg.methods)}


def instantiate_method(i: int, m: Any, registry: Registry) -> SegmentationMethod:
    """The method instance of ``methods[i]``; a :class:`ConfigError` naming the key when it cannot be built."""
    try:
        cls = registry.method(m.method)
    except MicrosegError as exc:
        hint = did_you_mean(m.method, registry.methods) if m.method not in registry.methods else ""
        raise ConfigError(f"{exc}{hint}", key=f"methods[{i}].method") from None
    try:
        return new_method(cls, m.params)
    except ParamError as exc:
        key = f"methods[{i}].params" + (f".{exc.param}" if exc.param else "")
        raise ConfigError(str(exc), key=key) from None
    except MicrosegError as exc:
        raise ConfigError(str(exc), key=f"methods[{i}].params") from None
    except Exception as exc:  # noqa: BLE001 - a plugin's __init__ failing is named, not a traceback
        raise ConfigError(f"method {m.method!r} could not be created from these parameters "
                          f"({type(exc).__name__}: {error_text(exc)})", key=f"methods[{i}].params") from None


def require_history(data: Engine) -> None:
    """A ConfigError naming ``as_of`` when no transaction comes before it (nothing to segment on)."""
    if not data.has_transactions:
        return
    first, _ = data.tx_date_range()
    if pd.notna(first) and data.as_of <= first:
        raise ConfigError(f"{data.as_of.date()} is on or before the first transaction ({pd.Timestamp(first).date()}): "
                          "no purchase history comes before it; set as_of after that date, or remove the line "
                          "(default: the day after the last transaction)", key="as_of")


def apply_consent(data: Any, policy: Any) -> tuple[Any, Any]:
    """The data without customers who refused profiling, and the consent masks of those left."""
    masks = consent_masks(data.customers, len(data.ids), policy)
    if not masks.profiling.all():
        data = data.restrict(data.ids[masks.profiling])
        masks.marketing = masks.marketing[masks.profiling]
    if len(data.ids) == 0:
        raise ConfigError("no customer left after applying profiling consent", key="privacy.consent")
    return data, masks


def plugin_versions(registry: Registry) -> dict[str, str | None]:
    return {p.name: p.version for p in registry.plugins()}


Loader = Callable[[Config], tuple[Any, dict]]


def run_config(cfg: Config, store: Store, registry: Registry, *, progress: Progress | None = None,
               load: Loader = load_data) -> RunResult:
    """Run the governed pipeline for ``cfg`` and store the result atomically.

    ``load`` reads the sources into a :class:`~microseg.engine.Engine` (default: the pandas
    engine; the Dask engine passes its own); every governed step after it is the same for all
    engines, and none of them knows which engine it is.
    """
    from microseg.preflight import require_method_columns
    from microseg.privacy.declared import level_tests
    from microseg.privacy.protect import protect_run

    timer = _Timer(progress)
    policy = cfg.privacy
    if not cfg.methods:
        raise ConfigError("no methods configured: add at least one [[methods]] entry", key="methods")
    with timer.step("plugins"):
        for path in cfg.plugins:
            registry.load_file(cfg.resolve(path))
        methods = instantiate_methods(cfg, registry)
    keyring = load_keyring(policy, cfg.base_dir)
    key = keyring.current
    with timer.step("load"):
        data, load_stats = load(cfg)
        require_history(data)
    with timer.step("protect"):
        tests = {instance_id: level_tests(m) for instance_id, m in methods.items()}
        protected, erasure_record = protect_run(data, cfg, store, registry, keyring,
                                                tuple(t for ts in tests.values() for t in ts))
        data, findings, actions = protected.data, protected.findings, protected.actions
    with timer.step("consent"):
        data, masks = apply_consent(data, policy)
        protected.data = data          # the tables before consent are freed: the run holds one copy
    ids = data.ids
    with timer.step("features"):
        frame = frame_for_methods(data.features(), actions)
        require_method_columns(methods, frame.columns, actions)
    assignments: dict[str, Assignment] = {}
    for i, (instance_id, method) in enumerate(methods.items()):
        with timer.step(f"method:{instance_id}"):
            assignments[instance_id] = run_method(method, protected.declared.view(frame, tests[instance_id]), data,
                                                  key=f"methods[{i}]",
                                                  who=registry.describe_instance(instance_id, method.name))
    with timer.step("quality"):
        quality = assess_methods(methods, cfg.quality)
        assignments = withhold(assignments, quality)
    with timer.step("compose"):
        specs: list[SegmentSpec] = []
        for instance_id, a in assignments.items():
            if instance_id not in quality.withheld:
                specs += method_segments(instance_id, methods[instance_id].name, a, ids)
        specs += microsegments(cfg.microsegments.dimensions, assignments, ids, cfg.microsegments.separator)
    with timer.step("gate"):
        customer_keys = _customer_keys(ids, cfg.release.customer_ids, key)
        namespace = release_namespace(cfg.release.customer_ids, key)
        scores, attributes, generalised = _released_values(cfg, data, assignments, actions, protected.applied, key)
        release = gate_release(release_spec(cfg, scores, attributes, generalised, withheld=quality.withheld), specs,
                               ids, np.flatnonzero(masks.marketing), customer_keys, namespace, store)
    with timer.step("prepare"):
        report = public_report(cfg, ids, release, assignments, findings, actions, masks, load_stats)
        report["privacy"] |= protected.summary()
        report["quality"] = sanitise(quality.report(), policy.min_segment_size)
        run_row = {
            "as_of": str(data.as_of.date()), "engine": data.engine, "config_hash": cfg.digest(),
            "policy_hash": policy.digest(), "input_fingerprint": json.dumps(fingerprint_inputs(cfg)),
            "plugin_versions": json.dumps(plugin_versions(registry)), "n_customers": int(len(ids)),
            "k": policy.min_segment_size, "customer_ids": cfg.release.customer_ids, "key_id": key_id(key),
            "namespace": namespace, "scope": json.dumps(release.scope), "report": json.dumps(report, default=str),
        }
        audit = _audit_events(cfg, run_row, findings, actions, masks, release)
        for kind, payload in audit:
            if kind == "run.pii":
                payload.update(protected.summary())
        audit.append(("run.erasure", erasure_record))
        audit.append(("run.quality", sanitise(quality.audit(), policy.min_segment_size)))
    with timer.step("store"):
        run_row["timings"] = json.dumps(timer.timings)
        run_id = store.write_run(run_row, release.segment_rows, release.members, customer_keys, release.cells,
                                 audit, key)
    report["run_id"] = run_id
    return RunResult(run_id=run_id, store_url=store.display_url, report=report, timings=timer.timings, store=store)


def _customer_keys(ids: pd.Index, mode: str, key: bytes) -> np.ndarray | None:
    if mode == "none":
        return None
    if mode == "original":
        return ids.astype(str).to_numpy()
    return pseudonymise(ids.to_numpy(), key)


def _released_values(cfg: Config, data: Engine, assignments: dict[str, Assignment], actions: dict[str, str],
                     applied: dict[str, str], key: bytes) -> tuple[pd.DataFrame | None, pd.DataFrame | None, set[str]]:
    """Per-customer values the release policy allows out, before the gate: scores, attributes
    (masked per their column action), and the attributes whose action is ``generalise``."""
    parts, attrs, generalised = [], None, set()
    if cfg.release.include_scores:
        for instance_id, a in assignments.items():
            if a.scores is not None and not a.scores.empty:
                s = a.scores.reindex(data.ids)
                s.columns = [f"{instance_id}.{c}" for c in s.columns]
                parts.append(s)
    if cfg.release.attributes:
        gone = [c for c in cfg.release.attributes if applied.get(c) == "drop"]
        if gone:
            raise ConfigError(f"{gone[0]!r} was removed by the privacy step (action {applied[gone[0]]}); give it "
                              "another action in [privacy] columns to release it", key="release.attributes")
        restricted = [c for c in cfg.release.attributes if actions.get(c) == "restrict"]
        if restricted:
            raise ConfigError(f"{restricted[0]!r} has the action 'restrict': it is never released",
                              key="release.attributes")
        try:
            attrs = data.customer_attributes(cfg.release.attributes)
        except ConfigError as exc:
            raise ConfigError(str(exc), key="release.attributes") from None
        generalised = {c for c in cfg.release.attributes if actions.get(c) == "generalise"}
        attrs = apply_release_actions(attrs, {c: a for c, a in actions.items()
                                              if c not in generalised and c not in applied}, key)
    return (pd.concat(parts, axis=1) if parts else None), attrs, generalised


def _audit_events(cfg: Config, run_row: dict[str, Any], findings: list[Any], actions: dict[str, str],
                  masks: Any, release: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("run.inputs", {"config_hash": run_row["config_hash"], "policy_hash": run_row["policy_hash"],
                        "input_fingerprint": json.loads(run_row["input_fingerprint"]),
                        "plugin_versions": json.loads(run_row["plugin_versions"])}),
        ("run.pii", {"findings": [f.as_dict() for f in findings], "actions": actions}),
        ("run.consent", masks.summary() | {"purposes": dict(cfg.privacy.consent)}),
        ("run.gate", release.audit_summary()),
    ]
