"""Person names recognised from values alone: a column of given names under a harmless header.

presidio finds names only through a spaCy NER model, which microseg never downloads. Instead a
column is taken for person names when most of its sampled distinct values are *shaped* like
names (one to four capitalised words, no digit, no ``@``, no company word such as ``GmbH`` or
``and``) and enough of them *start* with a known given name. The given names are the US Census
Bureau's 1990 first-name lists (public domain, ``privacy/data/given_names.txt.gz``, 5,163
names, many of them European); accents are folded (``José`` → ``jose``, ``Łukasz`` → ``lukasz``).
"""
from __future__ import annotations

import gzip
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "given_names.txt.gz"

#: a value is shaped like a name when its words are all capitalised letters (any script)
WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?")
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "mme", "mlle", "m",
                    "sr", "sra", "srta", "dott", "dottssa", "ing", "mag", "dipl", "univ", "jr", "sr", "ii", "iii",
                    "iv", "phd", "md", "bsc", "msc", "mba", "ba", "ma", "llb", "von", "van", "de", "der", "den", "da",
                    "di", "del", "la", "le", "dos", "das", "do"})
#: words that make a value a company, product or place rather than a person
NOT_PERSON = frozenset({"and", "und", "et", "og", "och", "asociados", "hijos", "figli", "fils", "sons", "söhne", "sohne", "inc", "llc", "ltd", "plc", "gmbh",
                        "ag", "kg", "ohg", "ug", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "as", "oy", "oyj",
                        "aps", "sp", "zoo", "sro", "group", "holding", "holdings", "company", "co", "corp", "corporation",
                        "partners", "associates", "services", "solutions", "systems", "international", "bank",
                        "street", "road", "avenue", "lane", "city", "port", "lake", "north", "south", "east", "west",
                        "new", "saint", "st", "fort", "mount", "the", "of", "for", "gift", "from", "referral"})
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d", "Đ": "D",
                      "ı": "i", "þ": "th", "ð": "d"})


def fold(word: str) -> str:
    """Lower case ASCII: accents and special letters folded."""
    text = unicodedata.normalize("NFKD", word.translate(FOLD))
    return text.encode("ascii", "ignore").decode().lower()


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    with gzip.open(DATA, "rt", encoding="ascii") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


def name_words(value: str) -> list[str] | None:
    """The words of ``value`` when it is shaped like a person's name (titles dropped), else None."""
    text = value.strip()
    if not text or len(text) > 60 or any(ch.isdigit() for ch in text) or "@" in text:
        return None
    words = WORD.findall(text.replace(",", " "))
    if not words or len("".join(words)) < 0.7 * len(text.replace(" ", "").replace(",", "")):
        return None
    kept = [w for w in words if fold(w).strip(".") not in TITLES]
    if not kept or len(kept) > 4:
        return None
    if any(fold(w).strip(".") in NOT_PERSON for w in words):
        return None
    if not all(w[0].isupper() for w in kept):
        return None
    return kept


def name_share(values: list[str]) -> tuple[float, float]:
    """(share of values shaped like names, share of values that start with a known given name)."""
    if not values:
        return 0.0, 0.0
    known = given_names()
    shaped = hits = 0
    for v in values:
        words = name_words(v)
        if words is None:
            continue
        shaped += 1
        first = re.split(r"[-'’]", words[0])[0]
        hits += fold(first).strip(".") in known
    return shaped / len(values), hits / len(values)
