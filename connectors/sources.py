"""Expand source specs (files, directories, globs, URLs) into RawDocuments and IngestErrors.

Sources are processed in the order given; the files of a directory or glob in sorted order of their
path relative to the ingest root, so output order is deterministic. A file reached twice is read once.
The ingest root (for the outlet rule) is the directory itself, the glob's literal prefix
(``data/*/x.txt`` → ``data``), or none for a single file; a folder a glob matches is walked as if it had been
given (its own root). Hidden files and directories, ``outlets.toml`` and ``*.meta.json`` sidecars are skipped,
and so are, in a directory or glob, a DuckDB warehouse and what wirecopy keeps beside it (`is_warehouse_entry`:
its writer folder, WAL, locks, LSH store, reports; a walk of every type keeps them) and files of types no
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
from typing import NamedTuple
from urllib.parse import urlsplit

from wirecopy.connectors.feeds import feed_entries, is_feed, with_entry_metadata
from wirecopy.connectors.files import SourceLimits, is_ignored_name, is_not_article, not_article_error, read_file
from wirecopy.connectors.http import FetchError, FetchPolicy, fetch_url

from wirecopy.models import IngestError, RawDocument

logger = logging.getLogger(__name__)


_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")
REPORT_SUFFIX = ".report.html"  # `warehouse.duckdb` → `warehouse.report.html` (`reports.build.default_report_path`)
REPORT_TITLE = b"<title>wirecopy syndication report</title>"  # at the top of every report `wirecopy report` writes


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


class Listing(NamedTuple):
    """What one path source names: each (file, ingest root) in ingest order, the symlinks refused on the way
    (each with its root), whether the source is a directory, the suffix a glob asks for by name (`*.csv`: for the
    files whose root is the source's own `root`, not those of a folder it matched)."""

    files: list[tuple[Path, Path | None]]
    refused: list[tuple[Path, Path | None]]
    directory: bool = False
    wanted: str = ""
    root: Path | None = None


def expand_path(source: str, *, follow_outside: bool = False, all_types: bool = False) -> Listing | None:
    """The files a path/directory/glob names and their ingest roots; None when nothing exists there. A directory
    or glob leaves out the types no article comes as (`files.NOT_ARTICLE_SUFFIXES`) unless `all_types`
    (`plan_files` then refuses them), and a DuckDB warehouse with what wirecopy keeps beside it
    (`is_warehouse_entry`) unless `all_types` (the inbox refuses them).

    A file named as it is is read whatever it is (a FIFO too: reading says it is not a regular file). Symlinked
    directories inside a walked directory are not followed when they point inside it (their files are reached
    anyway); those pointing outside are refused, or followed when `follow_outside` is true. A glob's matches
    that are folders are walked like folder sources (each its own ingest root); its other matches (FIFOs,
    broken symlinks too) are files, as a walk finds them."""
    path = Path(source).expanduser()
    if path.is_dir():
        root = absolute(path)
        refused: list[Path] = []
        files = _walk(root, refused, follow_outside, all_types)
        return Listing([(f, root) for f in files], [(link, root) for link in refused], directory=True, root=root)
    if os.path.lexists(path):  # a file, a FIFO, a socket or a broken symlink: `read_file` tells which
        return Listing([(absolute(path), None)], [])
    if globlib.has_magic(source):
        return _expand_glob(source, follow_outside, all_types)
    return None


def _expand_glob(source: str, follow_outside: bool, all_types: bool) -> Listing:
    """A glob's files (its literal prefix their root) and the files of the folders it matches (each their own)."""
    pattern = Path(source).expanduser()
    root, wanted = absolute(_glob_root(pattern)), _wanted_suffix(source)  # `*.csv` asks for CSV files
    own = _OwnEntries()
    matches = sorted(
        (absolute(Path(m)) for m in globlib.glob(str(pattern), recursive=True)), key=lambda p: _sort_key(p, root)
    )
    files: list[tuple[Path, Path | None]] = []
    refused: list[tuple[Path, Path | None]] = []
    walked: Path | None = None  # the last folder walked: what lies below it (`data/**`) comes next, and is covered
    for match in matches:
        if walked is not None and match.is_relative_to(walked):
            continue
        if _is_hidden_below(match, root) or (not all_types and own.below(match, root)):
            continue
        if not match.is_dir():
            if all_types or not is_not_article(match.name, wanted_suffix=wanted):
                files.append((match, root))
        elif not follow_outside and _leaves_root(match, root):
            refused.append((match, root))
        else:
            inside: list[Path] = []
            files += [(f, match) for f in _walk(match, inside, follow_outside, all_types)]
            refused += [(link, match) for link in inside]
            walked = match
    return Listing(files, refused, wanted=wanted, root=root)


def warehouses_in(directory: Path, files: set[str], folders: set[str]) -> list[str]:
    """The warehouses among the `files` of `directory` (its `folders` beside them): each `*.duckdb`, each file `F`
    with wirecopy's writer folder `F.writer/` beside it, and in a writer folder `F.writer/` its file `F`."""
    writer_of = directory.name.removesuffix(".writer") if directory.name.endswith(".writer") else None
    return [f for f in files if f.endswith(".duckdb") or f + ".writer" in folders or f == writer_of]


def is_warehouse_entry(name: str, warehouses: list[str]) -> bool:
    """Whether `name` is one of the `warehouses` of its folder or something wirecopy keeps beside one: for a
    warehouse `X.duckdb`, the file itself, every `X.duckdb.<suffix>` (`.wal`, `.writer/`, `.lsh/`, `.runs/`,
    `.lock`, `.rebuild.lock`, …) and the scheduled report `X.report.html`."""
    return any(
        name == warehouse or name.startswith(warehouse + ".") or name == Path(warehouse).stem + REPORT_SUFFIX
        for warehouse in warehouses
    )


def _is_report(path: Path) -> bool:
    """Whether `path` is a syndication report `wirecopy report` wrote (by the title at the top of the page)."""
    if path.suffix.lower() not in (".html", ".htm"):
        return False
    try:
        if not path.is_file():  # a FIFO would block
            return False
        with path.open("rb") as handle:
            return REPORT_TITLE in handle.read(2048)
    except OSError:
        return False


def _own_names(directory: Path, files: list[str], folders: list[str]) -> set[str]:
    """The entries of `directory` that are wirecopy's own: its warehouses, what wirecopy keeps beside them
    (`is_warehouse_entry`) and any report `wirecopy report` wrote beside them (`report.html`, the default)."""
    warehouses = warehouses_in(directory, set(files), set(folders))
    if not warehouses:
        return set()
    own = {name for name in folders if is_warehouse_entry(name, warehouses)}
    return own | {name for name in files if is_warehouse_entry(name, warehouses) or _is_report(directory / name)}


class _OwnEntries:
    """`_own_names` of each folder a glob's matches lie in, each folder listed once."""

    def __init__(self) -> None:
        self._names: dict[Path, set[str]] = {}

    def below(self, path: Path, root: Path) -> bool:
        """Whether `path`, or a folder it lies in below `root`, is wirecopy's own."""
        parts = path.relative_to(root).parts if path.is_relative_to(root) else (path.name,)
        directory = path.parents[len(parts) - 1] if parts else path
        for part in parts:
            if part in self._of(directory):
                return True
            directory = directory / part
        return False

    def _of(self, directory: Path) -> set[str]:
        if directory not in self._names:
            try:
                with os.scandir(directory) as entries:
                    kinds = [(entry.name, entry.is_dir()) for entry in entries]
            except OSError:
                kinds = []
            files = [name for name, is_dir in kinds if not is_dir]
            self._names[directory] = _own_names(directory, files, [name for name, is_dir in kinds if is_dir])
        return self._names[directory]


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
        uri = str(absolute(Path(source).expanduser()))  # its errors name it as documents are named
        try:
            listing = expand_path(source, follow_outside=follow_symlinks_outside_root, all_types=all_types)
        except OSError as error:
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"cannot list {uri}: {error}"))
            continue
        if listing is None:
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"{uri} does not exist"))
            continue
        errors += [_outside_root(link, root) for link, root in listing.refused]
        if not listing.files and not listing.refused:
            kind = "directory" if listing.directory else "glob"
            errors.append(IngestError(source_uri=uri, stage="read", reason=f"{kind} {uri} contains no article files"))
            continue
        for file, root in listing.files:
            if root is not None and not follow_symlinks_outside_root and _leaves_root(file, root):
                errors.append(_outside_root(file, root))
                continue
            key = file.resolve()
            wanted = listing.wanted if root == listing.root else ""  # a folder a glob matched asks for no suffix
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
    """The files below `root` in sorted order; the symlinked folders refused on the way are added to `refused`.
    Hidden entries, and (unless `all_types`) types no article comes as and wirecopy's own files, are left out."""
    files: list[Path] = []
    real_root = root.resolve()
    followed: set[Path] = {real_root}
    for directory, subdirectories, names in os.walk(root, followlinks=follow_outside):
        own = set() if all_types else _own_names(Path(directory), names, subdirectories)
        kept = []
        for name in subdirectories:
            if name.startswith(".") or name in own:
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
        wanted = (
            name for name in names
            if not is_ignored_name(name) and name not in own and (all_types or not is_not_article(name))
        )  # fmt: skip
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
        yield with_entry_metadata(article, entry)  # the entry's title and date, where the page has none
