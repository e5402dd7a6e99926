"""Preflight: what can be checked from the config, the files' headers and a sample of rows.

``microseg check CONFIG`` prints it; ``microseg run`` performs the same checks first
(:func:`validate`), so a typo in a rule column or an unknown parameter value costs seconds, not a
training run. Checked, in order, collecting every problem rather than stopping at the first:

* the config (keys, types), local plugin files, every method's name and parameters;
* the pseudonymisation key (one line on how to make one when it is missing);
* each source: file(s) present, encoding, the separator (sniffed and compared with the config),
  the column mappings, dates / numbers / ids of the sampled rows (the loader's own validation);
* consent and release columns; each method's :meth:`~microseg.SegmentationMethod.check_columns`
  against the columns of the customer-level frame built from the sample (with the PII scan's
  masking when ``scan`` is on);
* previewable methods (rules) run on the sample: expression type errors, multi-membership
  microsegment dimensions — and, with ``estimate``, their segment sizes and those of the
  microsegments built from them, scaled to the whole file and passed through the release gate
  (``< k`` where small).

Only headers and the first ``sample_rows`` rows of each source are read.
"""
from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from microseg.errors import InputError, MicrosegError
from microseg.progress import task
from microseg.source_sample import SourceReport, open_prefixes, read_samples
from microseg.suggest import did_you_mean

#: rows read per source by ``microseg check`` (estimates) and at the start of ``microseg run``
CHECK_SAMPLE_ROWS = 1_000_000
RUN_SAMPLE_ROWS = 20_000


@dataclass
class Problem:
    """One thing to fix before the run: where (a config key or source) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class SizeEstimate:
    key: str
    family: str
    label: str
    size: int | str          # released: through the gate ("< k" where small); withheld: "—"
    status: str              # released | merged | withheld | not-released, as the gate would decide on the sample
    released_as: str | None = None


@dataclass
class Preflight:
    """Everything ``microseg check`` found; ``ok`` when there is nothing to fix."""

    config: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    methods: list[dict[str, Any]] = field(default_factory=list)
    key: str | None = None
    sources: list[SourceReport] = field(default_factory=list)
    k: int | None = None
    customers: int | str | None = None
    scale: float = 1.0
    estimates: list[SizeEstimate] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["problems"] = [{"where": p.where, "message": p.message} for p in self.problems]
        out["warnings"] = [{"where": p.where, "message": p.message} for p in self.warnings]
        return out

    def raise_for_problems(self) -> None:
        """A :class:`PreflightError` listing every problem, when there is one."""
        if self.problems:
            raise PreflightError(self.problems)


class PreflightError(InputError):
    """The preflight found problems (exit code 2); the message lists each on its own line."""

    def __init__(self, problems: list[Problem]) -> None:
        problems = list({str(p): p for p in problems}.values())     # one line per distinct problem
        self.problems = problems
        if len(problems) == 1:
            super().__init__(str(problems[0]))
        else:
            super().__init__(f"{len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems))


class ColumnNames(Collection[str]):
    """The customer-level frame's column names, as methods' ``check_columns`` receive them.

    Names starting with an open prefix (``share_<channel>`` when only a sample was read) are
    accepted unseen and remembered in ``unconfirmed``.
    """

    def __init__(self, names: Collection[str], open_prefixes: tuple[str, ...] = (), accept_all: bool = False) -> None:
        self._names = list(names)
        self._set = set(self._names)
        self._open, self._all = open_prefixes, accept_all
        self.unconfirmed: set[str] = set()

    def __contains__(self, name: object) -> bool:
        if name in self._set:
            return True
        if self._all or (isinstance(name, str) and self._open and name.startswith(self._open)):
            self.unconfirmed.add(str(name))
            return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


# ---------------------------------------------------------------------------- entry points
def check(config: Any, *, registry: Any = None, sample_rows: int = CHECK_SAMPLE_ROWS, scan: bool = True,
          estimate: bool = True) -> Preflight:
    """Check a config (path or :class:`~microseg.config.Config`) without training anything.

    ``sample_rows`` rows are read per source; ``scan`` runs the PII scan on the sampled customers
    (so rules on columns the run would mask are caught); ``estimate`` counts the files' rows and
    estimates segment sizes.

    >>> report = microseg.check("microseg.toml")     # doctest: +SKIP
    >>> report.ok, [str(p) for p in report.problems]  # doctest: +SKIP
    """
    from microseg.config import Config, load_config
    t0 = time.perf_counter()
    report = Preflight(config="<config>" if isinstance(config, Config) else str(config))
    try:
        cfg = config if isinstance(config, Config) else load_config(config)
    except MicrosegError as exc:
        report.problems.append(Problem("", str(exc)))
        return _done(report, t0)
    if registry is None:
        from microseg.registry import get_registry
        registry = get_registry()
    report.k = cfg.privacy.min_segment_size
    methods = _methods(cfg, registry, report)
    key = _key(cfg, report)
    _check_data(cfg, registry, methods, key, report, sample_rows, scan, estimate)
    return _done(report, t0)


def _check_data(cfg: Any, registry: Any, methods: dict[str, tuple[int, Any]], key: bytes, report: Preflight,
                sample_rows: int, scan: bool, estimate: bool) -> None:
    """Sources, the methods' columns, release columns and the previews, on the sampled rows."""
    with task("reading the sources' first rows"):
        samples = read_samples(cfg, sample_rows, count=estimate)
        report.sources = samples.sources
        report.problems += [Problem(where, message) for where, message in samples.problems]
        report.warnings += [Problem(where, message) for where, message in samples.warnings]
        data = _sample_data(cfg, samples.frames, report) if samples.frames is not None else None
    if data is None:
        _check_columns(methods, ColumnNames((), accept_all=True), {}, report)   # parameter problems only
        return
    with task("features" + (" and PII scan" if scan else "") + " of the sample"):
        prepared = _method_frame(cfg, data, registry, key, scan, report, methods)
    if prepared is None:
        return
    frame, masks, actions, declared = prepared
    columns = ColumnNames(list(frame.columns), open_prefixes(cfg, report.sources))
    _check_columns(methods, columns, actions, report)
    _check_release_columns(cfg, data, report)
    if columns.unconfirmed:
        report.warnings.append(Problem("methods", "column(s) " + ", ".join(map(repr, sorted(columns.unconfirmed)))
                                       + " are not in the sample; the run checks them on all the data"))
    if report.problems:
        return
    with task("previewable methods on the sample"):
        _preview(cfg, methods, frame, data, masks, report, estimate, declared)
    partial = [s for s in report.sources if s.role != "customers" and s.rows_total and s.rows_total > s.rows_read]
    if estimate and partial and report.estimates:
        report.warnings.append(Problem(f"sources.{partial[0].role}", (
            f"behaviour features come from the first {partial[0].rows_read:,} rows only: estimates of rules on "
            f"them are rough (--sample-rows {partial[0].rows_total} reads every row)")))


def validate(cfg: Any, registry: Any) -> None:
    """The checks ``microseg run`` performs before reading everything: raises
    :class:`PreflightError` listing every problem (no PII scan, no size estimates)."""
    with task("check (config, key, files' first rows, rules)"):
        report = check(cfg, registry=registry, sample_rows=RUN_SAMPLE_ROWS, scan=False, estimate=False)
    report.raise_for_problems()


def require_method_columns(methods: dict[str, Any], columns: Collection[str], actions: dict[str, str]) -> None:
    """Every method's columns are in the frame it will receive (after masking), or a
    :class:`PreflightError` naming them — before any training."""
    report = Preflight(config="")
    numbered = {instance_id: (i, method) for i, (instance_id, method) in enumerate(methods.items())}
    _check_columns(numbered, ColumnNames(list(columns)), actions, report)
    report.raise_for_problems()


def _done(report: Preflight, t0: float) -> Preflight:
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


# ---------------------------------------------------------------------------- config, plugins, key
def _methods(cfg: Any, registry: Any, report: Preflight) -> dict[str, tuple[int, Any]]:
    from microseg.pipeline import instantiate_method
    for path in cfg.plugins:
        try:
            registry.load_file(cfg.resolve(path))
        except MicrosegError as exc:
            report.problems.append(Problem("plugins", str(exc)))
    report.plugins = [name for name, _ in registry.pm.list_name_plugin()]   # not .plugins(): no presidio import
    if not cfg.methods:
        report.problems.append(Problem("methods", "no methods configured: add at least one [[methods]] entry"))
    out = {}
    for i, m in enumerate(cfg.methods):
        entry = {"id": m.instance_id, "method": m.method, "ok": True}
        try:
            out[m.instance_id] = (i, instantiate_method(i, m, registry))
            entry["previewable"] = bool(getattr(out[m.instance_id][1], "previewable", False))
        except MicrosegError as exc:
            report.problems.append(Problem("", str(exc)))
            entry["ok"] = False
        report.methods.append(entry)
    return out


def _key(cfg: Any, report: Preflight) -> bytes:
    from microseg.privacy.pseudonym import load_key
    try:
        key = load_key(cfg.privacy, cfg.base_dir)
    except MicrosegError as exc:
        report.problems.append(Problem("", str(exc)))
        return b"preflight-sample-key-never-stored"
    report.key = f"${cfg.privacy.key_env}" if _env_key(cfg) else str(cfg.privacy.key_file)
    return key


def _env_key(cfg: Any) -> bool:
    import os
    return bool(os.environ.get(cfg.privacy.key_env))


def _sample_data(cfg: Any, frames: dict[str, Any], report: Preflight) -> Any:
    """The sampled rows through the loader's own validation, as a CustomerData (None on problems)."""
    from microseg.loading import load_data
    try:
        data, _ = load_data(cfg, frames)
    except MicrosegError as exc:
        role = next((s.role for s in report.sources if s.location and str(exc).startswith(s.location)), "")
        report.problems.append(Problem(f"sources.{role}" if role else "", str(exc)))
        return None
    return data


# ---------------------------------------------------------------------------- the methods' frame
def _method_frame(cfg: Any, data: Any, registry: Any, key: bytes, scan: bool, report: Preflight,
                  methods: dict[str, tuple[int, Any]]) -> Any:
    """The frame methods would see (consent applied; masked as the scan would mask it), and the
    levels the methods' own conditions name (``microseg.privacy.declared``)."""
    from microseg.pipeline import apply_consent
    from microseg.privacy.declared import Declared, level_tests
    from microseg.privacy.masking import column_actions, frame_for_methods
    declared = Declared()
    try:
        if scan:                                 # the run's own privacy step (every table)
            from microseg.privacy.protect import protect
            tests = tuple(t for _, m in methods.values() for t in level_tests(m))
            protected = protect(data, cfg.privacy, key, registry, tests=tests)
            data, actions, declared = protected.data, protected.actions, protected.declared
        else:
            actions = column_actions([], cfg.privacy)
        data, masks = apply_consent(data, cfg.privacy)
        frame = frame_for_methods(data.features(), actions)
    except MicrosegError as exc:
        report.problems.append(Problem("", str(exc)))
        return None
    return frame, masks, actions, declared


def _check_columns(methods: dict[str, tuple[int, Any]], columns: ColumnNames, actions: dict[str, str],
                   report: Preflight) -> None:
    removed = {c: a for c, a in actions.items() if a in ("drop", "redact", "hash")}
    for instance_id, (i, method) in methods.items():
        try:
            found = list(method.check_columns(columns))
        except (MicrosegError, ValueError, TypeError) as exc:
            found = [str(exc)]
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is named, not a traceback
            found = [f"{type(method).__name__}.check_columns failed with {type(exc).__name__}: fix or remove the "
                     "plugin"]
        for message in found:
            hints = [f"column {c!r} holds personal data and is removed before methods see it (action {a}; "
                     f"privacy.columns can set another)" for c, a in removed.items() if repr(c) in message]
            report.problems.append(Problem(f"methods[{i}] ({instance_id})", "; ".join([message, *hints])))


def _check_release_columns(cfg: Any, data: Any, report: Preflight) -> None:
    known = set(data.customers.columns) if data.customers is not None else set()
    for col in cfg.release.attributes:
        if col not in known:
            report.problems.append(Problem("release.attributes", f"{col!r} is not a customer attribute"
                                           + did_you_mean(col, sorted(known))))
    for col in list(cfg.privacy.columns):
        if col not in known:
            report.warnings.append(Problem("privacy", f"{col!r} is not a column of the customers table"))


# ---------------------------------------------------------------------------- previews and estimates
def _preview(cfg: Any, methods: dict[str, tuple[int, Any]], frame: Any, data: Any, masks: Any,
             report: Preflight, estimate: bool, declared: Any) -> None:
    """Run previewable methods on the sample; with ``estimate``, their sizes through the gate."""
    from microseg.compose import method_segments, microsegments
    from microseg.method import run_method
    from microseg.privacy.declared import level_tests
    assignments = {}
    for instance_id, (i, method) in methods.items():
        if not getattr(method, "previewable", False):
            continue
        try:
            assignments[instance_id] = run_method(method, declared.view(frame, level_tests(method)), data)
        except (MicrosegError, ValueError, TypeError) as exc:
            report.problems.append(Problem(f"methods[{i}] ({instance_id})", str(exc)))
    dims = cfg.microsegments.dimensions
    for d in dims:
        if d in assignments and assignments[d].multi_membership:
            report.problems.append(Problem("microsegments.dimensions", f"method {d!r} assigns several segments "
                                           "per customer (multi mode); it cannot be a microsegment dimension"))
    if report.problems or not assignments or not estimate:
        return
    ids = frame.index
    specs = []
    for instance_id, a in assignments.items():
        specs += method_segments(instance_id, methods[instance_id][1].name, a, ids)
    prefix: list[str] = []
    for d in dims:
        if d not in assignments:
            break
        prefix.append(d)
    specs += microsegments(prefix, assignments, ids, cfg.microsegments.separator)
    _estimate(cfg, specs, ids, masks, report)


def _estimate(cfg: Any, specs: list[Any], ids: Any, masks: Any, report: Preflight) -> None:
    """Sizes scaled from the sample to the whole population, decided by the gate with k scaled alike
    (within the run: earlier releases are not read); withheld segments get no size."""
    import dataclasses

    import numpy as np

    from microseg.privacy.counts import display_size
    from microseg.privacy.release import gate_release, release_spec
    k = cfg.privacy.min_segment_size
    population = next((s for s in report.sources if s.role == ("customers" if cfg.sources.customers
                                                                else "transactions")), None)
    scale = 1.0
    if population is not None and population.customers_total:
        scale = max(1.0, population.customers_total / max(len(ids), 1))
    elif population is not None and population.rows_total and population.rows_read:
        scale = max(1.0, population.rows_total / population.rows_read)
    report.scale = round(scale, 4)
    report.customers = display_size(int(round(len(ids) * scale)), k)
    spec = dataclasses.replace(release_spec(cfg, None, None, set()), k=max(2, int(round(k / scale))))
    gated = gate_release(spec, specs, ids, np.flatnonzero(masks.marketing), None, None, None)
    for row in gated.segment_rows[:len(specs)]:
        released = row["status"] == "released"
        size = display_size(int(round(row["released_size"] * scale)), k) if released else "—"
        report.estimates.append(SizeEstimate(row["key"], row["family"], row["label"], size, row["status"],
                                             row.get("released_as")))
