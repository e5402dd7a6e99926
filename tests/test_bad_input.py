"""The bad-input table: one row per way a user's files, config or plugins can be wrong.

Every row runs a real CLI command (in process through click's CliRunner; four of them again in a
real ``python -m microseg`` process) on a small shop whose files carry planted personal values,
and asserts the error contract of docs/reliability.md:

* the exit code: 2 for bad input (or 0 where proceeding is the documented behaviour, e.g.
  negative amounts are returns and count as net spend: then a complete run is stored);
* the message contains the words given (the file, column, row, key or plugin at fault, AND what
  to do about it);
* no ``Traceback`` (``--debug`` shows one, checked for a few rows);
* no planted personal value (an e-mail, a name) anywhere in the output;
* the store byte for byte unchanged (sha256 of the SQLite file), and no store file created when
  the store did not exist.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from microseg.cli import cli

PLANT_EMAIL = "zelda.plantagenet@secret-mail.example"
PLANT_NAME = "Zelda Plantagenet"
PLANTED = (PLANT_EMAIL, PLANT_NAME, "Plantagenet")
N_CUSTOMERS = 240


# ----------------------------------------------------------------------------------- the shop
@dataclass
class Shop:
    """A folder with customers.csv, transactions.csv and a config (as a dict, written as TOML)."""

    folder: Path
    customers: pd.DataFrame
    transactions: pd.DataFrame
    config: dict[str, Any]
    raw_config: str | None = None               # written as it is instead of ``config``
    files: dict[str, bytes] = field(default_factory=dict)   # extra or replacing files, as bytes
    env: dict[str, str | None] = field(default_factory=dict)

    def write(self) -> Path:
        if "customers.csv" not in self.files:
            self.customers.to_csv(self.folder / "customers.csv", index=False)
        if "transactions.csv" not in self.files:
            self.transactions.to_csv(self.folder / "transactions.csv", index=False)
        for name, data in self.files.items():
            (self.folder / name).write_bytes(data)
        path = self.folder / "microseg.toml"
        path.write_text(self.raw_config if self.raw_config is not None else dump_toml(self.config), encoding="utf-8")
        return path

    def csv(self, frame: pd.DataFrame, **kw: Any) -> bytes:
        return frame.to_csv(index=False, **kw).encode(kw.get("encoding", "utf-8"))

    @property
    def customers_src(self) -> dict[str, Any]:
        return self.config["sources"]["customers"]

    @property
    def tx_src(self) -> dict[str, Any]:
        return self.config["sources"]["transactions"]

    def method(self, i: int = 0) -> dict[str, Any]:
        return self.config["methods"][i]


def make_shop(folder: Path, n: int = N_CUSTOMERS) -> Shop:
    rng = np.random.default_rng(14)
    ids = [f"C{i:04d}" for i in range(n)]
    customers = pd.DataFrame({
        "customer_id": ids,
        "name": [f"Person {i}" for i in range(n)],
        "email": [f"person{i}@mail.example" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "city": rng.choice(["Oslo", "Bergen", "Porto", "Lisbon"], n),
        "consent_marketing": rng.random(n) < 0.95,
        "signup_date": (pd.Timestamp("2024-01-01") - pd.to_timedelta(rng.integers(10, 700, n), unit="D"))
        .strftime("%Y-%m-%d"),
    })
    customers.loc[n // 2, ["name", "email"]] = [PLANT_NAME, PLANT_EMAIL]      # in every row's data
    rows = np.repeat(np.arange(n), rng.poisson(5, n) + 1)
    transactions = pd.DataFrame({
        "customer_id": np.array(ids)[rows],
        "ts": (pd.Timestamp("2025-01-01") - pd.to_timedelta(rng.integers(1, 500, len(rows)), unit="D"))
        .strftime("%Y-%m-%d"),
        "amount": np.round(rng.lognormal(3, 0.6, len(rows)), 2),
    })
    config: dict[str, Any] = {
        "as_of": "2025-01-01",
        "sources": {
            "customers": {"path": "customers.csv", "customer_id": "customer_id", "signup_date": "signup_date"},
            "transactions": {"path": "transactions.csv", "customer_id": "customer_id", "timestamp": "ts",
                             "amount": "amount"},
        },
        "methods": [
            {"id": "age", "method": "rules", "params": {"segments": [
                {"name": "Young", "when": "age < 35"}, {"name": "Middle", "when": "age < 55"}], "default": "Senior"}},
            {"method": "rfm"},
        ],
        "microsegments": {"dimensions": ["age"]},
        "privacy": {"min_segment_size": 10, "consent": {"marketing": "consent_marketing"}},
    }
    return Shop(folder, customers, transactions, config)


# ------------------------------------------------------------------------------ TOML, by hand
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dump_toml(config: dict[str, Any]) -> str:
    """Top-level scalars, then a table per dict and an array of tables per list of dicts."""
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in config.items()
             if not isinstance(v, dict) and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))]
    for k, v in config.items():
        if isinstance(v, dict):
            lines += [f"[{json.dumps(k)}]", *(f"{json.dumps(str(kk))} = {_toml_value(vv)}" for kk, vv in v.items())]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                lines += [f"[[{json.dumps(k)}]]", *(f"{json.dumps(str(kk))} = {_toml_value(vv)}"
                                                  for kk, vv in item.items())]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ plugin files
PLUGIN = '''"""A misbehaving method plugin for the bad-input table (fails as MODE says)."""
import pandas as pd
import microseg

MODE = {mode!r}
PLANT = {plant!r}
if MODE == "import":
    raise ImportError("the plugin needs the package 'acme_models', which is not installed")


class Flaky(microseg.SegmentationMethod):
    name = "flaky"

    def __init__(self, *, level: int = 1):
        self.level = level

    def fit(self, customers):
        if MODE == "fit":
            raise ValueError("cannot fit customer " + PLANT)
        self.n_ = len(customers)
        return None if MODE == "fit-none" else self

    def assign(self, customers):
        if MODE == "assign":
            raise KeyError(PLANT)
        if MODE == "assign-list":
            return ["all"] * len(customers)
        if MODE == "assign-index":
            return pd.Series("all", index=range(len(customers)))
        if MODE == "assign-missing":
            return pd.Series([None] * len(customers), index=customers.index, dtype=object)
        return pd.Series("all", index=customers.index)

    def scores(self, customers):
        if MODE == "scores":
            raise ZeroDivisionError(PLANT)
        if MODE == "scores-dict":
            return {{"score": 1.0}}
        if MODE == "scores-index":
            return pd.DataFrame({{"score": 1.0}}, index=range(3))
        return None

    def describe(self, label):
        if MODE == "describe":
            raise RuntimeError("no description for " + PLANT)
        if MODE == "describe-int":
            return 42
        return "every customer"

    def check_columns(self, columns):
        if MODE == "check-columns":
            raise AttributeError(PLANT)
        return []

    def report(self):
        if MODE == "report-set":
            return {{"seen": {{1, 2}}}}
        return {{}}


class Broken(microseg.SegmentationMethod):
    name = "rfm"


@microseg.hookimpl
def register_methods(register):
    register(Flaky)
    if MODE == "duplicate-name":
        register(Broken)
    if MODE == "not-a-method":
        register(object)


@microseg.hookimpl
def register_recognizers(register):
    if MODE == "recognizer":
        from presidio_analyzer import EntityRecognizer

        class Exploding(EntityRecognizer):
            def load(self):
                pass

            def analyze(self, text, entities, nlp_artifacts=None):
                raise ValueError("cannot read " + text)

        register(Exploding(supported_entities=["ACME_ID"], name="acme id recognizer"))
'''


def with_plugin(mode: str) -> Callable[[Shop], None]:
    def mutate(shop: Shop) -> None:
        shop.files["flaky_plugin.py"] = PLUGIN.format(mode=mode, plant=PLANT_EMAIL).encode()
        shop.config["plugins"] = ["flaky_plugin.py"]
        shop.config["methods"].append({"id": "flaky1", "method": "flaky"})
    return mutate


# ------------------------------------------------------------------------------ the mutations
def tx_csv(shop: Shop, frame: pd.DataFrame | None = None, **kw: Any) -> None:
    shop.files["transactions.csv"] = shop.csv(shop.transactions if frame is None else frame, **kw)


def cust_csv(shop: Shop, frame: pd.DataFrame | None = None, **kw: Any) -> None:
    shop.files["customers.csv"] = shop.csv(shop.customers if frame is None else frame, **kw)


def plant_name(shop: Shop) -> None:
    """A non-ASCII city and the planted name in the customers file (encoding cases)."""
    shop.customers.loc[3, "name"] = PLANT_NAME
    shop.customers.loc[4, "city"] = "Tromsø"


def set_cell(table: str, column: str, row: int, value: Any) -> Callable[[Shop], None]:
    """Set one cell of ``table`` ("transactions" or "customers") and rewrite its file."""
    def mutate(shop: Shop) -> None:
        frame = getattr(shop, table).astype({column: object})
        frame.loc[row, column] = value
        setattr(shop, table, frame)
        shop.files[f"{table}.csv"] = shop.csv(frame)
    return mutate


def set_tx(column: str, row: int, value: Any) -> Callable[[Shop], None]:
    return set_cell("transactions", column, row, value)


def set_cust(column: str, row: int, value: Any) -> Callable[[Shop], None]:
    return set_cell("customers", column, row, value)


def cfg(path: str, value: Any) -> Callable[[Shop], None]:
    """Set a config key by a dotted path (``methods.0.params.mode``); value ``DELETE`` removes it."""
    def mutate(shop: Shop) -> None:
        node: Any = shop.config
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        last = parts[-1]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


DELETE = object()


def both(*mutations: Callable[[Shop], None]) -> Callable[[Shop], None]:
    def mutate(shop: Shop) -> None:
        for m in mutations:
            m(shop)
    return mutate


def clusters(**params: Any) -> Callable[[Shop], None]:
    return cfg("methods.1", {"method": "clusters", "params": {"sample_size": 500, "n_bootstrap": 1, **params}})


def clv(**params: Any) -> Callable[[Shop], None]:
    return cfg("methods.1", {"id": "decline", "method": "clv-decline", "params": params})


def rules_when(when: str) -> Callable[[Shop], None]:
    return cfg("methods.0.params.segments", [{"name": "Young", "when": when}])


def truncated_gz(shop: Shop) -> None:
    whole = gzip.compress(shop.csv(shop.transactions))
    shop.files["transactions.csv.gz"] = whole[: len(whole) // 2]
    shop.tx_src["path"] = "transactions.csv.gz"


def corrupt_gz(shop: Shop) -> None:
    whole = bytearray(gzip.compress(shop.csv(shop.transactions)))
    whole[len(whole) // 2: len(whole) // 2 + 64] = b"\x00" * 64
    shop.files["transactions.csv.gz"] = bytes(whole)
    shop.tx_src["path"] = "transactions.csv.gz"


def not_gz(shop: Shop) -> None:
    shop.files["transactions.csv.gz"] = shop.csv(shop.transactions)
    shop.tx_src["path"] = "transactions.csv.gz"


def binary_customers(shop: Shop) -> None:
    rng = np.random.default_rng(1)
    shop.files["customers.csv"] = b"\x89PNG\r\n\x1a\n\x00\x00" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()


def garbage_parquet(shop: Shop) -> None:
    shop.files["customers.parquet"] = b"PAR1 this is not really parquet " + PLANT_EMAIL.encode()
    shop.customers_src["path"] = "customers.parquet"


def duplicate_column(shop: Shop) -> None:
    text = shop.csv(shop.customers).decode()
    header, rest = text.split("\n", 1)
    shop.files["customers.csv"] = (header.replace("city", "age") + "\n" + rest).encode()


def semicolons(shop: Shop) -> None:
    cust_csv(shop, sep=";")


def wide_table(shop: Shop) -> None:
    rng = np.random.default_rng(3)
    extra = pd.DataFrame(rng.integers(0, 5, (len(shop.customers), 600)),
                         columns=[f"survey_q{i}" for i in range(600)])
    cust_csv(shop, pd.concat([shop.customers, extra], axis=1))


def single_customer(shop: Shop) -> None:
    shop.customers = shop.customers.head(1)
    shop.transactions = shop.transactions[shop.transactions.customer_id == "C0000"]


def no_key(shop: Shop) -> None:
    shop.env["MICROSEG_KEY"] = None


def unknown_tx_customers(shop: Shop) -> None:
    tx = shop.transactions.copy()
    tx.loc[:9, "customer_id"] = [f"X{i}" for i in range(10)]
    tx_csv(shop, tx)


def events(shop: Shop, unknown: bool = False) -> None:
    rng = np.random.default_rng(5)
    ids = list(shop.customers.customer_id) + ([f"X{i}" for i in range(10)] if unknown else [])
    ev = pd.DataFrame({"customer_id": ids, "ts": "2024-10-01", "channel": rng.choice(["email", "sms"], len(ids)),
                       "responded": rng.choice(["yes", "no"], len(ids))})
    shop.files["events.csv"] = shop.csv(ev)
    shop.config["sources"]["events"] = {"path": "events.csv", "customer_id": "customer_id", "timestamp": "ts",
                                        "channel": "channel", "responded": "responded"}


def mixed_dates(shop: Shop) -> None:
    tx = shop.transactions.copy()
    tx.loc[5:, "ts"] = pd.to_datetime(tx.loc[5:, "ts"]).dt.strftime("%d/%m/%Y %H:%M")
    tx_csv(shop, tx)


def to_file(name: str, text: str) -> Callable[[Shop], None]:
    def mutate(shop: Shop) -> None:
        shop.files[name] = text.encode()
    return mutate


def scan_file_of(name: str) -> Callable[[Shop], list[str]]:
    return lambda shop: ["scan", str(shop.folder / name)]


# ------------------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Case:
    """One row: what to break, the command, the exit code, the words the message must hold."""

    id: str
    mutate: Callable[[Shop], None]
    words: tuple[str, ...]
    exit: int = 2
    command: str = "run"              # run, check, scan (scan: the mutation's file), or a custom arg list
    args: Callable[[Shop], list[str]] | None = None
    stored: bool = False              # documented to proceed: a complete run is stored
    why: str = ""                     # the documented behaviour, for the rows that proceed
    needs_run: bool = False           # the command reads a stored run: always start from the seeded store


def _none(shop: Shop) -> None:
    pass


CASES: list[Case] = [
    # -------- files
    Case("customers file missing", cfg("sources.customers.path", "customerz.csv"),
         ("customerz.csv", "not found", "path")),
    Case("transactions file missing", lambda s: s.tx_src.update(path="data/tx.csv"), ("tx.csv", "not found")),
    Case("folder without data files", both(lambda s: (s.folder / "empty").mkdir(), cfg("sources.customers.path",
                                                                                         "empty")),
         ("empty", "no data file")),
    Case("binary file", binary_customers, ("customers.csv", "binary", "CSV")),
    Case("garbage parquet", garbage_parquet, ("customers.parquet", "Parquet")),
    Case("truncated gz", truncated_gz, ("transactions.csv.gz", "truncated", "compress")),
    Case("corrupt gz", corrupt_gz, ("transactions.csv.gz", "gzip")),
    Case("plain text named .gz", not_gz, ("transactions.csv.gz", "gzip")),
    Case("semicolon file, comma config", semicolons, ("customers.csv", "sep = ';'")),
    Case("comma file, semicolon config", cfg("sources.customers.sep", ";"), ("customers.csv", "sep")),
    Case("latin-1 file read as utf-8", both(plant_name, lambda s: cust_csv(s, encoding="latin-1")),
         ("customers.csv", "not utf-8", "encoding = ")),
    Case("UTF-16 file", both(plant_name, lambda s: cust_csv(s, encoding="utf-16")),
         ("customers.csv", 'encoding = "utf-16"')),
    Case("UTF-16 file with encoding given", both(plant_name, lambda s: cust_csv(s, encoding="utf-16"),
                                                 cfg("sources.customers.encoding", "utf-16")),
         (), exit=0, stored=True, why="the configured encoding reads it"),
    Case("UTF-8 with BOM", both(plant_name, lambda s: cust_csv(s, encoding="utf-8-sig")), (), exit=0, stored=True,
         why="a UTF-8 byte-order mark is skipped"),
    Case("unknown encoding name", cfg("sources.customers.encoding", "utf-9"), ("utf-9", "encoding")),
    Case("empty customers file", to_file("customers.csv", ""), ("customers.csv", "empty")),
    Case("header only", to_file("transactions.csv", "customer_id,ts,amount\n"),
         ("transactions.csv", "no data rows")),
    Case("duplicate column names", duplicate_column, ("customers.csv", "'age'", "twice", "rename")),
    Case("missing mapped id column", cfg("sources.customers.customer_id", "customer_idd"),
         ("customers.csv", "customer_idd", "did you mean 'customer_id'", "signup_date")),
    Case("missing mapped timestamp", cfg("sources.transactions.timestamp", "date"),
         ("transactions.csv", "'date'", "customer_id, ts, amount")),
    Case("missing attribute column", cfg("sources.transactions.attributes", ["Country"]),
         ("transactions.csv", "'Country'", "the file has")),
    # -------- values
    Case("unparsable date", set_tx("ts", 7, PLANT_NAME), ("transactions.csv", "'ts'", "row 8", "date_format")),
    Case("mixed date formats", mixed_dates, ("transactions.csv", "'ts'", "row", "date_format")),
    Case("unparsable signup date", set_cust("signup_date", 2, PLANT_EMAIL),
         ("customers.csv", "'signup_date'", "row 3", "date_format")),
    Case("thousands separator", set_tx("amount", 4, "1,234.50"),
         ("transactions.csv", "'amount'", "row 5", "thousands separator")),
    Case("currency symbol", set_tx("amount", 6, "€12.50"), ("transactions.csv", "'amount'", "row 7", "currency")),
    Case("text amount", set_tx("amount", 6, PLANT_EMAIL), ("transactions.csv", "'amount'", "row 7", "number")),
    Case("empty amount", set_tx("amount", 2, None), ("transactions.csv", "'amount'", "row 3", "missing amount")),
    Case("NaN amount", set_tx("amount", 2, "NaN"), ("transactions.csv", "'amount'", "row 3")),
    Case("inf amount", set_tx("amount", 9, "inf"), ("transactions.csv", "'amount'", "row 10", "not finite")),
    Case("-inf amount", set_tx("amount", 11, "-inf"), ("transactions.csv", "'amount'", "row 12", "not finite")),
    Case("huge amount", set_tx("amount", 11, "1e400"), ("transactions.csv", "'amount'", "row 12", "not finite")),
    Case("bad row after rows without id", both(set_tx("customer_id", 3, None), set_tx("amount", 9, "inf")),
         ("transactions.csv", "'amount'", "row 10", "not finite")),
    Case("inf customer attribute", set_cust("age", 12, "inf"), ("customers.csv", "'age'", "row 13", "not finite")),
    Case("negative amounts", set_tx("amount", 3, -25.0), (), exit=0, stored=True,
         why="returns and cancellations are kept: net spend"),
    Case("zero amounts", lambda s: tx_csv(s, s.transactions.assign(amount=0.0)), (), exit=0, stored=True,
         why="zero-value lines (free samples) are purchases of no value"),
    Case("net negative customer", lambda s: tx_csv(s, s.transactions.assign(
        amount=np.where(s.transactions.customer_id == "C0001", -40.0, s.transactions.amount))), (), exit=0,
         stored=True, why="a customer whose returns exceed purchases has a negative monetary value"),
    Case("duplicate customer id", set_cust("customer_id", 5, "C0004"),
         ("customers.csv", "'customer_id'", "row 6", "duplicate customer id")),
    Case("duplicate planted id", lambda s: cust_csv(s, s.customers.assign(
        customer_id=[PLANT_EMAIL if i in (5, 6) else c for i, c in enumerate(s.customers.customer_id)])),
         ("customers.csv", "row 7", "duplicate customer id")),
    Case("missing customer id", set_cust("customer_id", 8, None),
         ("customers.csv", "'customer_id'", "row 9", "missing customer id")),
    Case("fractional numeric id", lambda s: cust_csv(s, s.customers.assign(customer_id=np.arange(len(s.customers))
                                                                          + 0.5)),
         ("customers.csv", "'customer_id'", "row 1", "whole number")),
    Case("unknown customers in transactions", unknown_tx_customers, (), exit=0, stored=True,
         why="rows of customers not in the customers table are dropped and counted (load statistics)"),
    Case("transactions without customer id", set_tx("customer_id", 3, None), (), exit=0, stored=True,
         why="rows without an id are dropped and counted"),
    Case("events of unknown customers", lambda s: events(s, unknown=True), (), exit=0, stored=True,
         why="events of customers not in the run are ignored"),
    Case("future timestamps", set_tx("ts", 1, "2031-05-05"), (), exit=0, stored=True,
         why="features use data strictly before as_of"),
    Case("as_of before the data", cfg("as_of", "2019-01-01"), ("as_of", "before the first transaction")),
    Case("as_of long after the data", cfg("as_of", "2031-01-01"), (), exit=0, stored=True,
         why="a reference date after the data is allowed (every customer is long inactive)"),
    Case("as_of not a date", cfg("as_of", "2025-13-45"), ("as_of", "date")),
    Case("horizon longer than the history", clv(horizon_days=4000), ("methods[1]", "horizon_days", "history")),
    Case("single customer", single_customer, (), exit=0, stored=True,
         why="a run of one customer is stored; the gate withholds every segment held by fewer than k customers"),
    Case("very wide table", wide_table, (), exit=0, stored=True, why="600 extra columns are read and scanned"),
    # -------- config: keys
    Case("config file missing", _none, ("nothere.toml", "not found"), args=lambda s: ["run", str(s.folder /
                                                                                                 "nothere.toml")]),
    Case("TOML syntax error", lambda s: setattr(s, "raw_config", "as_of = 2025-01-01\n[sources\n"),
         ("microseg.toml", "TOML", "line 2")),
    Case("unknown top-level key", cfg("methds", []), ("unknown key 'methds'", "did you mean 'methods'")),
    Case("unknown key in a source", cfg("sources.customers.customer_di", "x"),
         ("unknown key 'customer_di'", "sources.customers", "did you mean 'customer_id'")),
    Case("unknown source", cfg("sources.transaction", {"path": "transactions.csv"}),
         ("unknown key 'transaction'", "[sources]", "did you mean 'transactions'")),
    Case("unknown key in a method", cfg("methods.0.parms", {}), ("unknown key 'parms'", "methods[0]",
                                                                   "did you mean 'params'")),
    Case("unknown key in privacy", cfg("privacy.min_segment_sise", 5),
         ("unknown key 'min_segment_sise'", "[privacy]", "did you mean 'min_segment_size'")),
    Case("unknown key in release", cfg("release.include_score", True),
         ("unknown key 'include_score'", "[release]", "did you mean 'include_scores'")),
    Case("unknown key in microsegments", cfg("microsegments.dimension", ["age"]),
         ("unknown key 'dimension'", "[microsegments]", "did you mean 'dimensions'")),
    Case("unknown key in quality", cfg("quality.confidense", 0.9),
         ("unknown key 'confidense'", "[quality]", "did you mean 'confidence'")),
    Case("unknown key in store", cfg("store.uri", "x.db"), ("unknown key 'uri'", "[store]", "did you mean 'url'")),
    Case("missing required key", cfg("sources.transactions.timestamp", DELETE),
         ("sources.transactions", "'timestamp'", "missing")),
    Case("no sources", cfg("sources", {}), ("sources", "customers", "transactions")),
    Case("no methods", both(cfg("methods", []), cfg("microsegments.dimensions", [])), ("methods", "[[methods]]")),
    Case("unknown method", cfg("methods.1.method", "rmf"), ("methods[1].method", "'rmf'", "did you mean 'rfm'")),
    Case("unknown parameter", cfg("methods.0.params.segmnts", []),
         ("methods[0].params", "'segmnts'", "did you mean 'segments'")),
    Case("unknown engine", cfg("engine", "panda"), ("engine", "did you mean 'pandas'")),
    Case("unknown customer_ids choice", cfg("release.customer_ids", "pseudonyms"),
         ("release.customer_ids", "did you mean 'pseudonym'")),
    Case("unknown microsegment dimension", cfg("microsegments.dimensions", ["ag"]),
         ("microsegments.dimensions", "'ag'", "did you mean 'age'")),
    Case("k below 1", cfg("privacy.min_segment_size", 0), ("privacy.min_segment_size", "greater than or equal to 2")),
    Case("k not a number", cfg("privacy.min_segment_size", "ten"), ("privacy.min_segment_size", "integer")),
    Case("score bands out of range", cfg("release.score_bands", 40), ("release.score_bands", "16")),
    Case("no key", no_key, ("MICROSEG_KEY", "keygen")),
    # -------- config: method parameter types
    Case("int parameter given text", clusters(sample_size="many"),
         ("methods[1].params.sample_size", "integer", "clusters")),
    Case("int parameter given a float", clusters(n_bootstrap=2.5), ("methods[1].params.n_bootstrap", "integer")),
    Case("float parameter given text", clv(ratio="half"), ("methods[1].params.ratio", "number")),
    Case("bool parameter given text", clv(btyd="yes"), ("methods[1].params.btyd", "true or false")),
    Case("str choice misspelt", cfg("methods.0.params.mode", "mult"), ("methods[0]", "'mult'", "did you mean 'multi'")),
    Case("str parameter given a number", clusters(algorithm=3), ("methods[1].params.algorithm", "string")),
    Case("list parameter given text", clusters(features="recency_days"), ("methods[1].params.features", "list")),
    Case("list of wrong items", clusters(k_range=["a", "b"]), ("methods[1].params.k_range", "integer")),
    Case("segments not a list", cfg("methods.0.params.segments", "age < 30"), ("methods[0].params.segments", "list")),
    Case("rule without when", cfg("methods.0.params.segments", [{"name": "Young"}]),
         ("methods[0]", "when")),
    # -------- config: rules and columns
    Case("rule syntax error", rules_when("age >> 30"), ("methods[0]", "Young", "position 6", "methods-rules.md")),
    Case("rule unterminated string", rules_when("city == 'Oslo"), ("methods[0]", "Young")),
    Case("rule unknown column", rules_when("agee < 30"), ("methods[0]", "'agee'", "did you mean 'age'")),
    Case("rule on a dropped column", rules_when("email == 'x'"), ("methods[0]", "'email'", "privacy.columns")),
    Case("rule code injection", rules_when("__import__('os').system('true')"), ("methods[0]", "Young")),
    Case("unknown release attribute", cfg("release.attributes", ["citty"]),
         ("release.attributes", "'citty'", "did you mean 'city'")),
    Case("unknown consent column", cfg("privacy.consent", {"marketing": "consent_marketin"}),
         ("privacy.consent.marketing", "'consent_marketin'", "customers table")),
    # -------- plugins
    Case("plugin file missing", cfg("plugins", ["nothere_plugin.py"]), ("nothere_plugin.py", "not found")),
    Case("plugin raises on import", with_plugin("import"), ("flaky_plugin.py", "acme_models")),
    Case("plugin syntax error", both(with_plugin("ok"), to_file("flaky_plugin.py", "def broken(:\n")),
         ("flaky_plugin.py", "line 1")),
    Case("plugin raises in fit", with_plugin("fit"), ("methods[2]", "'flaky1'", "flaky_plugin.py", "fit",
                                                      "ValueError", "--debug")),
    Case("fit does not return self", with_plugin("fit-none"), ("methods[2]", "'flaky1'", "return self")),
    Case("plugin raises in assign", with_plugin("assign"), ("methods[2]", "'flaky1'", "assign", "KeyError")),
    Case("assign returns a list", with_plugin("assign-list"), ("methods[2]", "'flaky1'", "pandas Series", "list")),
    Case("assign has the wrong index", with_plugin("assign-index"), ("methods[2]", "'flaky1'", "customer ids")),
    Case("assign returns missing labels", with_plugin("assign-missing"), ("methods[2]", "'flaky1'", "missing label")),
    Case("plugin raises in scores", with_plugin("scores"), ("methods[2]", "'flaky1'", "scores", "ZeroDivisionError")),
    Case("scores returns a dict", with_plugin("scores-dict"), ("methods[2]", "'flaky1'", "DataFrame", "dict")),
    Case("scores has the wrong index", with_plugin("scores-index"), ("methods[2]", "'flaky1'", "indexed")),
    Case("plugin raises in describe", with_plugin("describe"), ("methods[2]", "'flaky1'", "describe",
                                                                "RuntimeError")),
    Case("describe returns an int", with_plugin("describe-int"), ("methods[2]", "'flaky1'", "describe", "str")),
    Case("report not JSON", with_plugin("report-set"), ("methods[2]", "'flaky1'", "JSON")),
    Case("check_columns raises", with_plugin("check-columns"), ("methods[2]", "flaky1", "check_columns",
                                                                "AttributeError", "plugin")),
    Case("plugin method parameter of the wrong type", both(with_plugin("ok"), cfg("methods.2.params", {"level": "hi"})),
         ("methods[2].params.level", "integer", "flaky")),
    Case("plugin registers a duplicate name", with_plugin("duplicate-name"), ("'rfm'", "flaky_plugin.py")),
    Case("plugin registers a non-method", with_plugin("not-a-method"), ("flaky_plugin.py", "SegmentationMethod")),
    Case("recognizer raises", with_plugin("recognizer"), ("acme id recognizer", "flaky_plugin.py", "plugin")),
    # -------- other commands and the command line
    Case("check: truncated gz", truncated_gz, ("transactions.csv.gz", "truncated"), command="check"),
    Case("check: inf amount", set_tx("amount", 9, "inf"), ("transactions.csv", "'amount'", "row 10"), command="check"),
    Case("check: duplicate column", duplicate_column, ("customers.csv", "'age'"), command="check"),
    Case("scan: missing file", _none, ("nothere.csv", "not found"), args=scan_file_of("nothere.csv")),
    Case("scan: truncated gz", truncated_gz, ("transactions.csv.gz", "truncated"),
         args=scan_file_of("transactions.csv.gz")),
    Case("scan: binary file", binary_customers, ("customers.csv", "binary"), args=scan_file_of("customers.csv")),
    Case("scan: empty file", to_file("customers.csv", ""), ("customers.csv", "empty"),
         args=scan_file_of("customers.csv")),
    Case("export under a file", _none, ("--out", "customers.csv", "cannot write"),
         args=lambda s: ["export", "--out", str(s.folder / "customers.csv" / "x.csv"),
                         "--db", str(s.folder / "store.db")],
         needs_run=True),
    Case("unknown option", _none, ("--dbb", "did you mean", "--db"), args=lambda s: ["run", "--dbb", "x.db"]),
    Case("option choice misspelt", _none, ("--engine", "did you mean 'pandas'"),
         args=lambda s: ["run", str(s.folder / "microseg.toml"), "--engine", "panda"]),
    Case("report format misspelt", _none, ("--format", "did you mean 'html'"),
         args=lambda s: ["report", "--format", "htm", "--db", str(s.folder / "store.db")]),
    Case("unknown command", _none, ("'rn'", "did you mean 'run'"), args=lambda s: ["rn"]),
    Case("plugin option file missing", _none, ("nothere.py", "not found"),
         args=lambda s: ["--plugin", str(s.folder / "nothere.py"), "plugins"]),
]

DEBUG_CASES = {"truncated gz", "inf amount", "plugin raises in fit", "int parameter given text"}
SUBPROCESS_CASES = ["truncated gz", "inf amount", "plugin raises in fit", "unknown key in a source"]


# ------------------------------------------------------------------------------ running a row
@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one good run of the shop: each row starts from a copy of it."""
    folder = tmp_path_factory.mktemp("seed")
    shop = make_shop(folder)
    config = shop.write()
    db = folder / "store.db"
    result = CliRunner().invoke(cli, ["run", str(config), "--db", str(db), "--no-report"],
                                env={"MICROSEG_KEY": "test-key-0123456789abcdef"})
    assert result.exit_code == 0, result.output
    import sqlite3
    seeded = folder / "seeded.db"                # one self-contained file (the run is still in the WAL)
    with sqlite3.connect(db) as src, sqlite3.connect(seeded) as dst:
        src.backup(dst)
    return seeded


def sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def prepare(case: Case, folder: Path, seeded: Path, new_store: bool) -> tuple[list[str], dict[str, str | None], Path]:
    shop = make_shop(folder)
    case.mutate(shop)
    config = shop.write()
    db = folder / "store.db"
    if not new_store:
        shutil.copyfile(seeded, db)
    if case.args is not None:
        args = case.args(shop)
    else:
        args = [case.command, str(config)] + (["--db", str(db), "--no-report"] if case.command == "run" else [])
    env = {"MICROSEG_KEY": "test-key-0123456789abcdef", "MICROSEG_DATABASE_URL": None, "MICROSEG_DEBUG": None,
           **shop.env}
    return args, env, db


def runs_in(db: Path) -> int:
    from microseg.store import Store
    return len(Store(f"sqlite:///{db}").runs())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, seeded_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    new_store = CASES.index(case) % 3 == 0 and not case.needs_run    # a third of the rows start without a store
    args, env, db = prepare(case, tmp_path, seeded_store, new_store)
    monkeypatch.chdir(tmp_path)
    before = sha(db)
    result = CliRunner().invoke(cli, args, env=env)
    out = result.output                                # standard output and standard error
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback
        out += "".join(traceback.format_exception(result.exception))
    assert result.exit_code == case.exit, out
    assert "Traceback" not in out, out
    for planted in PLANTED:
        assert planted not in out, f"personal value {planted!r} in the output:\n{out}"
    low = out.lower()
    for word in case.words:
        assert word.lower() in low, f"{word!r} not in:\n{out}"
    if case.stored:
        assert runs_in(db) == (1 if new_store else 2), out
    else:
        if not new_store:
            assert sha(db) == before, "the store changed"
        else:                                        # a failed first run leaves no empty store behind
            assert not db.exists(), "a store file was created"


def test_every_row_is_unique_and_the_table_is_large_enough() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 60
    assert all(c.why for c in CASES if c.stored), "a row that proceeds documents why"
    assert all(c.words for c in CASES if c.exit), "a refused row says which words the message holds"


@pytest.mark.parametrize("name", sorted(DEBUG_CASES))
def test_debug_shows_the_traceback(name: str, tmp_path: Path, seeded_store: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    case = next(c for c in CASES if c.id == name)
    args, env, _ = prepare(case, tmp_path, seeded_store, new_store=True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--debug", *args], env=env)
    assert result.exit_code != 0
    assert result.exception is not None and not isinstance(result.exception, SystemExit), result.output


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_a_real_process_keeps_the_contract(name: str, tmp_path: Path, seeded_store: Path) -> None:
    """The same rows through ``python -m microseg``: exit code, no traceback, no personal value."""
    case = next(c for c in CASES if c.id == name)
    args, env, db = prepare(case, tmp_path, seeded_store, new_store=False)
    before = sha(db)
    full_env = {k: v for k, v in os.environ.items() if k not in env} | {k: v for k, v in env.items() if v is not None}
    done = subprocess.run([sys.executable, "-m", "microseg", *args], capture_output=True, text=True, cwd=tmp_path,
                          env=full_env, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == case.exit, out
    assert "Traceback" not in out and not any(p in out for p in PLANTED), out
    assert all(w.lower() in out.lower() for w in case.words), out
    assert sha(db) == before


def test_an_internal_error_is_named_by_its_type_only() -> None:
    """A bug (not a microseg error) is exit 3 with its type, never its message (it may quote data)."""
    from microseg.cli import INTERNAL_ERROR, describe_failure
    message, code = describe_failure(RuntimeError(f"row of {PLANT_EMAIL}"))
    assert code == INTERNAL_ERROR == 3 and "RuntimeError" in message and "--debug" in message
    assert PLANT_EMAIL not in message
    message, code = describe_failure(PermissionError(13, "Permission denied", "/srv/out.csv"))
    assert code == 2 and message == "/srv/out.csv: Permission denied"


@pytest.mark.parametrize("value, annotation, problem", [
    (3, int, None), (True, int, "expected an integer, got true"), (2.0, float, None), (2, float, None),
    ("2", float, "expected a number, got text '2'"), (None, int | None, None), ("x", int | None, "expected an integer"),
    ([0.5, 0.8], tuple[float, float], None), ([0.5], tuple[float, float], "expected a list of 2 items, got 1"),
    ([1, "b"], list[int], "item 2: expected an integer, got text 'b'"), ("auto", int | str, None),
    ("gmn", Literal["minibatch-kmeans", "gmm"], "did you mean 'gmm'?"), ({"a": 1}, dict[str, Any], None),
    ("x", dict[str, Any], "expected a table"), ([3, 8], tuple[int, int] | list[int], None),
    (["a"], tuple[int, int] | list[int], "item 1: expected an integer, got text 'a'"), (object(), Shop, None),
])
def test_parameter_values_are_judged_by_their_annotation(value: Any, annotation: Any, problem: str | None) -> None:
    from microseg.params import check_value
    got = check_value(value, annotation)
    assert (got is None) if problem is None else (problem in (got or "")), got
