"""presidio-analyzer, fully offline.

presidio's default ``AnalyzerEngine()`` downloads a spaCy model; its e-mail recognizer lets
``tldextract`` fetch the public-suffix list. Here: an official spaCy English model is used when
it is installed (never downloaded); otherwise ``spacy.blank("en")`` plus a component that sets
each token's lemma to its lower-case text (presidio's context words work on lemmas). E-mail
validation uses tldextract's bundled suffix snapshot with no cache.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import EmailRecognizer
from spacy.language import Language

OFFICIAL_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm")


@Language.component("microseg_lower_lemma")
def _lower_lemma(doc):  # noqa: ANN001, ANN202 - spaCy component signature
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def installed_model() -> str | None:
    """The first official spaCy English model that is installed, if any."""
    for name in OFFICIAL_MODELS:
        if spacy.util.is_package(name):
            return name
    return None


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """SpacyNlpEngine that never downloads: an installed model, or a blank pipeline."""

    def __init__(self) -> None:
        model = installed_model()
        super().__init__(models=[{"lang_code": "en", "model_name": model or "blank"}])
        self.model_name = model

    def load(self) -> None:
        if self.model_name:
            self.nlp = {"en": spacy.load(self.model_name)}
            return
        nlp = spacy.blank("en")
        nlp.add_pipe("microseg_lower_lemma")
        self.nlp = {"en": nlp}


@lru_cache(maxsize=1)
def offline_tld_extractor():
    import tldextract
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's e-mail recognizer validated against tldextract's bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        return offline_tld_extractor()(pattern_text).fqdn != ""


def build_analyzer(recognizers: Iterable[object]) -> AnalyzerEngine:
    """An AnalyzerEngine over the given presidio recognizers, offline."""
    engine = OfflineSpacyNlpEngine()
    engine.load()
    registry = RecognizerRegistry(recognizers=list(recognizers), supported_languages=["en"])
    if engine.model_name:
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer
        registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON", "LOCATION"]))
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def model_recognizers() -> list[object]:
    """NER recognizers for PERSON / LOCATION when an official spaCy model is installed."""
    if installed_model() is None:
        return []
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer
    return [SpacyRecognizer(supported_entities=["PERSON", "LOCATION"])]
