"""Effective configuration: defaults < wirecopy.toml < environment (WIRECOPY_*, nested with `__`) < CLI flags."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from wirecopy.dedup.settings import DedupSettings


class ConfigError(ValueError):
    """Configuration could not be read or is invalid; the message says which setting and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WIRECOPY_", env_nested_delimiter="__", extra="forbid")

    db: Path = Field(Path("warehouse.duckdb"), description="DuckDB warehouse file")
    lock_wait_seconds: float = Field(120.0, gt=0, description="how long an ingest waits for the warehouse")
    max_file_bytes: int = Field(20_000_000, gt=0, description="larger input files are refused")
    dedup: DedupSettings = Field(default_factory=DedupSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("WIRECOPY_CONFIG", "wirecopy.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_path))


def load_settings(**overrides) -> Settings:
    """Read the configuration, turning validation failures into one readable ConfigError."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"invalid configuration: {problems}") from error
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read configuration: {error}") from error
