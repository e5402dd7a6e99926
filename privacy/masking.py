"""Masking: drop, redact, keyed pseudonym, generalise, and hashed identifiers for ad platforms.

Actions come from the policy (``[privacy] columns``) or, for unlisted columns, from the scan:
identifiers are pseudonymised, direct identifiers dropped, quasi-identifiers generalised when
released, everything else kept.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from microseg.errors import ConfigError
from microseg.privacy.policy import PrivacyPolicy
from microseg.privacy.pseudonym import pseudonymise

REDACTED = "[REDACTED]"
DEFAULT_ACTION = {"identifier": "pseudonymise", "direct": "drop", "quasi": "generalise",
                  "sensitive": "keep", "none": "keep"}


def column_actions(findings: list[Any], policy: PrivacyPolicy) -> dict[str, str]:
    """Column → action: the policy's explicit choice, else the default for the scanned kind."""
    actions = {f.column: DEFAULT_ACTION.get(f.kind, "keep") for f in findings}
    for col, action in policy.columns.items():
        if action == "hash" and not policy.allow_hashed_audiences:
            raise ConfigError("'hash' needs privacy.allow_hashed_audiences = true",
                              key=f"privacy.columns.{col}")
        actions[col] = action
    return actions


def frame_for_methods(frame: pd.DataFrame, actions: Mapping[str, str], key: bytes) -> pd.DataFrame:
    """What methods may see in memory: direct identifiers removed, pseudonymised ids keyed.

    Quasi-identifiers stay raw in memory (rules like ``age >= 65`` need them); they are only
    generalised on release.
    """
    drop = [c for c, a in actions.items() if a in ("drop", "redact", "hash") and c in frame.columns]
    out = frame.drop(columns=drop)
    for col, action in actions.items():
        if action == "pseudonymise" and col in out.columns:
            out[col] = pseudonymise(out[col].to_numpy(), key)
    return out


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
    """Mask a table that is about to leave the system."""
    out = frame.copy()
    for col, action in actions.items():
        if col not in out.columns:
            continue
        if action == "drop":
            out = out.drop(columns=[col])
        elif action == "redact":
            out[col] = REDACTED
        elif action == "pseudonymise":
            out[col] = pseudonymise(out[col].to_numpy(), key)
        elif action == "generalise":
            out[col] = generalise(out[col])
        elif action == "hash":
            kind = "email" if "mail" in col.lower() else "phone"
            out[col] = hashed_identifiers(out[col], kind)
    return out
