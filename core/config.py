"""``microseg.toml``: data sources, ``as_of``, methods, microsegments, privacy and release.

Validated with pydantic; every error names the key (``methods[1].params.threshold``).
"""
from __future__ import annotations

import hashlib
import re
import tomllib
import types
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from microseg.errors import ConfigError
from microseg.privacy.policy import PrivacyPolicy
from microseg.quality import QualityPolicy
from microseg.suggest import did_you_mean


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
                raise ValueError(f"microsegments.dimensions: {d!r} is not the id of a method in [[methods]]"
                                 + did_you_mean(d, seen))
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
        key, message = explain(exc.errors()[0])
        raise ConfigError(message, key=key, source=source) from None
    cfg.base_dir = base_dir
    cfg.source_text = text
    return cfg


def explain(err: Any, model: type[BaseModel] | None = None) -> tuple[str | None, str]:
    """One pydantic error as (the key at fault, what is wrong and what to do), in the config's words:
    an unknown key gets the closest known one, a missing key is named, a choice gets the closest."""
    loc = _config_loc(model or Config, tuple(err["loc"]))
    kind = err["type"]
    if kind == "extra_forbidden":
        *parent, name = loc
        known = _fields_at(model or Config, tuple(parent))
        return None, (f"unknown key {str(name)!r} in {_section(tuple(parent))}" + did_you_mean(str(name), known)
                      + (f" (its keys: {', '.join(known)})" if known else ""))
    if kind == "missing":
        *parent, name = loc
        return None, f"missing key {str(name)!r} in {_section(tuple(parent))}: it is required"
    msg = err["msg"].removeprefix("Value error, ")
    if kind.startswith(("date", "datetime")):
        msg += " (write a date as YYYY-MM-DD, or a date and time as YYYY-MM-DDTHH:MM:SS)"
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        msg += did_you_mean(str(err.get("input")), choices)
    return _key_of(loc) or None, msg


def _config_loc(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without pydantic's own parts (the member of a union it tried: ``as_of.date``)."""
    out: list[Any] = []
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            out.append(part)
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:                      # an unknown key: the rest is its own
                return (*out, *loc[len(out):])
            current = _model_in(field.annotation)
        elif typing.get_origin(current) in (list, dict) and typing.get_args(current):
            out.append(part)
            current = _model_in(typing.get_args(current)[-1])
        else:                                      # a scalar: what follows names a union member
            break
    return tuple(out)


def _section(loc: tuple[Any, ...]) -> str:
    """How a user finds a table: ``[privacy]``, ``[sources.customers]``, ``methods[0]``, the top level."""
    key = _key_of(loc)
    if not key:
        return "the top level of the config"
    return key if "[" in key else f"[{key}]"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts (empty when it cannot be told)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = next((a for a in typing.get_args(current) if a is not type(None)), None)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return []
        current = _model_in(current.model_fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [n for n, f in current.model_fields.items() if not f.exclude]
    return []


def _model_in(annotation: Any) -> Any:
    """The model (or ``list[model]``) inside an optional annotation."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


def load_config(path: str | Path) -> Config:
    """Read ``microseg.toml`` (or another file)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    return parse_config(p.read_text(encoding="utf-8"), base_dir=p.resolve().parent, source=str(p))
