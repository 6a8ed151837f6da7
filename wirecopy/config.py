"""Effective configuration: defaults < wirecopy.toml < environment (WIRECOPY_*, nested with `__`) < CLI flags.

The TOML file is `./wirecopy.toml` when it exists, or the path in `$WIRECOPY_CONFIG`, which must exist (set it
empty to read no file). Examples::

    WIRECOPY_DB=/data/warehouse.duckdb
    WIRECOPY_INBOX__DIR=/data/inbox            WIRECOPY_INBOX__SETTLE_SECONDS=10
    WIRECOPY_SCHEDULES__INBOX="*/5 * * * *"    WIRECOPY_SCHEDULES__FEEDS=off
    WIRECOPY_FEEDS="https://a.example/rss, https://b.example/atom.xml"   (or a JSON list)
    WIRECOPY_COMPUTE__ENGINE=dask  WIRECOPY_COMPUTE__WORKERS=4  WIRECOPY_COMPUTE__ADDRESS=tcp://10.0.0.5:8786
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from wirecopy.cleaning.learned import BoilerplateSettings
from wirecopy.connectors.http import FetchPolicy
from wirecopy.dedup.settings import DedupSettings
from wirecopy.schedules import Schedule, parse_schedule

CONFIG_ENV = "WIRECOPY_CONFIG"
DEFAULT_CONFIG = "wirecopy.toml"


class ConfigError(ValueError):
    """Configuration could not be read or is invalid; the message says which setting and why."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InboxSettings(_Section):
    dir: Path = Field(Path("inbox"), description="directory watched by the ingest-inbox deployment")
    settle_seconds: float = Field(
        30.0, ge=0, description="a file is picked up only when unmodified for this long (half-written files wait)"
    )
    max_files: int = Field(1000, ge=1, description="files per run at most; the rest wait for the next run")
    ignore: tuple[str, ...] = Field(
        ("*.part", "*.partial", "*.tmp", "*.crdownload", "*.download", "*.swp", "*~"),
        description="file-name globs never picked up (temporary names of files being written)",
    )


class ScheduleSettings(_Section):
    inbox: str = Field("*/15 * * * *", description="ingest-inbox: cron, interval ('30s', '10m') or 'off'")
    feeds: str = Field("0 * * * *", description="ingest-feeds: cron, interval or 'off'")
    timezone: str = Field("UTC", description="time zone of the cron expressions")

    @field_validator("inbox", "feeds")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def parsed(self, name: str) -> Schedule | None:
        return parse_schedule(getattr(self, name))


class FetchSettings(FetchPolicy):
    """How URLs are fetched: the connector's FetchPolicy plus the flow's retry and feed limits.

    Private/loopback addresses are refused unless `allow_private_addresses` is true or the address lies in
    `allowed_private_networks` (e.g. WIRECOPY_FETCH__ALLOWED_PRIVATE_NETWORKS='["127.0.0.1/32"]').
    """

    retries: int = Field(2, ge=0, description="retries of a retryable fetch failure (5xx, 429, timeouts)")
    retry_delay_seconds: float = Field(2.0, ge=0, description="first retry delay; doubles on each retry")
    max_feed_entries: int = Field(100, ge=1, description="article links taken from one RSS/Atom feed")

    def policy(self) -> FetchPolicy:
        return FetchPolicy(**self.model_dump(include=set(FetchPolicy.model_fields)))


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="`wirecopy server` binds the Prefect API/UI here (loopback only)")
    port: int = Field(4200, ge=1, le=65535, description="port of the Prefect API/UI")
    startup_timeout_seconds: float = Field(90.0, gt=0, description="how long to wait for the Prefect server")
    poll_seconds: float = Field(5.0, gt=0, description="how often served deployments look for due runs")
    limit: int | None = Field(None, ge=1, description="flow runs executed at once by `wirecopy server` (none: no cap)")
    keep_runs_days: float = Field(
        30.0,
        ge=0,
        description="flow runs that ended longer ago are deleted from the Prefect server's database, with their "
        "logs and artifacts, once an hour (0: keep every run); the warehouse's own `ingest_runs` are never deleted",
    )

    @field_validator("keep_runs_days")
    @classmethod
    def _at_least_an_hour(cls, value: float) -> float:
        if 0 < value < 1 / 24:
            raise ValueError("keep at least an hour of runs (Prefect's minimum), or 0 to keep every run")
        return value

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value != "localhost":
            try:
                loopback = ipaddress.ip_address(value).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ValueError(f"{value!r} is not a loopback address: the Prefect server has no authentication")
        return value

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api"


class ComputeSettings(_Section):
    """Where the stateless stages (read → skip stored → clean) run; the single writer stays in the flow's process.

    `local`: a pool of `workers` processes on this machine (Prefect's ProcessPoolTaskRunner). `dask`: Prefect's
    DaskTaskRunner on a `distributed.LocalCluster` of `workers` processes, or on the scheduler at `address`
    (`tcp://host:8786`). A run of one batch prepares it in the flow's process: a pool would only cost its start.
    """

    engine: Literal["local", "dask"] = Field("local", description="local process pool or Dask")
    workers: int | None = Field(
        None, ge=1, description="worker processes (local, or the LocalCluster's); none: one per CPU but the writer's"
    )
    address: str | None = Field(None, description="dask: scheduler address of an existing cluster (tcp://host:8786)")
    queue_batches: int | None = Field(
        None, ge=1, description="prepared batches in flight ahead of the writer at most; none: workers + 1"
    )

    @field_validator("address")
    @classmethod
    def _scheduler_address(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(f"{value!r} is not a scheduler address like tcp://host:8786")
        return value

    def worker_count(self) -> int:
        """`workers`, else one per CPU but one: the flow's own process, the writer, keeps a core busy."""
        return self.workers or max(1, (os.cpu_count() or 1) - 1)

    def in_flight(self) -> int:
        return self.queue_batches or self.worker_count() + 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WIRECOPY_", env_nested_delimiter="__", extra="forbid")

    db: Path = Field(Path("warehouse.duckdb"), description="DuckDB warehouse file")
    lock_wait_seconds: float = Field(120.0, gt=0, description="how long an ingest waits for the warehouse")
    sql_wait_seconds: float = Field(
        10.0,
        ge=0,
        description="how long `wirecopy sql|stats|runs` wait while another program holds the file read-write",
    )
    max_file_bytes: int = Field(20_000_000, gt=0, description="larger input files are refused")
    file_mode: str = Field(
        "0600",
        description="mode of the warehouse files wirecopy creates: 0600 (owner only) or 0640 (group may read); "
        "the writer's folder gets 0700 or 0750",
    )
    follow_symlinks_outside_root: bool = Field(
        False,
        description="read symlinks in an input folder, glob or the inbox that point outside it (default: refused "
        "with an error row)",
    )
    batch_files: int = Field(500, ge=1, description="files read, cleaned and loaded per warehouse transaction")
    batch_bytes: int = Field(
        8_000_000, ge=1, description="input bytes per warehouse transaction (a larger file goes alone)"
    )
    """8 MB: at a million paragraphs the ingest's peak RSS (flow + one worker) is 994 MB against 1,350 MB with
    16 MB, for 7 % more wall time (more commits); at 100k it is as fast or faster (docs/scaling.md)."""
    ingest_memory_limit: str = Field("48MB", description="DuckDB buffer pool of an ingest's connections")
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="RSS/Atom feed URLs ingested by the ingest-feeds deployment"
    )
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    schedules: ScheduleSettings = Field(default_factory=ScheduleSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    boilerplate: BoilerplateSettings = Field(default_factory=BoilerplateSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)

    @model_validator(mode="after")
    def _pool_holds_a_batch(self) -> Settings:
        """A file larger than `batch_bytes` goes into a transaction alone: DuckDB's pool must hold its rows, about
        1.5 times the input bytes (a 100 MB batch of HTML failed with a 64 MB pool, 40 MB passed; a 50 MB file
        failed with 48 MB; docs/operations.md, "Memory")."""
        pool = memory_bytes(self.ingest_memory_limit)
        largest = max(self.batch_bytes, self.max_file_bytes)
        if pool is not None and pool < largest * 3 // 2:  # 40 MB passed with 64 MB; 50 MB failed with 48 MB
            need = -(-largest * 3 // 2 // 1_000_000)
            raise ValueError(
                f"ingest_memory_limit = {self.ingest_memory_limit!r} cannot hold one transaction of "
                f"max(batch_bytes, max_file_bytes) = {largest} bytes: set ingest_memory_limit to at least "
                f"'{need}MB', or lower max_file_bytes / batch_bytes"
            )
        return self

    @field_validator("file_mode")
    @classmethod
    def _valid_mode(cls, value: str) -> str:
        text = str(value).strip()
        try:
            bits = int(text, 8)
        except ValueError:
            raise ValueError(f"{value!r} is not an octal file mode such as 0600 or 0640") from None
        if bits & ~0o666 or bits & 0o600 != 0o600:
            raise ValueError(f"{value!r}: the owner must read and write, and no one execute (e.g. 0600, 0640)")
        return f"{bits:04o}"

    @property
    def file_mode_bits(self) -> int:
        return int(self.file_mode, 8)

    @field_validator("feeds", mode="before")
    @classmethod
    def _split_feeds(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.replace(",", " ").split() if part]
        return value

    @field_validator("feeds")
    @classmethod
    def _feeds_are_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path()))


_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}  # fmt: skip


def memory_bytes(text: str) -> int | None:
    """Bytes in a DuckDB memory setting ("48MB", "1GiB", "512 MB"); None for a form not understood here."""
    import re

    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if match is None or match.group(2).upper() not in _UNITS:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def config_path() -> Path | None:
    """The TOML file read: `$WIRECOPY_CONFIG` (None when set empty: no file), else `./wirecopy.toml` (read only if it
    exists)."""
    named = os.environ.get(CONFIG_ENV)
    if named is None:
        return Path(DEFAULT_CONFIG)
    return Path(named) if named.strip() else None


def _check_named_config() -> None:
    """A file named in `$WIRECOPY_CONFIG` must be there: a mistyped path would otherwise be ignored in silence."""
    path = config_path()
    if os.environ.get(CONFIG_ENV, "").strip() and (not path.exists() or path.is_dir()):  # /dev/null reads empty
        reason = "is a folder" if path.exists() else "does not exist"
        raise ConfigError(
            f"{CONFIG_ENV}={path} {reason} (unset it to read ./{DEFAULT_CONFIG}, or set it empty to read no file)"
        )


OTHER_ENV = frozenset({CONFIG_ENV, "WIRECOPY_CACHE_DIR"})
"""WIRECOPY_* variables that are not settings: the configuration file, the language model's cache."""


def _check_environment(environ: Mapping[str, str]) -> None:
    """A WIRECOPY_* variable naming no setting is an error naming it (pydantic-settings would ignore it: a mistyped
    WIRECOPY_SCHEDULE__INBOX would leave the schedule as it was, in silence)."""
    fields = set(Settings.model_fields)
    for key in sorted(environ):
        if not key.startswith("WIRECOPY_") or key in OTHER_ENV:
            continue
        top = key.removeprefix("WIRECOPY_").split("__")[0].lower()
        if top not in fields:
            close = difflib.get_close_matches(top, sorted(fields), n=1)
            hint = f" (did you mean WIRECOPY_{close[0].upper()}…?)" if close else ""
            raise ConfigError(f"invalid configuration: {key} names no setting{hint}; `wirecopy config` lists them")


def load_settings(**overrides) -> Settings:
    """Read the configuration, turning any failure into one readable line naming the setting (ConfigError)."""
    _check_named_config()
    _check_environment(os.environ)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        raise ConfigError(f"invalid configuration: {'; '.join(_problem(e) for e in error.errors())}") from error
    except (OSError, ValueError) as error:
        message = " ".join(str(error).split())
        source = f"WIRECOPY_* or {config_path()}" if config_path() else "WIRECOPY_*"
        raise ConfigError(f"cannot read configuration ({source}): {message}") from error


def _problem(error: dict) -> str:
    name = ".".join(str(p) for p in error["loc"]) or "config"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] in ("extra_forbidden", "missing") or isinstance(error.get("input"), dict):
        return f"{name}: {message}"
    shown = repr(error.get("input"))
    return f"{name} = {shown if len(shown) <= 60 else shown[:57] + '...'}: {message}"
