"""Which outlet a file belongs to, and per-file metadata sidecars.

Rule (`outlet_for`), first match wins:

1. **Sidecar.** ``<file>.meta.json`` next to the file (e.g. ``a.txt.meta.json``) with an ``"outlet"`` key.
   The sidecar may also give ``title``, ``published_at`` (ISO 8601) and ``url``; unknown keys are errors.
2. **outlets.toml.** Look in the file's directory, then each parent up to and including the ingest
   `root` (only the file's own directory when there is no root). In each file found, nearest first::

       default = "ahram"              # optional: outlet for anything below this directory
       [outlets]                      # entries are tried in file order
       "reuters_*.txt" = "reuters"    # glob on the file name
       "afp" = "afp"                  # name (or glob) of a subdirectory on the way to the file
       "2024/*/bbc-*.html" = "bbc"    # glob on the path relative to the directory of outlets.toml

   The first ``[outlets]`` entry that matches wins; if none does, that file's ``default`` wins; if it
   has no default the search continues in the next parent. Globs are case-sensitive ``fnmatch``
   patterns (``*`` also crosses ``/`` in relative paths).
3. **Directory.** When the file lies in a subdirectory of `root`, the outlet is the name of the
   top-level subdirectory below the root: ``root/outlet_x/file.txt`` and ``root/outlet_x/2024/file.txt``
   both give ``"outlet_x"``.
4. **Stem.** Otherwise (file directly in `root`, or no root) the file's stem: ``seeds/000_ab.txt`` with
   root ``seeds/`` gives ``"000_ab"``.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from wirecopy.models import RawDocument

OUTLETS_FILE = "outlets.toml"
SIDECAR_SUFFIX = ".meta.json"


class MetadataError(ValueError):
    """An outlets.toml or a sidecar file is malformed."""


class FileMeta(BaseModel):
    """Contents of a ``<file>.meta.json`` sidecar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outlet: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    url: str | None = None

    @field_validator("published_at")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class _OutletTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str | None = None
    outlets: dict[str, str] = {}


def sidecar_path(path: Path) -> Path:
    """Where the metadata sidecar of `path` would be."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> FileMeta | None:
    """The sidecar metadata of `path`, None when there is none; raises MetadataError when malformed."""
    meta_path = sidecar_path(path)
    if not meta_path.is_file():
        return None
    try:
        return FileMeta.model_validate(json.loads(meta_path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        raise MetadataError(f"invalid sidecar {meta_path}: {_short(exc)}") from exc


def outlet_for(path: Path, *, root: Path | None) -> str:
    """The outlet name of the file at `path` (see the module docstring for the rule)."""
    path = Path(path).absolute()
    root = Path(root).absolute() if root is not None else None
    meta = read_sidecar(path)
    if meta is not None and meta.outlet and meta.outlet.strip():
        return meta.outlet.strip()
    for directory in _directories_up_to_root(path, root):
        table = _load_table(directory / OUTLETS_FILE)
        if table is None:
            continue
        outlet = _match_table(table, path.relative_to(directory))
        if outlet:
            return outlet
    if root is not None and path.is_relative_to(root):
        relative = path.relative_to(root)
        if len(relative.parts) >= 2:
            return relative.parts[0]
    return path.stem


def with_outlet(raw: RawDocument, outlet: str | None) -> RawDocument:
    """`raw` recorded under `outlet` (`wirecopy ingest --outlet NAME`), unchanged when `outlet` is None."""
    if outlet is None or raw.outlet == outlet:
        return raw
    return raw.model_copy(update={"outlet": outlet})


def _directories_up_to_root(path: Path, root: Path | None) -> list[Path]:
    directory = path.parent
    if root is None or not directory.is_relative_to(root):
        return [directory]
    chain = [directory]
    while directory != root:
        directory = directory.parent
        chain.append(directory)
    return chain


def _match_table(table: _OutletTable, relative: Path) -> str | None:
    posix = relative.as_posix()
    subdirectories = relative.parts[:-1]
    for pattern, outlet in table.outlets.items():
        if "/" in pattern:
            matched = fnmatchcase(posix, pattern.rstrip("/")) or fnmatchcase(posix, pattern.rstrip("/") + "/*")
        else:
            matched = fnmatchcase(relative.name, pattern) or any(fnmatchcase(part, pattern) for part in subdirectories)
        if matched:
            return outlet
    return table.default


def _load_table(toml_path: Path) -> _OutletTable | None:
    try:
        stat = toml_path.stat()
    except OSError:
        return None
    return _parse_table(toml_path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _parse_table(toml_path: Path, _mtime_ns: int, _size: int) -> _OutletTable:
    try:
        with toml_path.open("rb") as handle:
            table = _OutletTable.model_validate(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise MetadataError(f"invalid {toml_path}: {_short(exc)}") from exc
    if any(not name.strip() for name in [*table.outlets.values(), table.default or "x"]):
        raise MetadataError(f"invalid {toml_path}: outlet names must not be empty")
    return table


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, err['loc'])) or 'value'}: {err['msg']}" for err in exc.errors())
    return str(exc)
