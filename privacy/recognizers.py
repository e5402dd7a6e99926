"""Built-in PII recognizers, registered through ``register_recognizers`` like a third party's.

Two kinds of unit, both pluggable:

* presidio ``EntityRecognizer`` instances look at *values* (e-mail, phone, card, IBAN …);
* :class:`ColumnNameRecognizer` instances look at *column names* and say what kind of data a
  column holds (``identifier``, ``direct``, ``quasi``, ``sensitive``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from presidio_analyzer.predefined_recognizers import (CreditCardRecognizer, IbanRecognizer, IpRecognizer,
                                                      NhsRecognizer, PhoneRecognizer, UkNinoRecognizer,
                                                      UsSsnRecognizer)

import microseg
from microseg.privacy.nlp_offline import OfflineEmailRecognizer

KINDS = ("identifier", "direct", "quasi", "sensitive", "none")


def normalise_name(column: object) -> str:
    """``CustomerID`` → ``customer_id``; ``native-country`` → ``native_country``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(column))
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class ColumnNameRecognizer:
    """Column-name semantics: a column whose normalised name matches one of ``patterns``
    (regular expressions, full match) holds ``entity`` of ``kind``."""

    name: str
    entity: str
    kind: str
    patterns: list[str]
    score: float = 0.7
    _compiled: list[re.Pattern] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS[:-1]:
            raise ValueError(f"kind must be one of {KINDS[:-1]}")
        self._compiled = [re.compile(p) for p in self.patterns]

    def matches(self, column: object) -> bool:
        norm = normalise_name(column)
        return any(p.fullmatch(norm) for p in self._compiled)


COLUMN_RECOGNIZERS = [
    ColumnNameRecognizer("customer id", "CUSTOMER_ID", "identifier",
                         [r"(customer|client|cust|member|user|account|contact|person|subscriber)_?(id|no|number|key|ref)",
                          r"id"], 0.85),
    ColumnNameRecognizer("email", "EMAIL_ADDRESS", "direct", [r"(e_?mail|email_address|mail)(_\w+)?"], 0.85),
    ColumnNameRecognizer("phone", "PHONE_NUMBER", "direct",
                         [r"(\w+_)?(phone|mobile|cell|tel|telephone|msisdn)(_\w+)?"], 0.85),
    ColumnNameRecognizer("person name", "PERSON", "direct",
                         [r"(first|last|middle|given|family|full|sur|maiden)_?name", r"name", r"surname",
                          r"forename", r"(customer|client|contact)_name"], 0.8),
    ColumnNameRecognizer("address", "ADDRESS", "direct",
                         [r"(\w+_)?(address|street|addr)(_line_?\d?|_\d)?", r"house_(number|no)"], 0.8),
    ColumnNameRecognizer("national id", "NATIONAL_ID", "direct",
                         [r"ssn|social_security(_number)?|nino|national_(id|insurance)(_number)?|passport(_no|_number)?|tax_id"], 0.9),
    ColumnNameRecognizer("bank account", "IBAN_CODE", "direct", [r"iban|bank_account(_number)?|account_number|card_number"], 0.85),
    ColumnNameRecognizer("ip address", "IP_ADDRESS", "direct", [r"ip(_address)?"], 0.7),
    ColumnNameRecognizer("birth date", "DATE_OF_BIRTH", "quasi",
                         [r"dob|birth_?date|date_of_birth|birthday|birth_day"], 0.85),
    ColumnNameRecognizer("age", "AGE", "quasi", [r"age(_years)?"], 0.8),
    ColumnNameRecognizer("gender", "GENDER", "quasi", [r"gender|sex"], 0.8),
    ColumnNameRecognizer("postcode", "POSTCODE", "quasi", [r"post_?code|postal_?code|zip(_?code)?|plz"], 0.8),
    ColumnNameRecognizer("place", "LOCATION", "quasi",
                         [r"city|town|municipality|county|district|native_country|country_of_birth|birth_place"], 0.6),
    ColumnNameRecognizer("demographics", "DEMOGRAPHIC", "quasi",
                         [r"race|marital(_status)?|occupation|job(_title)?|education(_level)?|nationality"], 0.6),
    ColumnNameRecognizer("special category", "SENSITIVE", "sensitive",
                         [r"\w*(health|diagnos|medical|religio|ethnic|sexual|political|union_member|disabil|"
                          r"income|salary)\w*"], 0.7),
]


def value_recognizers() -> list[object]:
    """presidio recognizers that work offline and look at values."""
    return [OfflineEmailRecognizer(), PhoneRecognizer(supported_regions=("GB", "US", "DE", "FR", "IN", "CA", "BR")),
            CreditCardRecognizer(), IbanRecognizer(), IpRecognizer(), UsSsnRecognizer(), NhsRecognizer(),
            UkNinoRecognizer()]


@microseg.hookimpl
def register_recognizers(register):
    for rec in COLUMN_RECOGNIZERS:
        register(rec)
    for rec in value_recognizers():
        register(rec)
