"""Built-in PII recognizers, registered through ``register_recognizers`` like a third party's.

Two kinds of recognizer, both pluggable:

* presidio ``EntityRecognizer`` instances look at *values* (e-mail, phone, card, IBAN …);
* :class:`ColumnNameRecognizer` instances look at *column names* and say what kind of personal
  data a column holds (``identifier``, ``direct``, ``quasi``, ``sensitive``).

A third-party plugin adds its own::

    import microseg
    from microseg.privacy.recognizers import ColumnNameRecognizer

    @microseg.hookimpl
    def register_recognizers(register):
        register(ColumnNameRecognizer("loyalty tier", "LOYALTY_TIER", "quasi", [r"tier|loyalty_tier"]))

This module imports no presidio code: the value recognizers are registered as
:class:`PresidioRecognizer` descriptions (class, entities) and built when a scan runs, so
``microseg plugins`` lists them without importing presidio or spaCy.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import microseg
from microseg.privacy.kinds import ACTIONS, PERSONAL_KINDS


def normalise_name(column: object) -> str:
    """Lower snake case: ``CustomerID`` → ``customer_id``, ``native-country`` → ``native_country``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", str(column))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(eq=False)
class ColumnNameRecognizer:
    """Column-name semantics: a column whose name matches holds ``entity`` of ``kind``.

    :param name: what it recognizes (shown by ``microseg plugins``).
    :param entity: entity label put in findings (``"EMAIL_ADDRESS"``, ``"LOYALTY_TIER"`` …).
    :param kind: ``identifier``, ``direct``, ``quasi`` or ``sensitive``.
    :param patterns: regular expressions matched against the normalised column name (lower
        snake case, see :func:`normalise_name`). A pattern matches a whole run of words:
        ``email`` matches ``email`` and ``customer_email`` but not ``emails_sent``; anchor it
        (``^name$``) to match only the whole name.
    :param score: confidence when the name matches (the most specific match wins: the
        longest matched run, then the higher score, then the later-registered recognizer).
    :param values: optional regular expression the column's sampled distinct values should
        fully match; when fewer than ``min_value_share`` of them do, the name is ignored
        (a ``phone_verified`` column of booleans is not a phone number).
    :param max_distinct: optional; the name is ignored when the column has more distinct values.
    :param context: extra words given to presidio as context for this column's values.
    :param action: proposed action, overriding the kind's default.
    """

    name: str
    entity: str
    kind: str
    patterns: Sequence[str]
    score: float = 0.8
    values: str | None = None
    min_value_share: float = 0.5
    max_distinct: int | None = None
    context: Sequence[str] = ()
    action: str | None = None
    _compiled: list[re.Pattern] = field(default_factory=list, init=False, repr=False)
    _values_re: re.Pattern | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in PERSONAL_KINDS:
            raise ValueError(f"recognizer {self.name!r}: kind must be one of {', '.join(PERSONAL_KINDS)}")
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"recognizer {self.name!r}: action must be one of {', '.join(ACTIONS)}")
        if isinstance(self.patterns, str):
            self.patterns = [self.patterns]
        try:
            self._compiled = [re.compile(rf"(?:{p})(?=_|$)") for p in self.patterns]
            self._values_re = re.compile(self.values, re.DOTALL) if self.values else None
        except re.error as exc:
            raise ValueError(f"recognizer {self.name!r}: bad regular expression: {exc}") from None

    def match_length(self, column: object) -> int:
        """Length of the longest run of the normalised name that a pattern matches (0: none)."""
        norm = normalise_name(column)
        starts = [0] + [m.end() for m in re.finditer("_", norm)]
        best = 0
        for pattern in self._compiled:
            for start in starts:
                m = pattern.match(norm, start)
                if m and m.end() > m.start():
                    best = max(best, m.end() - m.start())
        return best

    def matches(self, column: object) -> bool:
        return self.match_length(column) > 0

    def check_values(self, values: Sequence[str], n_distinct: int) -> tuple[bool, float]:
        """(consistent, share of ``values`` that fit ``values``); no check → (True, 1.0)."""
        if self.max_distinct is not None and n_distinct > self.max_distinct:
            return False, 0.0
        if self._values_re is None or not values:
            return True, 1.0
        share = sum(1 for v in values if self._values_re.fullmatch(v)) / len(values)
        return share >= self.min_value_share, share


# --------------------------------------------------------------------------- value checks
_PHONE = r"(?!\d+[.,]\d+$)(?=(?:\D*\d){7})\+?[\d\s().\-/]{7,25}(?:\s*(?:x|ext\.?)\s*\d{1,6})?"
_EMAIL = r"[^@\s]+@[^@\s]+"
_NO_DIGITS = r"[^\d@]{1,100}"
_HAS_LETTER = r"(?=.*[^\W\d_])[^@]{1,200}"
_ID_LIKE = r"[\w\-.:/#]{1,64}"
_HAS_DIGIT = r"(?=.*\d)[\w \-/.]{4,40}"
_DATE_OR_YEAR = (r"\d{4}(?:[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?(?:[ T].*)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:[ T].*)?"
                 r"|\d{8}|\d{1,2}[ -][A-Za-z]{3,9}[ -]\d{2,4}")
_AGE = r"(?=.*\d)[\d\s<>=+\-–.a-zA-Z]{1,20}"
_GENDER = r"(?i)[a-z?][a-z \-?/]{0,24}|\d"
_POSTCODE = r"[A-Za-z0-9][A-Za-z0-9 \-]{1,10}"
_COORD = r"[+-]?\d{1,3}(?:\.\d+)?(?:\s*[,;]\s*[+-]?\d{1,3}(?:\.\d+)?)?"
_NUM = r"(?:number|no|nr|num)"

R = ColumnNameRecognizer
COLUMN_RECOGNIZERS: list[ColumnNameRecognizer] = [
    # identifiers
    R("customer id", "CUSTOMER_ID", "identifier",
      [r"(customer|client|cust|member|membership|user|person|subscriber|patient|contact|loyalty|household|shopper"
       r"|buyer|consumer|guest|visitor|profile)_?(id|no|nr|num|number|key|ref|code|uuid|guid)",
       r"account_?(id|key|ref)", r"^(id|cid|uid|uuid|guid|customer|client|member)$"], 0.85, values=_ID_LIKE),
    R("device id", "ONLINE_ID", "identifier",
      [r"(device|cookie|advertising|ad|browser|idfa|gaid|aaid)_?id", r"idfa|gaid|aaid|mac(_?(address|addr))?"],
      0.8, values=_ID_LIKE),
    # direct identifiers
    R("email", "EMAIL_ADDRESS", "direct", [r"e_?mail(_?(address|addr))?|mail(_?(address|addr))?"], 0.9,
      values=_EMAIL, context=["email"]),
    R("phone", "PHONE_NUMBER", "direct",
      [rf"(phone|telephone|tel|mobile|cell|cellphone|msisdn|fax|landline|whatsapp)(_?{_NUM})?",
       rf"(contact|home|work|mobile|cell)_?{_NUM}"], 0.9, values=_PHONE, context=["phone"]),
    R("person name", "PERSON", "direct",
      [r"(first|last|middle|given|family|full|sur|maiden|fore|birth|legal|display|nick|preferred|customer|client"
       r"|contact|person|holder|account_holder|card_?holder|patient|recipient|member|father|mother|spouse)_?name",
       r"surname|forename|^names?$"], 0.85, values=_NO_DIGITS),
    R("username", "USERNAME", "direct", [r"user_?name|login(_?name)?|screen_?name|handle"], 0.8,
      values=r"\S{1,64}"),
    R("address", "ADDRESS", "direct",
      [r"((street|home|postal|mailing|billing|shipping|delivery|residential|correspondence|customer|full)_)?"
       r"(address|addr)(_?line)?(_?\d)?", rf"street(_?(name|address|{_NUM}))?", rf"house_?{_NUM}"], 0.85,
      values=_HAS_LETTER),
    R("national id", "NATIONAL_ID", "direct",
      [rf"ssn|social_security(_?{_NUM})?|nino|ni_?{_NUM}|national_?(id|insurance)(_?{_NUM})?|nhs(_?{_NUM})?",
       rf"passport(_?{_NUM})?|tax_?(id|code|{_NUM})|tin|itin|id_?card(_?{_NUM})?",
       rf"(driver|drivers|driving)_?(license|licence)(_?{_NUM})?|personnummer|bsn|pesel|aadhaar|fiscal_?code|cpf"],
      0.9, values=_HAS_DIGIT),
    R("bank account", "BANK_ACCOUNT", "direct",
      [rf"iban|bank_?account(_?{_NUM})?|account_?{_NUM}|sort_?code"], 0.85, values=r"(?=.*\d)[\w \-]{6,40}"),
    R("card number", "CREDIT_CARD", "direct",
      [rf"((credit|debit|payment|bank)_)?card_?{_NUM}|cc_?{_NUM}|credit_?card"], 0.85, values=r"[\d \-]{12,23}"),
    R("ip address", "IP_ADDRESS", "direct", [r"ip(v4|v6)?(_?(address|addr))?"], 0.8, values=r"[0-9a-fA-F.:]{3,45}",
      context=["ip"]),
    # quasi-identifiers
    R("birth date", "DATE_OF_BIRTH", "quasi",
      [r"dob|d_o_b|birth_?(date|day|dt|year|month)|date_?of_?birth|birthday|year_?of_?birth|yob|born(_on)?"], 0.9,
      values=_DATE_OR_YEAR),
    R("age", "AGE", "quasi",
      [r"age(_?(years|yrs|group|band|bracket|range|bucket|cat|category))?"], 0.85, values=_AGE),
    R("gender", "GENDER", "quasi", [r"gender(_?identity)?|sex"], 0.85, values=_GENDER, max_distinct=20),
    R("postcode", "POSTCODE", "quasi",
      [r"post_?code|postal_?code|zip(_?code)?|plz|postleitzahl|outcode|eircode|pin_?code"], 0.85, values=_POSTCODE),
    R("place", "LOCATION", "quasi",
      [r"city|town|village|municipality|county|district|region|province|suburb|neighbou?rhood|borough|locality",
       r"country(_?code)?|location|residence|^state$|home_?(city|town|country)"], 0.7, values=_HAS_LETTER),
    R("coordinates", "COORDINATES", "quasi",
      [r"lat|lon|lng|latitude|longitude|geo_?(location|loc|point|lat|lon)|coordinates"], 0.8, values=_COORD),
    R("website", "URL", "quasi", [r"url|website|web_?site|homepage|home_?page|web_?address|profile_?(url|link)"],
      0.6, values=r"\S{3,300}"),
    R("race / ethnicity", "RACE_ETHNICITY", "quasi", [r"race|ethnicity|ethnic(_?(group|origin|background))?"], 0.8,
      max_distinct=2000),
    R("nationality", "NATIONALITY", "quasi",
      [r"nationality|citizenship|native_?country|country_?of_?(birth|origin|citizenship)|birth_?(country|place)",
       r"place_?of_?birth|native_?language|mother_?tongue"], 0.8, max_distinct=2000),
    R("family status", "FAMILY_STATUS", "quasi",
      [r"marital(_?status)?|civil_?status|relationship(_?status)?|household_?(size|type|composition)",
       r"(number_?of_?|n_?|num_?)?(children|kids|dependents|dependants)"], 0.75, max_distinct=2000),
    R("occupation", "OCCUPATION", "quasi",
      [r"occupation|profession|job(_?(title|role|category|type|function))?|work_?class|employment(_?(status|type))?",
       r"employer"], 0.75, max_distinct=2000),
    R("education", "EDUCATION", "quasi",
      [r"education(_?(level|num|years|degree))?|degree|qualification|schooling|highest_?(degree|qualification)"],
      0.75, max_distinct=2000),
    # sensitive
    R("special category", "SPECIAL_CATEGORY", "sensitive",
      [r"\w*(health|medical|diagnos|disease|illness|disabilit|disabled|religio|faith|sexual|orientation|political"
       r"|trade_?union|union_?member|genetic|biometric|criminal|conviction|pregnan|blood_?type|medication|allerg)\w*"],
      0.8),
    R("financial", "FINANCIAL", "sensitive",
      [r"income|salary|salaries|wages?|earnings|net_?worth|credit_?(score|rating)"], 0.7),
]
del R


@dataclass(frozen=True)
class PresidioRecognizer:
    """A presidio value recognizer described by its class: registered (and listed by ``microseg
    plugins``) without importing presidio, built when a scan runs (:meth:`build`, once per process).

    :param name: the class name (also the built recognizer's ``name``).
    :param module: the module the class is imported from.
    :param supported_entities: the entities it finds (as the built recognizer says).
    :param kwargs: constructor keyword arguments, as ``(name, value)`` pairs (tuples become lists).
    """

    name: str
    module: str
    supported_entities: tuple[str, ...]
    kwargs: tuple[tuple[str, object], ...] = ()

    def build(self) -> object:
        """The presidio recognizer (built once per process for equal descriptions)."""
        return _built(self)


@lru_cache(maxsize=None)
def _built(desc: PresidioRecognizer) -> object:
    cls = getattr(importlib.import_module(desc.module), desc.name)
    return cls(**{k: list(v) if isinstance(v, tuple) else v for k, v in desc.kwargs})


def built(rec: object) -> object:
    """``rec`` ready to analyse values: a :class:`PresidioRecognizer` built, anything else as it is."""
    return rec.build() if isinstance(rec, PresidioRecognizer) else rec


_PRESIDIO = "presidio_analyzer.predefined_recognizers"
#: the offline value recognizers: e-mail (tldextract's bundled suffix list), phone (libphonenumber,
#: presidio's default regions), credit card (Luhn), IBAN (checksum), IP, MAC, URL, crypto wallet
#: (checksum), US SSN, UK NHS number (mod-11 checksum), UK NINO
VALUE_RECOGNIZERS: tuple[PresidioRecognizer, ...] = tuple(
    PresidioRecognizer(cls, module, (entity,)) for cls, module, entity in (
        ("OfflineEmailRecognizer", "microseg.privacy.nlp_offline", "EMAIL_ADDRESS"),
        ("PhoneRecognizer", _PRESIDIO, "PHONE_NUMBER"), ("CreditCardRecognizer", _PRESIDIO, "CREDIT_CARD"),
        ("IbanRecognizer", _PRESIDIO, "IBAN_CODE"), ("IpRecognizer", _PRESIDIO, "IP_ADDRESS"),
        ("MacAddressRecognizer", _PRESIDIO, "MAC_ADDRESS"), ("UrlRecognizer", _PRESIDIO, "URL"),
        ("CryptoRecognizer", _PRESIDIO, "CRYPTO"), ("UsSsnRecognizer", _PRESIDIO, "US_SSN"),
        ("NhsRecognizer", _PRESIDIO, "UK_NHS"), ("UkNinoRecognizer", _PRESIDIO, "UK_NINO")))
#: PERSON / LOCATION by named-entity recognition, only when an official spaCy English model is installed
SPACY_RECOGNIZER = PresidioRecognizer("SpacyRecognizer", _PRESIDIO, ("PERSON", "LOCATION"),
                                      (("supported_entities", ("PERSON", "LOCATION")),))
SPACY_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm")


def spacy_model_installed() -> bool:
    """Whether an official spaCy English model is installed (package metadata only: no spaCy import)."""
    for name in SPACY_MODELS:
        try:
            importlib.metadata.distribution(name)
            return True
        except importlib.metadata.PackageNotFoundError:
            continue
    return False


def value_recognizer_specs() -> tuple[PresidioRecognizer, ...]:
    """The built-in value recognizers, described (nothing imported)."""
    return VALUE_RECOGNIZERS + ((SPACY_RECOGNIZER,) if spacy_model_installed() else ())


def value_recognizers() -> tuple[object, ...]:
    """The built-in presidio value recognizers, built (imports presidio)."""
    return tuple(d.build() for d in value_recognizer_specs())


@microseg.hookimpl
def register_recognizers(register: Callable[[object], None]) -> None:
    for rec in COLUMN_RECOGNIZERS:
        register(rec)
    for rec in value_recognizer_specs():
        register(rec)
