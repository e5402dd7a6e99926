"""k-anonymity (and distinct l-diversity) for released attribute tables.

A greedy full-domain generalisation in the spirit of Datafly: while some equivalence class over
the quasi-identifiers is smaller than k, generalise the quasi-identifier with the most distinct
values one level further (number → 5-year band → 10 → 20 → "*"; date → month → year → "*";
text → shorter prefix … → "*"; categories with few values → "*"), until the rows in classes
smaller than k are at most ``max_suppression`` of the table — those rows are then suppressed
(all their quasi-identifiers set to "*"). l-diversity (distinct) is enforced the same way on
each sensitive column.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SUPPRESSED = "*"


@dataclass
class KAnonReport:
    k: int
    l: int | None
    levels: dict[str, int] = field(default_factory=dict)
    suppressed_rows: int = 0
    rows: int = 0
    smallest_class: int = 0

    @property
    def suppression_share(self) -> float:
        return self.suppressed_rows / self.rows if self.rows else 0.0

    def as_dict(self) -> dict:
        return {"k": self.k, "l": self.l, "levels": self.levels, "suppressed_rows": self.suppressed_rows,
                "rows": self.rows, "suppression_share": round(self.suppression_share, 4),
                "smallest_class": self.smallest_class}


def generalise_level(values: pd.Series, level: int) -> pd.Series:
    """Level 0 = raw; higher levels are coarser; the last level is "*"."""
    if level <= 0:
        return values.astype("string").fillna(SUPPRESSED) if not pd.api.types.is_numeric_dtype(values) else values
    if pd.api.types.is_datetime64_any_dtype(values):
        fmt = {1: "%Y-%m", 2: "%Y"}.get(level)
        if fmt is None:
            return pd.Series(SUPPRESSED, index=values.index)
        return values.dt.strftime(fmt).fillna(SUPPRESSED)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        width = {1: 5, 2: 10, 3: 20}.get(level)
        if width is None:
            return pd.Series(SUPPRESSED, index=values.index)
        lo = np.floor(values / width) * width
        text = lo.astype("Int64").astype("string") + "-" + (lo + width - 1).astype("Int64").astype("string")
        return text.fillna(SUPPRESSED)
    text = values.astype("string").fillna(SUPPRESSED)
    longest = int(text.str.len().max() or 0)
    keep = longest - level
    if keep <= 0 or text.nunique() <= 60:          # a categorical: straight to "*"
        return pd.Series(SUPPRESSED, index=values.index)
    return text.str.slice(0, keep)


def max_level(values: pd.Series) -> int:
    if pd.api.types.is_datetime64_any_dtype(values):
        return 3
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return 4
    text = values.astype("string").fillna("")
    return 1 if text.nunique() <= 60 else int(text.str.len().max() or 0)


def class_sizes(df: pd.DataFrame, qis: list[str]) -> pd.Series:
    """Size of each row's equivalence class over ``qis``."""
    if not qis:
        return pd.Series(len(df), index=df.index)
    keys = df[qis].astype("string").fillna(SUPPRESSED)
    return keys.groupby(qis, dropna=False)[qis[0]].transform("size")


def check_k_anonymity(df: pd.DataFrame, qis: list[str], k: int) -> int:
    """The smallest equivalence class (≥ k means the table is k-anonymous)."""
    return int(class_sizes(df, qis).min()) if len(df) else 0


def _diversity(df: pd.DataFrame, qis: list[str], sensitive: list[str]) -> pd.Series:
    """Per row: the smallest number of distinct sensitive values in its class."""
    keys = df[qis].astype("string").fillna(SUPPRESSED)
    out = None
    for col in sensitive:
        d = df[col].astype("string").groupby([keys[q] for q in qis], dropna=False).transform("nunique")
        out = d if out is None else np.minimum(out, d)
    return out


def enforce_k_anonymity(df: pd.DataFrame, quasi_identifiers: list[str], k: int, *, sensitive: list[str] | None = None,
                        l: int | None = None, max_suppression: float = 0.05) -> tuple[pd.DataFrame, KAnonReport]:
    """Generalise and suppress ``df``'s quasi-identifiers until it is k-anonymous (and l-diverse)."""
    qis = [q for q in quasi_identifiers if q in df.columns]
    sens = [s for s in (sensitive or []) if s in df.columns]
    levels = {q: 0 for q in qis}
    top = {q: max_level(df[q]) for q in qis}
    report = KAnonReport(k=k, l=l, rows=len(df))
    current = df.copy()

    def bad_rows(frame: pd.DataFrame) -> np.ndarray:
        bad = class_sizes(frame, qis).to_numpy() < k
        if l and sens:
            bad |= _diversity(frame, qis, sens).to_numpy() < l
        return bad

    while qis:
        bad = bad_rows(current)
        if bad.sum() <= max_suppression * len(current):
            break
        open_qis = [q for q in qis if levels[q] < top[q]]
        if not open_qis:
            break
        target = max(open_qis, key=lambda q: (current[q].nunique(), q))
        levels[target] += 1
        current[target] = generalise_level(df[target], levels[target])
    bad = bad_rows(current) if qis else np.zeros(len(current), bool)
    if bad.any():
        current = current.astype({q: "object" for q in qis})
        current.loc[bad, qis] = SUPPRESSED
        report.suppressed_rows = int(bad.sum())
        if l and sens:
            current.loc[bad, sens] = SUPPRESSED
    report.levels = levels
    report.smallest_class = check_k_anonymity(current.loc[~bad], qis, k) if (~bad).any() else 0
    return current, report
