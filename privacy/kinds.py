"""The kinds of personal data a column can hold, and what the scan proposes doing with each.

``identifier``  a key that singles out a customer (customer id, device id): pseudonymise.
``direct``      identifies a person on its own (name, e-mail, phone, address, national id,
                IBAN, card number …): drop; personal data inside free text: redact.
``quasi``       identifies in combination (age, birth date, gender, postcode, city, race,
                marital status, occupation, education …): generalise.
``sensitive``   GDPR special-category data (health, religion, sexual orientation, political
                opinion, trade-union membership, genetic/biometric, criminal records): restrict;
                financial data (income, salary): keep (a legitimate segmentation feature).
``none``        nothing personal found: keep.
"""
from __future__ import annotations

KINDS: tuple[str, ...] = ("identifier", "direct", "quasi", "sensitive", "none")
PERSONAL_KINDS: tuple[str, ...] = KINDS[:-1]

DEFAULT_ACTIONS: dict[str, str] = {"identifier": "pseudonymise", "direct": "drop", "quasi": "generalise",
                                   "sensitive": "restrict", "none": "keep"}
ACTIONS: tuple[str, ...] = ("pseudonymise", "drop", "redact", "generalise", "restrict", "keep")

#: Kind of a value-level (presidio) entity. Entities not listed here are ``direct`` unless the
#: recognizer object has a ``microseg_kind`` attribute.
ENTITY_KINDS: dict[str, str] = {
    "EMAIL_ADDRESS": "direct", "PHONE_NUMBER": "direct", "CREDIT_CARD": "direct", "IBAN_CODE": "direct",
    "US_SSN": "direct", "UK_NHS": "direct", "UK_NINO": "direct", "IP_ADDRESS": "direct",
    "MAC_ADDRESS": "direct", "CRYPTO": "direct", "PERSON": "direct",
    "URL": "quasi", "LOCATION": "quasi", "NRP": "quasi",
}


def entity_kind(entity: str, recognizer: object | None = None) -> str:
    """The kind of a value-level entity (a recognizer's ``microseg_kind`` attribute wins)."""
    kind = getattr(recognizer, "microseg_kind", None)
    if kind in PERSONAL_KINDS:
        return str(kind)
    return ENTITY_KINDS.get(entity, "direct")


def default_action(kind: str, entity: str | None = None) -> str:
    """The action proposed for a finding of ``kind`` (financial ``sensitive`` data is kept)."""
    if kind == "sensitive" and entity == "FINANCIAL":
        return "keep"
    return DEFAULT_ACTIONS[kind]
