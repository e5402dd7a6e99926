"""Masking: drop, redact, keyed pseudonym, generalise, and hashed identifiers for ad platforms.

Actions come from the policy (``[privacy] columns``) or, for unlisted columns, from the scan's
proposal (the vocabulary of :mod:`microseg.privacy.kinds`).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from microseg.errors import ConfigError
from microseg.privacy.kinds import HIDDEN_FROM_METHODS
from microseg.privacy.policy import PrivacyPolicy
from microseg.privacy.pseudonym import pseudonymise

REDACTED = "[REDACTED]"


def column_actions(findings: list[Any], policy: PrivacyPolicy) -> dict[str, str]:
    """Column (``table.column`` outside the customers table) → action: the policy's explicit
    choice (``"table.col"`` before ``"col"``), else the scan's proposal."""
    for col, action in policy.columns.items():
        if action == "hash" and not policy.allow_hashed_audiences:
            raise ConfigError("'hash' needs privacy.allow_hashed_audiences = true",
                              key=f"privacy.columns.{col}")
    actions = {}
    for f in findings:
        name = f.qualified if hasattr(f, "qualified") else f.column
        actions[name] = policy.columns.get(name, policy.columns.get(f.column, f.action))
    for col, action in policy.columns.items():
        actions.setdefault(col, action)
    return actions


def mask_table(frame: pd.DataFrame, actions: Mapping[str, str], key: bytes) -> pd.DataFrame:
    """Apply the masking actions that remove raw values (drop, redact, pseudonymise, hash) to a
    table's columns (``actions`` by bare column name); other actions leave the column as it is."""
    out = frame
    drop = [c for c, a in actions.items() if a == "drop" and c in frame.columns]
    if drop:
        out = out.drop(columns=drop)
    for col, action in actions.items():
        if col not in out.columns or action not in ("redact", "pseudonymise", "hash"):
            continue
        out = out.copy() if out is frame else out
        if action == "redact":
            out[col] = pd.Series(REDACTED, index=out.index, dtype=object).where(out[col].notna(), None)
        elif action == "pseudonymise":
            out[col] = pseudonymise(out[col].to_numpy(), key)
        else:
            out[col] = hashed_identifiers(out[col], "email" if "mail" in col.lower() else "phone")
    return out


def frame_for_methods(frame: pd.DataFrame, actions: Mapping[str, str]) -> pd.DataFrame:
    """What methods may see: the (already masked) frame without the columns methods never see
    (redacted text, hashed audience keys)."""
    hidden = [c for c, a in actions.items() if a in HIDDEN_FROM_METHODS and c in frame.columns]
    return frame.drop(columns=hidden) if hidden else frame


def generalise(values: pd.Series, level: int = 1) -> pd.Series:
    """One generalisation step per level: number → band, date → month/year, text → prefix."""
    if level <= 0:
        return values
    if pd.api.types.is_datetime64_any_dtype(values):
        fmt = "%Y-%m" if level == 1 else "%Y"
        return values.dt.strftime(fmt).where(values.notna(), None)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        width = {1: 10, 2: 20}.get(level, 0)
        if not width:
            return pd.Series("*", index=values.index)
        lo = (np.floor(values / width) * width)
        return (lo.astype("Int64").astype(str) + "-" + (lo + width - 1).astype("Int64").astype(str)).where(
            values.notna(), None)
    text = values.astype(str)
    keep = max(0, 4 - level)
    if keep == 0:
        return pd.Series("*", index=values.index)
    return text.str.split().str[0].str[:keep].where(values.notna(), None)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str, default_country: str = "") -> str:
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+"):
        return "+" + digits
    if value.strip().startswith("00"):
        return "+" + digits[2:]
    return f"+{default_country}{digits.lstrip('0')}" if default_country else digits


def hashed_identifiers(values: pd.Series, kind: str) -> pd.Series:
    """SHA-256 of normalised e-mails / phones, the format ad platforms' audience uploads take."""
    norm = normalise_email if kind == "email" else normalise_phone
    return values.astype(str).map(lambda v: hashlib.sha256(norm(v).encode()).hexdigest())


def apply_release_actions(frame: pd.DataFrame, actions: Mapping[str, str], key: bytes) -> pd.DataFrame:
    """Mask a table that is about to leave the system (raw values: every action applies)."""
    out = mask_table(frame.copy(), actions, key)
    for col, action in actions.items():
        if action == "generalise" and col in out.columns:
            out[col] = generalise(out[col])
    return out
