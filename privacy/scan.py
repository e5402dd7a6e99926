"""Column-level PII classification for tables (``microseg scan``).

For each column: column-name recognizers give semantics (``email``, ``dob``, ``postcode`` …);
value recognizers (presidio, offline) run on a sample of *distinct* values — not rows — with the
column name as context, and a column only counts as holding an entity when at least
``min_share`` of the sampled values are wholly that entity at ``score_threshold`` or better.
Numeric and date columns are never value-matched (an ``amount`` of 3492.21 is not a phone
number). A free-text column counts as ``direct`` when personal data appears inside its values.
Findings never contain values.
"""
from __future__ import annotations

import csv
import gzip
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from microseg.errors import InputError, PluginError
from microseg.privacy.kinds import proposed_action
from microseg.privacy.names import name_evidence
from microseg.privacy.recognizers import ColumnNameRecognizer, built, normalise_name

MAY_HOLD_ENTITY = re.compile(r"@|(?:\D*\d){6}")     # every value entity has an @ or >= 6 digits


@dataclass
class ColumnFinding:
    column: str
    kind: str
    entity: str | None
    share: float
    score: float
    action: str
    evidence: str = "none"       # "name", "values", "name+values", "text", "none"
    table: str | None = None     # set by a run's privacy step: "customers", "transactions", …

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.table is None:
            del out["table"]
        return out

    @property
    def qualified(self) -> str:
        """``column`` for the customers table (and a scanned file), else ``table.column``."""
        return qualified_name(self.table, self.column)


def qualified_name(table: str | None, column: str) -> str:
    return column if table in (None, "customers") else f"{table}.{column}"


def _recognizers(registry: Any) -> tuple[list[ColumnNameRecognizer], list[object]]:
    if registry is None:
        from microseg.registry import get_registry
        registry = get_registry()
    names, values = [], []
    for plugin, rec in registry.recognizers:
        if isinstance(rec, ColumnNameRecognizer):
            names.append(rec)
        else:
            values.append(rec)        # a described presidio recognizer is built when a value is first analysed
        _attribute(rec, str(plugin))
    return names, values


def _built(rec: object, plugin: str) -> object:
    """A registered value recognizer ready to analyse (a described presidio one is built here);
    a failure to build names the plugin and the recognizer."""
    try:
        return built(rec)
    except Exception as exc:  # noqa: BLE001 - a third-party description
        _attribute(rec, plugin)
        raise recognizer_failed(rec, exc) from None


#: id of a registered recognizer → its plugin's name (to name the plugin when it fails)
_PLUGIN_OF: dict[int, str] = {}


def _attribute(rec: object, plugin: str) -> None:
    _PLUGIN_OF[id(rec)] = plugin


def recognizer_failed(rec: object, exc: Exception) -> PluginError:
    """The error for a failure inside ``rec``: its plugin and name, never the exception's
    message (it may hold the value being scanned)."""
    label = getattr(rec, "name", None) or type(rec).__name__
    plugin = _PLUGIN_OF.get(id(rec), "?")
    return PluginError(f"recognizer {label!r} of plugin {plugin!r} failed during the PII scan "
                       f"({type(exc).__name__}); fix or remove that plugin")


def _analyze(analyzer: Any, text: str, entities: list[str], context: list[str] | None = None) -> list[Any]:
    """``analyzer.analyze``; a recognizer's failure becomes a :class:`PluginError` naming it."""
    try:
        return analyzer.analyze(text=text, language="en", entities=entities, context=context)
    except Exception as exc:  # noqa: BLE001 - find which recognizer failed
        artifacts = analyzer.nlp_engine.process_text(text, "en")
        for rec in analyzer.registry.recognizers:
            try:
                rec.analyze(text=text, entities=list(getattr(rec, "supported_entities", [])), nlp_artifacts=artifacts)
            except Exception as inner:  # noqa: BLE001
                raise recognizer_failed(rec, inner) from None
        raise PluginError(f"the PII scan failed ({type(exc).__name__})") from None


@lru_cache(maxsize=4)
def _analyzer(recognizers: tuple) -> Any:
    from microseg.privacy.nlp_offline import build_analyzer
    ready = []
    for rec in recognizers:
        plugin = _PLUGIN_OF.get(id(rec), "?")
        made = _built(rec, plugin)
        _attribute(made, plugin)
        ready.append(made)
    return build_analyzer(tuple(ready))


class _AnalyzerOnUse:
    """The analyzer over ``recognizers``, built when a value is first analysed: a table none of
    whose sampled values may hold an entity (:data:`MAY_HOLD_ENTITY`) never loads presidio/spaCy
    (over a second and ~110 MB)."""

    def __init__(self, recognizers: tuple) -> None:
        self._recognizers = recognizers

    def __getattr__(self, name: str) -> Any:
        return getattr(_analyzer(self._recognizers), name)


def _distinct_first(values: pd.Series) -> pd.Series:
    """``values`` without repeats, in first-seen order, where equal values have equal text
    (integers, booleans, strings, dates; floats by bit pattern, so −0.0 stays apart from 0.0):
    only the distinct values of a large table are then converted to text. Other (object)
    columns are returned whole."""
    kind = values.dtype.kind
    if kind == "f":
        bits = values.to_numpy().view(np.int64 if values.dtype.itemsize == 8 else np.int32)
        return values[~pd.Series(bits).duplicated().to_numpy()]
    if kind in "iubMm" or isinstance(values.dtype, pd.StringDtype):
        return values.drop_duplicates()
    return values


def _sample_distinct(series: pd.Series, size: int) -> list[str]:
    """At most ``size`` distinct non-empty values of ``series`` as text (a seeded sample of them,
    in first-seen order when all fit)."""
    if series.dtype.kind in "iu":     # distinct integers have distinct texts: only the sampled ones become text
        return _sampled(pd.unique(series.dropna().to_numpy()), size).astype(str).tolist()
    text = _distinct_first(series.dropna()).astype(str).str.strip()
    text = text[text != ""]
    return [str(v) for v in _sampled(pd.unique(text.to_numpy()), size)]


def _sampled(distinct: np.ndarray, size: int) -> np.ndarray:
    """``distinct`` when it has at most ``size`` values, else a seeded sample of ``size`` of them."""
    if len(distinct) > size:
        distinct = distinct[np.random.default_rng(0).choice(len(distinct), size, replace=False)]
    return distinct


TEXT_THRESHOLD = 0.4   # presidio's phone pattern scores 0.4 without context words
#: a column is person names by its values (privacy/names.py) when at least NAME_MIN_DISTINCT
#: distinct values are sampled and
#: * NAME_SHAPE of them are shaped like names and NAME_HITS start with a known given name; or
#: * its vocabulary is open — at least OPEN_RATIO distinct values per non-missing value, or
#:   OPEN_DISTINCT distinct values (stores, brands, colours and product lines repeat; the given
#:   names of a customer base do not stop) — and either NAME_SHAPE are shaped like names and
#:   OPEN_HITS start with a known given name, or OPEN_SHAPE are shaped like names and
#:   OPEN_EVIDENCE are known names or written in a script the lexicon cannot read (at least
#:   OPEN_UNREADABLE of them)
#: chosen on bench/scan_eval.py's tuning, development and C sets (see its docstring)
NAME_SHAPE, NAME_HITS, NAME_MIN_DISTINCT = 0.8, 0.3, 20
OPEN_RATIO, OPEN_DISTINCT, OPEN_HITS = 0.5, 1000, 0.1
OPEN_SHAPE, OPEN_EVIDENCE, OPEN_UNREADABLE = 0.75, 0.3, 0.1
ALPHA_WORD = re.compile(r"[^\W\d_]{2,}")


def _value_evidence(values: list[str], column: str, analyzer: Any, entities: list[str],
                    threshold: float) -> tuple[dict[str, list[float]], list[float]]:
    """Per entity, scores of values wholly matched; and scores of any match inside a value."""
    whole: dict[str, list[float]] = {}
    inside: list[float] = []
    context = [w for w in normalise_name(column).split("_") if w]
    for v in values:
        if not MAY_HOLD_ENTITY.search(v):
            continue
        found = [r for r in _analyze(analyzer, v, entities, context) if r.score >= min(threshold, TEXT_THRESHOLD)]
        if found:
            inside.append(max(r.score for r in found))
        # a value that is *wholly* an entity counts at the lower threshold: a column of bare phone
        # numbers is a phone column even without context words; partial matches need ``threshold``
        results = found
        best: dict[str, float] = {}
        for r in results:
            if (r.end - r.start) >= 0.8 * len(v):
                best[r.entity_type] = max(best.get(r.entity_type, 0.0), r.score)
        if best:
            # one entity per value: the most confident (ties: e-mail, phone before checksum ids)
            top = max(best.items(), key=lambda kv: (kv[1], kv[0] in ("EMAIL_ADDRESS", "PHONE_NUMBER")))
            whole.setdefault(top[0], []).append(top[1])
    return whole, inside


def _best_name_match(series: pd.Series, column: str, name_recs: list[ColumnNameRecognizer],
                     values: list[str]) -> ColumnNameRecognizer | None:
    """The most specific name recognizer whose value check (if any) the column passes. The
    column's distinct count is only computed for a recognizer that uses it (``max_distinct``, or
    its own ``check_values``): on a 2-million-row table it costs more than the rest of the scan."""
    candidates = []
    sample: list[str] | None = None       # the values as text, sampled when a recognizer needs them
    n_distinct: int | None = None
    for i, rec in enumerate(name_recs):
        try:
            length = rec.match_length(column) if hasattr(rec, "match_length") else int(rec.matches(column))
            if not length:
                continue
            if hasattr(rec, "check_values"):
                if sample is None:
                    sample = values or _sample_distinct(series, 200)
                if n_distinct is None and _uses_distinct_count(rec):
                    n_distinct = int(series.nunique(dropna=True))
                if not rec.check_values(sample, -1 if n_distinct is None else n_distinct)[0]:
                    continue
        except Exception as exc:  # noqa: BLE001 - a third-party recognizer
            raise recognizer_failed(rec, exc) from None
        candidates.append((length, rec.score, i, rec))
    return max(candidates, key=lambda c: c[:3])[3] if candidates else None


def _uses_distinct_count(rec: object) -> bool:
    """Whether ``rec.check_values`` reads its ``n_distinct`` argument: the built-in check only
    when ``max_distinct`` is set; a subclass's own check is assumed to."""
    own_check = getattr(type(rec), "check_values", None) is not ColumnNameRecognizer.check_values
    return own_check or getattr(rec, "max_distinct", None) is not None


def _person_names(series: pd.Series, values: list[str]) -> bool:
    """Whether the sampled distinct ``values`` of ``series`` are person names (see NAME_SHAPE)."""
    e = name_evidence(values)
    if e.shaped >= NAME_SHAPE and e.hits >= NAME_HITS:
        return True
    known = e.shaped >= NAME_SHAPE and e.hits >= OPEN_HITS
    unread = e.shaped >= OPEN_SHAPE and e.unreadable >= OPEN_UNREADABLE and e.hits + e.unreadable >= OPEN_EVIDENCE
    if not (known or unread):
        return False
    n_distinct = int(series.nunique(dropna=True))
    return n_distinct >= OPEN_DISTINCT or n_distinct >= OPEN_RATIO * int(series.notna().sum())


def classify_column(series: pd.Series, column: str, name_recs: list[ColumnNameRecognizer], analyzer: Any,
                    entities: list[str], sample_size: int, min_share: float, score_threshold: float,
                    text_share: float) -> ColumnFinding:
    numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    temporal = pd.api.types.is_datetime64_any_dtype(series)
    values = [] if (numeric or temporal) else _sample_distinct(series, sample_size)
    by_name = _best_name_match(series, column, name_recs, values)
    whole, inside = _value_evidence(values, column, analyzer, entities, score_threshold) if values else ({}, [])
    n = max(len(values), 1)
    best_entity, best_scores = max(whole.items(), key=lambda kv: len(kv[1]), default=(None, []))
    share = len(best_scores) / n
    if by_name is not None and by_name.kind == "identifier":
        return ColumnFinding(column, "identifier", by_name.entity, round(share, 4), by_name.score,
                             proposed_action("identifier", by_name.entity, by_name.action), "name")
    if best_entity is not None and share >= min_share:
        score = float(np.mean(best_scores))
        evidence = "name+values" if by_name is not None and by_name.entity == best_entity else "values"
        if evidence == "name+values":
            score = min(1.0, max(score, by_name.score) + 0.1)
        override = by_name.action if evidence == "name+values" else None
        return ColumnFinding(column, "direct", best_entity, round(share, 4), round(score, 4),
                             proposed_action("direct", best_entity, override), evidence)
    if by_name is not None:
        return ColumnFinding(column, by_name.kind, by_name.entity, round(share, 4), by_name.score,
                             proposed_action(by_name.kind, by_name.entity, by_name.action), "name")
    if len(values) >= NAME_MIN_DISTINCT and _person_names(series, values):
        hits = name_evidence(values).hits
        return ColumnFinding(column, "direct", "PERSON", round(hits, 4), round(min(1.0, 0.5 + hits / 2), 4),
                             proposed_action("direct", "PERSON"), "values")
    # free text: several words of letters per value (not timestamps, codes or ISBNs)
    is_text = bool(values) and np.mean([len(ALPHA_WORD.findall(v)) for v in values]) >= 2.5
    if is_text and inside and len(inside) / n >= text_share:
        return ColumnFinding(column, "direct", "PII_IN_TEXT", round(len(inside) / n, 4),
                             round(float(np.mean(inside)), 4), proposed_action("direct", "PII_IN_TEXT"), "text")
    return ColumnFinding(column, "none", None, round(share, 4), 0.0, proposed_action("none"), "none")


def scan_frame(df: pd.DataFrame, *, registry: Any = None, sample_size: int = 200, min_share: float = 0.6,
               score_threshold: float = 0.5, text_share: float = 0.02) -> list[ColumnFinding]:
    """One finding per column of ``df``, in column order."""
    name_recs, value_recs = _recognizers(registry)
    analyzer = _AnalyzerOnUse(tuple(value_recs)) if value_recs else None
    entities = sorted({e for r in value_recs for e in getattr(r, "supported_entities", [])})
    out = []
    for col in df.columns:
        out.append(classify_column(df[col], str(col), name_recs, analyzer, entities, sample_size, min_share,
                                   score_threshold, text_share) if analyzer is not None else
                   classify_column(df[col], str(col), name_recs, None, [], 0, min_share, score_threshold, text_share))
    return out


def personal_values(values: list[str], *, registry: Any = None) -> set[str]:
    """The values in which a value recognizer finds personal data anywhere (an e-mail inside
    ``"referral from ann@example.com"``), at the free-text threshold."""
    _name_recs, value_recs = _recognizers(registry)
    if not value_recs:
        return set()
    analyzer = _AnalyzerOnUse(tuple(value_recs))
    entities = sorted({e for r in value_recs for e in getattr(r, "supported_entities", [])})
    found = set()
    for v in values:
        if MAY_HOLD_ENTITY.search(v) and any(
                r.score >= TEXT_THRESHOLD for r in _analyze(analyzer, v, entities)):
            found.add(v)
    return found


def sniff_separator(path: Path) -> str:
    """The likeliest field separator of a CSV file (also .gz), from its first line."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
    counts = {sep: head.count(sep) for sep in (";", "\t", "|", ",")}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def scan_file(path: str | Path, *, sep: str | None = None, header: bool = True, names: list[str] | None = None,
              max_rows: int | None = None, **kwargs: Any) -> list[ColumnFinding]:
    """Scan a CSV (also .gz) or Parquet file."""
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=str(p))
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            s = sep or sniff_separator(p)
            spaced = s.endswith(" ") and s.strip() != ""
            df = pd.read_csv(p, sep=s.strip() if spaced else s, skipinitialspace=spaced,
                             header=0 if header and not names else None, names=names, nrows=max_rows,
                             low_memory=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"cannot read the file: {type(exc).__name__}", source=str(p)) from None
    if df.empty:
        raise InputError("the table has no data rows", source=str(p))
    return scan_frame(df, **kwargs)
