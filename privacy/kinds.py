"""The privacy vocabulary: kinds of personal data, the actions, and which action each kind gets.

This is the one table that ``microseg scan`` proposes from, a run applies, ``[privacy] columns``
is validated against and ``docs/privacy-scan.md`` documents.

Kinds
    ``identifier``  a key that singles out a customer (customer id, device id)
    ``direct``      identifies a person on its own (name, e-mail, phone, address, national id,
                    IBAN, card number, personal data inside free text)
    ``quasi``       identifies in combination (age, birth date, gender, postcode, city, race,
                    marital status, occupation, education …)
    ``sensitive``   GDPR special-category data (health, religion, sexual orientation, political
                    opinion, trade-union membership, genetic/biometric, criminal records) and
                    financial data (income, salary)
    ``none``        nothing personal found

Actions (what a run does with a column)
    ``pseudonymise``  replaced by a keyed pseudonym (HMAC-SHA256 with the run key) before any
                      method sees it
    ``drop``          removed before any method sees it
    ``redact``        every value replaced by ``[REDACTED]`` before any method sees it
    ``hash``          SHA-256 of the normalised e-mail / phone, for ad-platform audiences (needs
                      ``allow_hashed_audiences``); methods do not see it
    ``generalise``    kept raw in memory for methods (rules need ``age >= 65``); generalised when
                      released (bands, months, prefixes) and k-anonymised
    ``restrict``      kept raw in memory for methods; never released: ``release.attributes``
                      may not name it
    ``keep``          kept; released as it is when ``release.attributes`` names it

Whatever the action, a text value names something released (a label, a feature name, a score
value, a report) only when it passes the value scan and is held by at least k customers
(:mod:`microseg.privacy.vocabulary`).
"""
from __future__ import annotations

KINDS: tuple[str, ...] = ("identifier", "direct", "quasi", "sensitive", "none")
PERSONAL_KINDS: tuple[str, ...] = KINDS[:-1]

#: action → what it does (the order is the documented one)
ACTIONS: dict[str, str] = {
    "pseudonymise": "replaced by a keyed pseudonym before any method sees it",
    "drop": "removed before any method sees it",
    "redact": "every value replaced by [REDACTED] before any method sees it",
    "hash": "SHA-256 of the normalised e-mail or phone for ad-platform audiences; methods do not see it",
    "generalise": "raw in memory for methods; generalised and k-anonymised when released",
    "restrict": "raw in memory for methods; never released (release.attributes may not name it)",
    "keep": "kept; released as it is only when release.attributes names it",
}

#: kind → the action a run applies unless ``[privacy] columns`` says otherwise
DEFAULT_ACTIONS: dict[str, str] = {"identifier": "pseudonymise", "direct": "drop", "quasi": "generalise",
                                   "sensitive": "restrict", "none": "keep"}

#: entity → action, where it differs from its kind's default
ENTITY_ACTIONS: dict[str, str] = {"PII_IN_TEXT": "redact", "FINANCIAL": "keep"}

#: actions after which the raw values are no longer in memory
MASKING_ACTIONS: frozenset[str] = frozenset({"pseudonymise", "drop", "redact", "hash"})
#: actions whose column methods never see
HIDDEN_FROM_METHODS: frozenset[str] = frozenset({"drop", "redact", "hash"})


def proposed_action(kind: str, entity: str | None = None, override: str | None = None) -> str:
    """The action for a finding: a recognizer's own ``action`` first, then the entity's, then the kind's."""
    if override is not None:
        return override
    if entity in ENTITY_ACTIONS and kind != "none":
        return ENTITY_ACTIONS[entity]
    return DEFAULT_ACTIONS[kind]
