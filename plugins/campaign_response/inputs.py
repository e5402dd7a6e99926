"""campaign-response inputs: the outcome and treatment flags, the model features, the held-out split."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from microseg.errors import ConfigError

#: customer-level event counts: what the models predict from them would be the outcome itself
EVENT_FEATURES = ("contacts", "responses", "response_rate")


def truthy(values: pd.Series) -> np.ndarray:
    """Booleans from 0/1, True/False or yes/no text."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).to_numpy() != 0
    return values.astype(str).str.strip().str.lower().isin({"1", "true", "yes", "y", "t"}).to_numpy()


def members(values: pd.Series, among: Iterable) -> np.ndarray:
    """``values.isin(among)`` as booleans; text values (Arrow strings) against text are looked up
    by Arrow's hash set (pandas makes a Python scalar of every one of ``among``: ~10x slower on the
    demo's 233,000 contacts)."""
    among = among if isinstance(among, (pd.Index, pd.Series, np.ndarray)) else list(among)
    if isinstance(values.dtype, pd.StringDtype) and pd.api.types.infer_dtype(among, skipna=False) == "string":
        import pyarrow as pa
        import pyarrow.compute as pc
        text = pa.array(values.array)
        found = pc.is_in(text, value_set=pa.array(np.asarray(among, dtype=object), type=text.type))
        return found.to_numpy(zero_copy_only=False)
    return values.isin(among).to_numpy()


def outcome(customers: pd.DataFrame, column: str | None) -> np.ndarray | None:
    """1 responded, 0 not (customer-level outcome column), or None without one."""
    if not column:
        return None
    if column not in customers.columns:
        raise ConfigError(f"campaign-response: outcome_column {column!r} is not a column")
    return truthy(customers[column]).astype(int)


def treatment(customers: pd.DataFrame, column: str | None, treated_value: str | None,
              control_value: str | None) -> np.ndarray | None:
    """1 treated, 0 control, -1 neither (customer-level flag), or None without one."""
    if not column:
        return None
    if column not in customers.columns:
        raise ConfigError(f"campaign-response: treatment_column {column!r} is not a column")
    v = customers[column].astype(str).str.strip()
    if treated_value is None and control_value is None:
        return truthy(customers[column]).astype(int)
    treated = (v == str(treated_value)) if treated_value is not None else (v != str(control_value))
    control = (v == str(control_value)) if control_value is not None else ~treated
    return np.where(treated, 1, np.where(control, 0, -1))


def model_features(customers: pd.DataFrame, skip: Iterable[str | None]) -> pd.DataFrame:
    """The columns a response model may use: not ``skip`` (outcome, treatment, dropped columns),
    not the campaign-event counts, not dates."""
    skipped = set(skip) | set(EVENT_FEATURES)
    skipped |= {c for c in customers.columns if str(c).startswith(("contacts_", "responses_"))}
    cols = [c for c in customers.columns if c not in skipped and c is not None
            and not pd.api.types.is_datetime64_any_dtype(customers[c])]
    return customers[cols]


@dataclass(frozen=True)
class Split:
    """Training / held-out rows: ``stratified`` (seeded, by the strata given) or ``ordered``
    (the first rows train)."""

    kind: str
    test_size: float | None
    random_state: int | None

    def __call__(self, n: int, strata: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "ordered":
            cut = int(n * (1 - (self.test_size or 0.2)))
            return np.arange(cut), np.arange(cut, n)
        if self.kind != "stratified":
            raise ConfigError("campaign-response: split must be 'stratified' or 'ordered'")
        from sklearn.model_selection import train_test_split
        return train_test_split(np.arange(n), test_size=self.test_size or 0.3, random_state=self.random_state,
                                stratify=strata)
