"""``microseg.toml``: data sources, ``as_of``, methods, microsegments, privacy and release.

Validated with pydantic; every error names the key (``methods[1].params.threshold``).
"""
from __future__ import annotations

import hashlib
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from microseg.errors import ConfigError
from microseg.privacy.policy import PrivacyPolicy
from microseg.quality import QualityPolicy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    """Where a table comes from, and how to read it."""

    path: str | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    format: Literal["csv", "parquet"] | None = None
    sep: str | None = None
    header: bool = True
    names: list[str] | None = None
    encoding: str | None = None
    na_values: list[str] = Field(default_factory=list)
    date_format: str | None = None
    dayfirst: bool = False
    customer_id: str | None = None

    @model_validator(mode="after")
    def _one_location(self) -> "SourceConfig":
        if bool(self.path) == bool(self.url):
            raise ValueError("give exactly one of 'path' (a CSV/Parquet file) or 'url' (SQLAlchemy URL)")
        if self.url and bool(self.table) == bool(self.query):
            raise ValueError("with 'url', give exactly one of 'table' or 'query'")
        return self


class CustomersSource(SourceConfig):
    signup_date: str | None = None
    dates: list[str] = Field(default_factory=list)


class TransactionsSource(SourceConfig):
    timestamp: str
    amount: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    invoice: str | None = None
    channel: str | None = None
    category: str | None = None
    attributes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _amount(self) -> "TransactionsSource":
        if not self.customer_id:
            raise ValueError("'customer_id' is required for transactions")
        if bool(self.amount) == bool(self.quantity and self.unit_price):
            raise ValueError("give 'amount', or both 'quantity' and 'unit_price' (amount = quantity x unit_price)")
        return self


class EventsSource(SourceConfig):
    timestamp: str | None = None
    channel: str | None = None
    responded: str | None = None
    campaign: str | None = None
    treatment: str | None = None
    treatment_value: str | None = None
    control_value: str | None = None

    @model_validator(mode="after")
    def _need_id(self) -> "EventsSource":
        if not self.customer_id:
            raise ValueError("'customer_id' is required for events")
        return self


class Sources(_Strict):
    customers: CustomersSource | None = None
    transactions: TransactionsSource | None = None
    events: EventsSource | None = None

    @model_validator(mode="after")
    def _some(self) -> "Sources":
        if self.customers is None and self.transactions is None:
            raise ValueError("give [sources.customers] or [sources.transactions] (or both)")
        return self


class MethodConfig(_Strict):
    """One method instance: ``id`` names it in microsegments and outputs."""

    id: str | None = None
    method: str
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def instance_id(self) -> str:
        return self.id or self.method


class MicrosegmentConfig(_Strict):
    """Cross the labels of these method instances, coarse to fine (parent = drop the last)."""

    dimensions: list[str] = Field(default_factory=list)
    separator: str = " × "


class ReleaseConfig(_Strict):
    customer_ids: Literal["pseudonym", "original", "none"] = "pseudonym"
    include_scores: bool = False
    score_bands: int = Field(4, ge=2, le=16)
    attributes: list[str] = Field(default_factory=list)
    families: list[str] | None = None


class StoreConfig(_Strict):
    url: str | None = None
    connect_timeout: float | None = Field(None, gt=0)   # seconds; see microseg.store.connect
    busy_timeout: float | None = Field(None, gt=0)


class Config(_Strict):
    as_of: date | datetime | None = None
    sources: Sources
    methods: list[MethodConfig] = Field(default_factory=list)
    microsegments: MicrosegmentConfig = Field(default_factory=MicrosegmentConfig)
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)
    quality: QualityPolicy = Field(default_factory=QualityPolicy)
    store: StoreConfig = Field(default_factory=StoreConfig)
    plugins: list[str] = Field(default_factory=list)
    engine: Literal["pandas", "dask"] = "pandas"

    #: folder relative paths are resolved against (the config file's folder)
    base_dir: Path = Field(default=Path("."), exclude=True)
    source_text: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _ids(self) -> "Config":
        seen: set[str] = set()
        for i, m in enumerate(self.methods):
            if m.instance_id in seen:
                raise ValueError(f"methods[{i}]: duplicate method id {m.instance_id!r}; give each instance its own 'id'")
            seen.add(m.instance_id)
        for d in self.microsegments.dimensions:
            if d not in seen:
                raise ValueError(f"microsegments.dimensions: {d!r} is not the id of a method in [[methods]]")
        return self

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def digest(self) -> str:
        return hashlib.sha256(self.source_text.encode()).hexdigest()


def _key_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith(("function-", "tagged-union")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_config(text: str, *, base_dir: Path = Path("."), source: str = "microseg.toml") -> Config:
    """Parse and validate config text; errors are :class:`ConfigError` naming the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(msg, key=_key_of(err["loc"]) or None, source=source) from None
    cfg.base_dir = base_dir
    cfg.source_text = text
    return cfg


def load_config(path: str | Path) -> Config:
    """Read ``microseg.toml`` (or another file)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    return parse_config(p.read_text(encoding="utf-8"), base_dir=p.resolve().parent, source=str(p))
