"""Expand source specs (files, directories, globs, URLs) into RawDocuments and IngestErrors.

Sources are processed in the order given; the files of a directory or glob in sorted order of their
path relative to the ingest root, so output order is deterministic. A file reached twice is read once.
The ingest root (for the outlet rule) is the directory itself, the glob's literal prefix
(``data/*/x.txt`` → ``data``), or none for a single file. Hidden files and directories,
``outlets.toml`` and ``*.meta.json`` sidecars are skipped. An http(s) URL is fetched with
`connectors.http.fetch_url`; when it is an RSS/Atom feed and `expand_feeds` is on, each entry's link
is fetched instead of yielding the feed. No exception escapes `iter_sources`.
"""

from __future__ import annotations

import glob as globlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from connectors.feeds import feed_entries, is_feed
from connectors.files import SourceLimits, is_ignored_name, read_file
from connectors.http import FetchError, FetchPolicy, fetch_url
from wirecopy.models import IngestError, RawDocument

logger = logging.getLogger(__name__)


def is_url(source: str) -> bool:
    """True for an ``http://`` or ``https://`` URL with a host."""
    parts = urlsplit(source.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def iter_sources(
    sources: list[str],
    *,
    limits: SourceLimits | None = None,
    policy: FetchPolicy | None = None,
    expand_feeds: bool = True,
    max_feed_entries: int = 100,
) -> Iterator[RawDocument | IngestError]:
    """Yield every document the sources contain, and an IngestError for everything that failed."""
    limits = limits or SourceLimits()
    seen: set[Path] = set()
    for source in sources:
        if is_url(source):
            yield from _guarded(source, _iter_url(source.strip(), policy, expand_feeds, max_feed_entries))
        else:
            yield from _guarded(source, _iter_path(source, limits, seen))


def expand_path(source: str) -> tuple[list[Path], Path | None] | None:
    """Files named by a path/directory/glob and their ingest root; None when nothing exists there."""
    path = Path(source).expanduser()
    if path.is_file():
        return [path.absolute()], None
    if path.is_dir():
        root = path.absolute()
        return _walk(root), root
    if globlib.has_magic(source):
        root = _glob_root(path).absolute()
        matches = [
            Path(match).absolute()
            for match in globlib.glob(str(path.expanduser()), recursive=True)
            if Path(match).is_file()
        ]
        files = [m for m in matches if not _is_hidden_below(m, root)]
        return sorted(files, key=lambda p: _sort_key(p, root)), root
    return None


def plan_files(sources: list[str]) -> tuple[list[tuple[Path, Path | None]], list[IngestError]]:
    """Every (file, ingest root) the path sources name, in order and each file once, plus their errors.

    Listing is cheap; reading can then go in bounded chunks (see `read_files`).
    """
    planned: list[tuple[Path, Path | None]] = []
    errors: list[IngestError] = []
    seen: set[Path] = set()
    for source in sources:
        expanded = expand_path(source)
        if expanded is None:
            uri = str(Path(source).expanduser().absolute())
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"{source} does not exist"))
            continue
        files, root = expanded
        if not files:
            kind = "directory" if Path(source).is_dir() else "glob"
            errors.append(
                IngestError(source_uri=source, stage="read", reason=f"{kind} {source} contains no article files")
            )
            continue
        for file in files:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                planned.append((file, root))
    return planned, errors


def read_files(planned: list[tuple[Path, Path | None]], *, limits: SourceLimits | None = None):
    """Documents and errors of planned files; no exception escapes."""
    for file, root in planned:
        yield from _guarded(str(file), read_file(file, limits=limits or SourceLimits(), root=root))


def _iter_path(source: str, limits: SourceLimits, seen: set[Path]) -> Iterator[RawDocument | IngestError]:
    planned, errors = plan_files([source])
    yield from errors
    fresh = [(file, root) for file, root in planned if file.resolve() not in seen]
    seen.update(file.resolve() for file, _ in fresh)
    yield from read_files(fresh, limits=limits)


def _guarded(source: str, results: Iterator[RawDocument | IngestError]) -> Iterator[RawDocument | IngestError]:
    """Turn an unexpected exception (a bug) into an IngestError so one input cannot abort a run."""
    try:
        yield from results
    except Exception as exc:
        logger.exception("unexpected error reading %s", source)
        yield IngestError(source_uri=source, stage="read", reason=f"{source}: unexpected {type(exc).__name__}: {exc}")


def _walk(root: Path) -> list[Path]:
    files: list[Path] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        files.extend(Path(directory, name) for name in names if not is_ignored_name(name))
    return sorted(files, key=lambda p: _sort_key(p, root))


def _glob_root(pattern: Path) -> Path:
    literal: list[str] = []
    for part in pattern.parts[:-1]:
        if globlib.has_magic(part):
            break
        literal.append(part)
    return Path(*literal) if literal else Path(".")


def _is_hidden_below(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts if path.is_relative_to(root) else (path.name,)
    return any(part.startswith(".") for part in parts) or is_ignored_name(path.name)


def _sort_key(path: Path, root: Path) -> tuple[str, ...]:
    return path.relative_to(root).parts if path.is_relative_to(root) else path.parts


def _iter_url(
    url: str, policy: FetchPolicy | None, expand_feeds: bool, max_feed_entries: int
) -> Iterator[RawDocument | IngestError]:
    policy = policy or FetchPolicy()
    try:
        raw = fetch_url(url, policy=policy)
    except FetchError as exc:
        yield IngestError(source_uri=url, stage="fetch", reason=str(exc))
        return
    if not (expand_feeds and is_feed(raw)):
        yield raw
        return
    entries = feed_entries(raw)[:max_feed_entries]
    if not entries:
        yield IngestError(source_uri=url, stage="fetch", reason=f"{url}: feed has no entries with links")
    for entry in entries:
        try:
            article = fetch_url(entry.link, policy=policy)
        except FetchError as exc:
            yield IngestError(source_uri=entry.link, stage="fetch", reason=str(exc))
            continue
        yield article.model_copy(
            update={
                "title": article.title or entry.title,
                "published_at": article.published_at or entry.published_at,
            }
        )
