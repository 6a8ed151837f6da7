"""Expand source specs (files, directories, globs, URLs) into RawDocuments and IngestErrors.

Sources are processed in the order given; the files of a directory or glob in sorted order of their
path relative to the ingest root, so output order is deterministic. A file reached twice is read once.
The ingest root (for the outlet rule) is the directory itself, the glob's literal prefix
(``data/*/x.txt`` → ``data``), or none for a single file. Hidden files and directories,
``outlets.toml`` and ``*.meta.json`` sidecars are skipped, and so are, in a directory or glob, files of types no
article comes as (images, media, archives, office documents, CSV, executables: `files.NOT_ARTICLE_SUFFIXES`;
a glob that names the suffix, ``*.csv``, takes them; a walk of every type, the inbox's, refuses each with an
`IngestError`). An http(s) URL is fetched with
`wirecopy.connectors.http.fetch_url`; when it is an RSS/Atom feed and `expand_feeds` is on, each entry's link
is fetched instead of yielding the feed. No exception escapes `iter_sources`.
"""

from __future__ import annotations

import glob as globlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from wirecopy.connectors.feeds import feed_entries, is_feed
from wirecopy.connectors.files import SourceLimits, is_ignored_name, is_not_article, not_article_error, read_file
from wirecopy.connectors.http import FetchError, FetchPolicy, fetch_url

from wirecopy.models import IngestError, RawDocument

logger = logging.getLogger(__name__)


_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")


def unsupported_url(source: str) -> str | None:
    """Why `source` is a URL that cannot be fetched (`ftp://…`, `file://…`, `http:///x`), or None."""
    match = _SCHEME.match(source)
    if match is None or is_url(source):
        return None
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        return f"{source.strip()}: not a fetchable URL (no host)"
    return f"{source.strip()}: unsupported scheme {scheme}:// (only http and https URLs are fetched)"


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


def expand_path(
    source: str, *, refused: list[Path] | None = None, follow_outside: bool = False, all_types: bool = False
) -> tuple[list[Path], Path | None] | None:
    """Files named by a path/directory/glob and their ingest root; None when nothing exists there. A directory
    or glob leaves out the types no article comes as (`files.NOT_ARTICLE_SUFFIXES`) unless `all_types`
    (`plan_files` then refuses them).

    Symlinked directories inside a walked directory are not followed when they point inside it (their
    files are reached anyway); those pointing outside are appended to `refused`, or followed when
    `follow_outside` is true."""
    path = Path(source).expanduser()
    if path.is_file():
        return [absolute(path)], None
    if path.is_dir():
        root = absolute(path)
        return _walk(root, refused if refused is not None else [], follow_outside, all_types), root
    if globlib.has_magic(source):
        root = absolute(_glob_root(path))
        matches = [
            absolute(Path(match))
            for match in globlib.glob(str(path.expanduser()), recursive=True)
            if Path(match).is_file()
        ]
        wanted = _wanted_suffix(source)  # `*.csv` asks for CSV files
        files = [
            m for m in matches
            if not _is_hidden_below(m, root) and (all_types or not is_not_article(m.name, wanted_suffix=wanted))
        ]  # fmt: skip
        return sorted(files, key=lambda p: _sort_key(p, root)), root
    return None


def plan_files(
    sources: list[str], *, follow_symlinks_outside_root: bool = False, all_types: bool = False
) -> tuple[list[tuple[Path, Path | None]], list[IngestError]]:
    """Every (file, ingest root) the path sources name, in order and each file once, plus their errors.

    Every source is accounted for: a missing path, a URL with another scheme than http(s), an empty folder
    or glob, and a symlink in a folder or glob that leads out of it (unless `follow_symlinks_outside_root`)
    each give an error. With `all_types` (the inbox), a folder or glob gives files of every type and each file
    of a type no article comes as is an error (`files.not_article_error`), unless the glob names its suffix.
    Listing is cheap; reading can then go in bounded chunks (see `read_files`).
    """
    planned: list[tuple[Path, Path | None]] = []
    errors: list[IngestError] = []
    seen: set[Path] = set()
    refused_types: set[Path] = set()
    for source in sources:
        bad_url = unsupported_url(source)
        if bad_url is not None:
            errors.append(IngestError(source_uri=source.strip(), stage="read", reason=bad_url))
            continue
        refused: list[Path] = []
        uri = str(absolute(Path(source).expanduser()))  # its errors name it as documents are named
        try:
            expanded = expand_path(
                source, refused=refused, follow_outside=follow_symlinks_outside_root, all_types=all_types
            )
        except OSError as error:
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"cannot list {uri}: {error}"))
            continue
        if expanded is None:
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"{uri} does not exist"))
            continue
        files, root = expanded
        errors += [_outside_root(link, root) for link in refused]
        if not files and not refused:
            kind = "directory" if Path(source).expanduser().is_dir() else "glob"
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"{kind} {uri} contains no article files"))
            continue
        wanted = "" if Path(source).expanduser().is_dir() else _wanted_suffix(source)  # `*.csv` asks for CSV
        for file in files:
            if root is not None and not follow_symlinks_outside_root and _leaves_root(file, root):
                errors.append(_outside_root(file, root))
                continue
            key = file.resolve()
            refusal = not_article_error(file, wanted_suffix=wanted) if all_types and root is not None else None
            if refusal is not None:  # a walk of every type: refused by its type, not read
                if key not in seen and key not in refused_types:
                    refused_types.add(key)
                    errors.append(refusal)
                continue
            if key not in seen:
                seen.add(key)
                planned.append((file, root))
    return planned, errors


def _leaves_root(file: Path, root: Path) -> bool:
    """Whether `file` (under `root`) is, or lies below, a symlink that resolves outside `root`."""
    try:
        return not file.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return True


def _outside_root(link: Path, root: Path | None) -> IngestError:
    try:
        target = str(link.resolve(strict=True))
    except (OSError, RuntimeError):
        reason = f"{link} is a symlink that cannot be resolved (a loop, or a missing folder): refused"
    else:
        reason = (
            f"{link} is a symlink to {target}, outside the ingest root {root}: refused "
            "(setting follow_symlinks_outside_root)"
        )
    return IngestError(source_uri=str(link), stage="read", reason=reason)


def read_files(planned: list[tuple[Path, Path | None]], *, limits: SourceLimits | None = None):
    """Documents and errors of planned files; no exception escapes."""
    for file, root in planned:
        yield from _guarded(str(file), read_file(file, limits=limits or SourceLimits(), root=root))


def _iter_path(source: str, limits: SourceLimits, seen: set[Path]) -> Iterator[RawDocument | IngestError]:
    planned, errors = plan_files([source], follow_symlinks_outside_root=limits.follow_symlinks_outside_root)
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


def _walk(root: Path, refused: list[Path], follow_outside: bool, all_types: bool = False) -> list[Path]:
    files: list[Path] = []
    real_root = root.resolve()
    followed: set[Path] = {real_root}
    for directory, subdirectories, names in os.walk(root, followlinks=follow_outside):
        kept = []
        for name in subdirectories:
            if name.startswith("."):
                continue
            path = Path(directory, name)
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    refused.append(path)
                    continue
                if target.is_relative_to(real_root) or target in followed:
                    continue  # its files are reached through their own path (or it is a loop)
                if not follow_outside:
                    refused.append(path)
                    continue
                followed.add(target)
            kept.append(name)
        subdirectories[:] = kept
        wanted = (name for name in names if not is_ignored_name(name) and (all_types or not is_not_article(name)))
        files.extend(Path(directory, name) for name in wanted)
    refused.sort(key=lambda p: _sort_key(p, root))
    return sorted(files, key=lambda p: _sort_key(p, root))


def absolute(path: Path) -> Path:
    """The absolute path without `.` and `..` parts (as written, symlinks not resolved): a file is named the same
    whatever the working directory and however the folder was given."""
    return Path(os.path.normpath(path.absolute()))


def _wanted_suffix(source: str) -> str:
    """The suffix a glob asks for by name (``drops/*.csv`` → ``.csv``); "" when it has none or a pattern."""
    suffix = Path(source).expanduser().suffix
    return "" if globlib.has_magic(suffix) else suffix


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
