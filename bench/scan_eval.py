"""An independent evaluation set for the PII scan, generated with Faker.

Independent of the tests (which use hand-written values) and of the scan's own word lists (the
name lexicon comes from the US census, not from Faker): each *set* is a seed plus a mix of
Faker locales, and each table mixes

* personal columns — full names, **given names alone under harmless headers**, e-mails and
  phones under harmless headers, national ids, IBANs, card numbers, IPv4/IPv6 and MAC
  addresses, user names, birth dates, street addresses, cities, postcodes, free-text notes with
  personal data inside;
* business columns built to fool pattern recognizers — SKUs, order numbers (bare 9- and
  10-digit numbers too), prices as text, EAN-13 barcodes, ISBNs, ISO dates and timestamps of
  orders and events, version strings, campaign and coupon codes, tracking numbers, UUIDs,
  hashes, company names (full of surnames), colours, product words, durations, percentages,
  and decoys for the person-name evidence: **brand names** (a closed set per table: invented
  words, surnames, compounds, acronyms), **stores named after cities** (a chain's closed set of
  cities, bare or with a place word) and **catalogue product names** (every row a new product:
  a word of the locale, a product noun, often a size).

``TUNING`` and ``DEVELOPMENT`` are the sets the scan's thresholds were chosen on; ``HELD_OUT``
sets are reported. Held-out C was reported first and its misses (given names of Central and
Eastern European and Cyrillic locales) led to the names evidence of ``privacy/names.py``, so it
was looked at; D and E were added after that change. E's two misses (Devanagari and Thai vowel
signs cut names into pieces) led to marks being kept with their letters, so E was looked at; F
was added after that and never tuned on.
Ground truth: a column is personal (kind ≠ none) or not.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import pandas as pd

TUNING = ("tuning", 101, ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL"))
DEVELOPMENT = ("development", 707, ("bg_BG", "ka_GE", "hy_AM", "fa_IR", "bn_BD", "zh_TW", "lt_LT", "hr_HR", "az_AZ"))
HELD_OUT = (("held-out A", 202, ("en_GB", "pt_BR", "pl_PL", "sv_SE", "da_DK", "es_MX")),
            ("held-out B", 303, ("en_IE", "fr_CA", "de_AT", "cs_CZ", "fi_FI", "no_NO", "pt_PT")),
            ("held-out C", 404, ("ru_RU", "tr_TR", "fi_FI", "pl_PL", "cs_CZ", "hu_HU")),
            ("held-out D", 505, ("ja_JP", "zh_CN", "ko_KR", "el_GR", "uk_UA", "ar_AA")),
            ("held-out E", 606, ("hi_IN", "id_ID", "vi_VN", "th_TH", "he_IL")),
            ("held-out F", 808, ("ta_IN", "ne_NP", "ar_PS", "ro_RO", "sk_SK", "uz_UZ")))
#: every set in the order reported, with its role
SETS = ((*TUNING, "tuned on"), (*DEVELOPMENT, "tuned on"), (*HELD_OUT[0], "held out, looked at"), (*HELD_OUT[1], "held out"),
        (*HELD_OUT[2], "held out, looked at"), (*HELD_OUT[3], "held out, new"), (*HELD_OUT[4], "held out, looked at"),
        (*HELD_OUT[5], "held out, new"))


@dataclass
class Column:
    headers: tuple[str, ...]          # one is picked per table
    personal: bool
    make: Callable[["Gen"], object]   # one value


class Gen:
    """Values from one set's locale mix (each value from a random locale of the mix)."""

    def __init__(self, seed: int, locales: tuple[str, ...]) -> None:
        from faker import Faker
        self.rng = random.Random(seed)
        self.pools: dict[str, list[str]] = {}
        self.fakers = []
        for i, loc in enumerate(locales):
            f = Faker(loc)
            f.seed_instance(seed * 100 + i)
            self.fakers.append(f)

    @property
    def f(self):  # noqa: ANN201 - a Faker of a random locale of the mix
        return self.rng.choice(self.fakers)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def letters(self, n: int) -> str:
        return "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(n))

    def pool(self, name: str, make: Callable[["Gen"], str], size: int) -> str:
        """A value of a closed set of ``size`` values made once per table (``new_table``)."""
        if name not in self.pools:
            self.pools[name] = [make(self) for _ in range(size)]
        return self.rng.choice(self.pools[name])

    def new_table(self) -> None:
        self.pools: dict[str, list[str]] = {}


def _brand(g: Gen) -> str:
    """A brand name: an invented word, a surname, a compound, an acronym, or a word with a suffix."""
    word = g.f.word().capitalize()
    r = g.rng.random()
    if r < 0.25:
        return g.f.last_name()
    if r < 0.45:
        return f"{word}{g.f.word().capitalize()}"
    if r < 0.6:
        return g.letters(g.rng.choice([2, 3, 4]))
    if r < 0.8:
        return f"{word} {g.rng.choice(['Pro', 'Lab', 'Go', 'One', 'Max', 'Home', 'Sport'])}"
    return word


def _store(g: Gen) -> str:
    city = g.f.city()
    return city if g.rng.random() < 0.5 else f"{city} {g.rng.choice(['Central', 'Mall', 'Outlet', 'Station', 'Park'])}"


PRODUCT_NOUNS = ("Lamp", "Chair", "Kettle", "Jacket", "Backpack", "Sofa", "Blender", "Mug", "Sneakers", "Desk",
                 "Headphones", "Scarf", "Vase", "Rug", "Cushion", "Toaster")


def _product_name(g: Gen) -> str:
    size = g.rng.choice(["", "", f" {g.rng.randint(20, 200)} cm", f" {g.rng.choice(['S', 'M', 'L', 'XL'])}",
                         f" {g.rng.choice([250, 500, 750, 1000])} ml"])
    return f"{g.f.word().capitalize()} {g.rng.choice(PRODUCT_NOUNS)}{size}"


def _note(g: Gen) -> str:
    r = g.rng.random()
    if r < 0.25:
        return f"Customer asked to be called back on {g.f.phone_number()} after 5pm"
    if r < 0.4:
        return f"Send the invoice to {g.f.email()} instead"
    return g.rng.choice(["Delivered on time", "Left at the door", "Prefers evening delivery", "Gift wrap requested",
                         "Item out of stock, substituted", "Complained about packaging", "No remarks"])


PERSONAL = [
    Column(("customer_name", "full_name", "account_holder"), True, lambda g: g.f.name()),
    Column(("ref_a", "handler", "buddy", "attendee", "party", "col7", "greeting", "who"), True,
           lambda g: g.f.first_name()),
    Column(("given", "firstname", "vorname"), True, lambda g: g.f.first_name()),
    Column(("last_name", "surname", "family_name"), True, lambda g: g.f.last_name()),
    Column(("contact", "login_ref", "reach", "notify"), True, lambda g: g.f.email()),
    Column(("reach_at", "callback", "mobile", "tel"), True, lambda g: g.f.phone_number()),
    Column(("ssn", "national_id", "tax_id"), True, lambda g: g.f.ssn()),
    Column(("payout_account", "iban", "bank_ref"), True, lambda g: g.f.iban()),
    Column(("pan", "card_number", "cc"), True, lambda g: g.f.credit_card_number()),
    Column(("last_seen_from", "origin", "ip"), True, lambda g: g.f.ipv4()),
    Column(("src6", "ipv6_addr"), True, lambda g: g.f.ipv6()),
    Column(("device", "hw_addr", "mac"), True, lambda g: g.f.mac_address()),
    Column(("username", "handle", "login"), True, lambda g: g.f.user_name()),
    Column(("dob", "date_of_birth", "birthday"), True,
           lambda g: g.f.date_of_birth(minimum_age=18, maximum_age=90).isoformat()),
    Column(("street_address", "address_line1", "home_address"), True, lambda g: g.f.street_address()),
    Column(("city", "town", "home_city"), True, lambda g: g.f.city()),
    Column(("postcode", "zip", "postal_code"), True, lambda g: g.f.postcode()),
    Column(("remarks", "notes", "agent_comment"), True, _note),
]

BUSINESS = [
    Column(("sku", "article"), False, lambda g: f"{g.letters(3)}-{g.digits(5)}-{g.rng.choice(['S', 'M', 'L', 'XL'])}"),
    Column(("order_no", "order_ref"), False, lambda g: g.rng.choice([f"ORD-{g.digits(8)}", g.digits(9), g.digits(10)])),
    Column(("price", "unit_price_text"), False,
           lambda g: g.rng.choice([f"€{g.rng.randint(1, 2000)},{g.digits(2)}", f"${g.rng.randint(1, 999)}.{g.digits(2)}"])),
    Column(("barcode", "ean"), False, lambda g: g.f.ean13()),
    Column(("isbn",), False, lambda g: g.f.isbn13()),
    Column(("order_date", "shipped_on"), False,
           lambda g: g.f.date_between(start_date="-3y", end_date="today").isoformat()),
    Column(("event_ts", "created_at", "opened_at"), False,
           lambda g: g.f.date_time_between(start_date="-2y", end_date="now").isoformat(sep=g.rng.choice("T "))),
    Column(("app_version", "firmware"), False,
           lambda g: f"{g.rng.randint(1, 12)}.{g.rng.randint(0, 30)}.{g.rng.randint(0, 99)}"),
    Column(("campaign", "promo"), False,
           lambda g: f"{g.rng.choice(['SPRING', 'SUMMER', 'BF', 'XMAS'])}{g.rng.randint(20, 26)}-"
                     f"{g.rng.choice(['EM', 'SMS', 'PUSH'])}-{g.rng.randint(1, 20):02d}"),
    Column(("coupon",), False, lambda g: f"SAVE{g.rng.choice([5, 10, 15, 20])}-{g.letters(4)}"),
    Column(("tracking", "parcel_id"), False, lambda g: f"1Z{g.letters(3)}{g.digits(13)}"),
    Column(("txn_uuid", "event_uuid"), False, lambda g: g.f.uuid4()),
    Column(("checksum", "sha1"), False, lambda g: g.f.sha1()),
    Column(("supplier", "vendor"), False, lambda g: g.f.company()),
    Column(("colour", "color"), False, lambda g: g.f.color_name()),
    Column(("product", "item"), False,
           lambda g: f"{g.rng.choice(['Steel', 'Cotton', 'Oak', 'Glass', 'Wool'])} "
                     f"{g.rng.choice(['Chair', 'Lamp', 'Shirt', 'Mug', 'Desk', 'Scarf'])}"),
    Column(("status",), False, lambda g: g.rng.choice(["pending", "shipped", "delivered", "returned", "cancelled"])),
    Column(("duration", "call_length"), False,
           lambda g: f"{g.rng.randint(0, 2):02d}:{g.rng.randint(0, 59):02d}:{g.rng.randint(0, 59):02d}"),
    Column(("discount", "margin"), False, lambda g: f"{g.rng.randint(0, 60)}.{g.rng.randint(0, 9)}%"),
    Column(("store", "warehouse"), False, lambda g: f"ST-{g.rng.randint(1, 400):04d}"),
    Column(("file", "attachment"), False, lambda g: f"report_{g.rng.randint(2019, 2025)}_{g.rng.randint(1, 12):02d}.pdf"),
    Column(("brand", "label", "maker"), False, lambda g: g.pool("brand", _brand, 40)),
    Column(("store_name", "branch", "outlet"), False, lambda g: g.pool("store", _store, 25)),
    Column(("product_name", "title", "listing"), False, _product_name),
    Column(("quantity",), False, lambda g: g.rng.randint(1, 20)),
    Column(("amount",), False, lambda g: round(g.rng.lognormvariate(3, 1), 2)),
]


def make_tables(seed: int, locales: tuple[str, ...], n_tables: int = 3,
                rows: int = 300) -> list[tuple[pd.DataFrame, dict[str, bool]]]:
    """``n_tables`` tables, each with every column type once (under a random header), shuffled."""
    g = Gen(seed, locales)
    out = []
    for t in range(n_tables):
        g.new_table()
        cols, truth = {}, {}
        for spec in PERSONAL + BUSINESS:
            header = g.rng.choice(spec.headers)
            while header in cols:
                header += "_2"
            cols[header] = [spec.make(g) for _ in range(rows)]
            truth[header] = spec.personal
        order = list(cols)
        g.rng.shuffle(order)
        out.append((pd.DataFrame({c: cols[c] for c in order}), truth))
    return out


def evaluate(tables: list[tuple[pd.DataFrame, dict[str, bool]]], registry: object) -> dict[str, object]:
    """Column-level precision, recall, F1 of "personal" and the columns got wrong (no values)."""
    from microseg.privacy.scan import scan_frame
    tp = fp = fn = 0
    wrong: list[str] = []
    for i, (df, truth) in enumerate(tables):
        found = {f.column: f for f in scan_frame(df, registry=registry)}
        for col, personal in truth.items():
            said = found[col].kind != "none"
            tp += personal and said
            fp += said and not personal
            fn += personal and not said
            if said != personal:
                wrong.append(f"{'FP' if said else 'FN'} t{i}.{col} ({found[col].kind}/{found[col].entity})")
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "fp": fp, "fn": fn,
            "columns": tp + fp + fn + sum(1 for _, t in tables for v in t.values() if not v) - fp, "wrong": wrong}
