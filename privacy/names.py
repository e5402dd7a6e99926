"""Person names recognised from values alone: a column of given names under a harmless header.

presidio finds names only through a spaCy NER model, which microseg never downloads. Instead a
column is taken for person names from two kinds of evidence over its sampled distinct values:

* **shape** (any script): one to four words of letters, no digit, no ``@``, no company, place
  or product word (``GmbH``, ``and``, ``Street`` …); in a script with letter case (Latin,
  Cyrillic, Greek, Armenian) every word is capitalised and none is a compound of capitalised
  parts (``RoyalBlue``); in a script without case (Han, kana, Hangul, Arabic, Hebrew, Thai,
  Indic, Georgian …) the words are short (:data:`CASELESS_MAX` letters);
* **known given names** (scripts the lexicon reads: Latin, Cyrillic, Greek): the value's first word, accents folded and Cyrillic / Greek letters
  transliterated (``Łukasz`` → ``lukasz``, ``Мария`` → ``mariya`` → ``maria``), is in the US
  Census Bureau's 1990 first-name lists (public domain, ``privacy/data/given_names.txt.gz``,
  5,163 names, many of them European).

:func:`name_evidence` returns the shares; :mod:`microseg.privacy.scan` decides (shape and known
names; or, where the lexicon cannot read the script, shape and an open vocabulary).
"""
from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "given_names.txt.gz"

#: a word of letters (any script), with inner apostrophes, hyphens or dots
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
                        "new", "saint", "st", "fort", "mount", "the", "of", "for", "gift", "from", "referral",
                        "store", "shop", "outlet", "mall", "centre", "center", "central", "station", "park", "plaza",
                        "market", "square", "airport", "branch", "pro", "max", "plus", "mini", "lite", "edition"})
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d", "Đ": "D",
                      "ı": "i", "þ": "th", "ð": "d"})
#: Cyrillic and Greek letters → Latin (lower case; a scholarly-simple romanisation)
ROMAN = str.maketrans({
    **dict(zip("абвгґдеєёжзиіїйклмнопрстуфхцчшщъыьэюя",
               ["a", "b", "v", "g", "g", "d", "e", "ye", "e", "zh", "z", "i", "i", "yi", "y", "k", "l", "m", "n", "o",
                "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"])),
    **dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω",
               ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s", "s", "t",
                "y", "f", "ch", "ps", "o"])),
})
#: transliteration spellings → the English spellings the census lists use
SPELLINGS = (("iya", "ia"), ("ya", "ia"), ("iy", "i"), ("ey", "ei"), ("kh", "h"), ("ks", "x"), ("yu", "iu"),
             ("oy", "ou"), ("gg", "ng"))
#: most letters a word of a caseless script may have and still be shaped like a name
CASELESS_MAX = 8


def fold(word: str) -> str:
    """Lower case ASCII: accents and special letters folded, Cyrillic and Greek romanised."""
    text = unicodedata.normalize("NFKD", word.translate(FOLD).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(ROMAN)
    return text.encode("ascii", "ignore").decode()


def spellings(word: str) -> set[str]:
    """``word`` folded, and its transliteration variants (``mariya`` → ``maria``)."""
    out = {fold(word).strip(".")}
    for a, b in SPELLINGS:
        out |= {v.replace(a, b) for v in out if a in v}
    return {v for v in out if v}


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    with gzip.open(DATA, "rt", encoding="ascii") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


def _cased(word: str) -> bool:
    return any(ch.lower() != ch.upper() for ch in word)


def _letters(word: str) -> int:
    return sum(1 for ch in word if not unicodedata.combining(ch))


def _word_shaped(word: str) -> bool:
    """A capitalised word, not a compound of capitalised parts (``McKenzie`` yes, ``SeaShell``
    no); or a short word of a script without case."""
    if not _cased(word):
        return _letters(word) <= CASELESS_MAX
    if not word[0].isupper():
        return False
    bumps = [i for i in range(1, len(word)) if word[i].isupper() and word[i - 1].islower()]
    return not any(i >= 3 and len(word) - i >= 3 for i in bumps)


def name_words(value: str) -> list[str] | None:
    """The words of ``value`` when it is shaped like a person's name (titles dropped), else None."""
    text = value.strip()
    if not text or len(text) > 60 or any(ch.isdigit() for ch in text) or "@" in text:
        return None
    if any(mark in text for mark in COMPANY_MARKS):
        return None
    # vowel signs and other marks (Devanagari, Thai, Tamil, decomposed accents) belong to their letter
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
    words = WORD.findall(text.replace(",", " "))
    if not words or len("".join(words)) < 0.7 * len(text.replace(" ", "").replace(",", "")):
        return None
    kept = [w for w in words if fold(w).strip(".") not in TITLES]
    if not kept or len(kept) > 4:
        return None
    if any(fold(w).strip(".") in NOT_PERSON for w in words):
        return None
    if not all(_word_shaped(w) for w in kept):
        return None
    return kept


#: scripts the given-name lexicon can read (after folding and romanisation)
READABLE = ("LATIN", "CYRILLIC", "GREEK")
#: company words written without spaces in scripts without case (Han, kana, Hangul, Arabic, Hebrew, Thai …)
COMPANY_MARKS = ("公司", "会社", "株式", "有限", "集团", "商店", "(주)", "㈜", "주식회사", "유한회사", "شركة", "مؤسسة",
                 'בע"מ', "בעמ", "บริษัท", "จำกัด", "หจก")


def readable(word: str) -> bool:
    """Whether the lexicon can read ``word``: its letters are Latin, Cyrillic or Greek."""
    return all(unicodedata.name(ch, "").startswith(READABLE) for ch in word if ch.isalpha())


@dataclass(frozen=True)
class NameEvidence:
    """Shares of a column's sampled distinct values: shaped like names; starting with a known
    given name; shaped and written in a script the lexicon cannot read."""

    shaped: float
    hits: float
    unreadable: float


def name_evidence(values: list[str]) -> NameEvidence:
    if not values:
        return NameEvidence(0.0, 0.0, 0.0)
    known = given_names()
    shaped = hits = unreadable = 0
    for v in values:
        words = name_words(v)
        if words is None:
            continue
        shaped += 1
        first = re.split(r"[-'’]", words[0])[0]
        hits += bool(spellings(first) & known)
        unreadable += not readable(first)
    n = len(values)
    return NameEvidence(shaped / n, hits / n, unreadable / n)


def name_share(values: list[str]) -> tuple[float, float]:
    """(share of values shaped like names, share of values that start with a known given name)."""
    e = name_evidence(values)
    return e.shaped, e.hits
