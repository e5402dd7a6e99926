"""Masking, keyed pseudonyms, hashed audiences, consent masks."""
from __future__ import annotations

import hashlib
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.errors import ConfigError
from microseg.privacy.consent import consent_masks
from microseg.privacy.kinds import ACTIONS, DEFAULT_ACTIONS, proposed_action
from microseg.privacy.masking import (apply_release_actions, column_actions, frame_for_methods, generalise,
                                      hashed_identifiers, mask_table, normalise_phone)
from microseg.privacy.policy import PrivacyPolicy
from microseg.privacy.pseudonym import load_key, pseudonymise, pseudonymise_one, write_new_key

KEY = b"0123456789abcdef0123"


def test_pseudonyms_are_keyed_not_bare_hashes():
    p = pseudonymise(["17850"], KEY)[0]
    assert p == pseudonymise_one("17850", KEY)
    assert p not in hashlib.sha256(b"17850").hexdigest()         # not an unsalted hash
    assert p != pseudonymise(["17850"], b"another-key-0123456")[0]
    assert len(p) == 24


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=40, unique=True))
def test_pseudonyms_are_deterministic_and_distinct(values):
    a, b = pseudonymise(values, KEY), pseudonymise(values, KEY)
    assert list(a) == list(b) and len(set(a)) == len(values)
    assert not set(values) & set(a)

@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=200),
       st.one_of(st.lists(st.integers(-2**63, 2**63 - 1), max_size=20), st.lists(st.text(max_size=30), max_size=20)))
def test_batch_pseudonyms_are_standard_hmac_sha256(key, values):
    """The batch path (precomputed HMAC states) equals the standard library's HMAC-SHA256, for
    keys shorter and longer than SHA-256's 64-byte block, and for integer arrays."""
    import hmac
    expected = [hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:24] for v in values]
    assert list(pseudonymise(values, key)) == expected
    if values and all(isinstance(v, int) for v in values):
        assert list(pseudonymise(np.array(values, dtype=np.int64), key)) == expected



def test_key_from_env_or_file_never_default(tmp_path, monkeypatch):
    monkeypatch.delenv("MICROSEG_KEY")
    with pytest.raises(ConfigError, match="no pseudonymisation key"):
        load_key(PrivacyPolicy())
    key_file = write_new_key(tmp_path / "k")
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert len(load_key(PrivacyPolicy(key_file=str(key_file)))) == 64
    with pytest.raises(FileExistsError):
        write_new_key(key_file)
    monkeypatch.setenv("MICROSEG_KEY", "short")
    with pytest.raises(ConfigError, match="shorter than 16"):
        load_key(PrivacyPolicy())


def _finding(column, kind, table=None, entity=None):
    return types.SimpleNamespace(column=column, kind=kind, action=proposed_action(kind, entity),
                                 qualified=column if table in (None, "customers") else f"{table}.{column}")


def test_one_vocabulary_for_policy_scan_and_run():
    """The config accepts exactly the vocabulary's actions, and every kind's default is one."""
    import typing

    from microseg.privacy.policy import ColumnAction
    assert set(typing.get_args(ColumnAction)) == set(ACTIONS)
    assert set(DEFAULT_ACTIONS.values()) <= set(ACTIONS)
    PrivacyPolicy(columns={"diagnosis": "restrict"})
    with pytest.raises(Exception):
        PrivacyPolicy(columns={"x": "obliterate"})


def test_actions_default_from_scan_and_policy_overrides():
    findings = [_finding("email", "direct"), _finding("cid", "identifier"), _finding("age", "quasi"),
                _finding("spend", "none"), _finding("diagnosis", "sensitive"),
                _finding("category", "none", "transactions")]
    actions = column_actions(findings, PrivacyPolicy(columns={"age": "keep", "transactions.category": "drop"}))
    assert actions == {"email": "drop", "cid": "pseudonymise", "age": "keep", "spend": "keep", "diagnosis": "restrict",
                       "transactions.category": "drop"}
    with pytest.raises(ConfigError, match="allow_hashed_audiences"):
        column_actions(findings, PrivacyPolicy(columns={"email": "hash"}))


def test_masking_removes_raw_values_and_methods_never_see_hidden_columns():
    frame = pd.DataFrame({"email": ["a@example.com"], "age": [40], "cid": ["X1"], "note": ["call 0201"]})
    actions = {"email": "drop", "age": "generalise", "cid": "pseudonymise", "note": "redact"}
    masked = mask_table(frame, actions, KEY)
    assert "email" not in masked.columns and masked.loc[0, "age"] == 40 and masked.loc[0, "cid"] != "X1"
    assert masked.loc[0, "note"] == "[REDACTED]"
    assert "note" not in frame_for_methods(masked, actions).columns


def test_generalise_steps():
    assert generalise(pd.Series([34, 71]), 1).tolist() == ["30-39", "70-79"]
    assert generalise(pd.Series([34]), 2).tolist() == ["20-39"]
    assert generalise(pd.Series(pd.to_datetime(["1980-05-17"])), 1).tolist() == ["1980-05"]
    assert generalise(pd.Series(["SW1A 1AA"]), 1).tolist() == ["SW1"]


def test_release_actions_and_hashed_audiences():
    df = pd.DataFrame({"email": [" Ann@Example.COM "], "phone": ["+44 7700 900123"], "note": ["x"], "age": [33]})
    out = apply_release_actions(df, {"email": "hash", "phone": "hash", "note": "redact", "age": "generalise"}, KEY)
    assert out.loc[0, "email"] == hashlib.sha256(b"ann@example.com").hexdigest()
    assert out.loc[0, "phone"] == hashlib.sha256(b"+447700900123").hexdigest()
    assert out.loc[0, "note"] == "[REDACTED]" and out.loc[0, "age"] == "30-39"
    assert normalise_phone("0044 20 7946 0018") == "+442079460018"
    assert hashed_identifiers(pd.Series(["A@B.C"]), "email").iloc[0] == hashlib.sha256(b"a@b.c").hexdigest()


def test_consent_masks():
    customers = pd.DataFrame({"p": [True, False, True, None], "m": ["yes", "no", "Y", None]})
    masks = consent_masks(customers, 4, PrivacyPolicy(consent={"profiling": "p", "marketing": "m"}))
    assert masks.profiling.tolist() == [True, False, True, False]
    assert masks.marketing.tolist() == [True, False, True, False]
    lenient = consent_masks(customers, 4, PrivacyPolicy(consent={"marketing": "m"}, consent_missing="include"))
    assert lenient.marketing.tolist() == [True, False, True, True] and lenient.profiling.all()
    with pytest.raises(ConfigError, match="privacy.consent.marketing"):
        consent_masks(customers, 4, PrivacyPolicy(consent={"marketing": "nope"}))
