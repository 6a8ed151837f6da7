"""A drop directory: settled files are claimed, ingested once, then moved to `.done/` or `.failed/`.

Layout under the inbox directory (hidden directories, never scanned for input)::

    .processing/<claim>/<relative path>   claimed by a running ingest (<claim>.lock held by its process)
    .done/<YYYY-MM-DD>/<claim>/...         ingested (with copies of the outlets.toml files that applied)
    .failed/<YYYY-MM-DD>/<claim>/...       refused; `<file>.error.txt` beside each file gives the reason

A file is picked up only when it (and its `.meta.json` sidecar) has not been modified for `settle_seconds`
and its size and mtime did not change between the scan and the claim, so a file still being written
waits. Names matching the ignore globs (`*.part`, `*.tmp`, ...) and hidden names are never picked up:
writing under such a name and renaming when complete is the safest way to drop a file. Claiming is an
atomic rename, so two runs never take the same file. A claim whose process died (its lock is free) is
put back into the inbox by the next run. Ingest is idempotent by content, so a put-back file ingested
again adds nothing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path

from filelock import FileLock, Timeout

from wirecopy.connectors.files import is_ignored_name
from wirecopy.connectors.outlets import OUTLETS_FILE, sidecar_path
from wirecopy.connectors.sources import is_warehouse_entry
from wirecopy.models import escape_surrogates

PROCESSING, DONE, FAILED = ".processing", ".done", ".failed"
ERROR_SUFFIX = ".error.txt"


@dataclass
class Claim:
    """Files moved out of the inbox for one run; `root` is what the run ingests."""

    id: str
    root: Path
    files: list[Path] = field(default_factory=list)
    lock: FileLock | None = field(default=None, repr=False)

    def path(self, relative: Path) -> Path:
        return self.root / relative


@dataclass(frozen=True)
class InboxOutcome:
    """What one inbox run did with the files it claimed."""

    claim_id: str | None = None
    run_id: str | None = None
    done: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    waiting: int = 0
    recovered: int = 0
    record_errors: tuple[str, ...] = ()  # failures of parts of done files (a JSONL file's bad lines)


class Inbox:
    def __init__(
        self,
        root: Path,
        *,
        settle_seconds: float,
        ignore: Iterable[str] = (),
        max_files: int = 1000,
        warehouse: Path | None = None,
    ) -> None:
        """`warehouse`: the warehouse the inbox feeds; should it lie in the inbox, neither it nor what wirecopy keeps
        beside it (writer folder, locks, report) is ever claimed."""
        self.root = Path(root).expanduser().absolute()
        self.settle_seconds = settle_seconds
        self.ignore = tuple(ignore)
        self.max_files = max_files
        self.warehouse = Path(warehouse).expanduser().absolute() if warehouse is not None else None

    def recorded_as(self, claim: Claim) -> dict[str, str]:
        """The claim's folder → the inbox: its files are recorded where they were dropped (`wirecopy.provenance`),
        not under `.processing/`, which is gone once they move on."""
        return {escape_surrogates(str(claim.root)): escape_surrogates(str(self.root))}

    # --- scanning ---------------------------------------------------------------------------------

    def pending(self) -> list[Path]:
        """Every candidate input file (settled or not), relative to the inbox, in sorted order."""
        if not self.root.is_dir():
            return []
        found = []
        for directory, subdirectories, names in os.walk(self.root):
            ours = [self.warehouse.name] if self.warehouse and Path(directory) == self.warehouse.parent else []
            subdirectories[:] = sorted(
                d for d in subdirectories if not d.startswith(".") and not is_warehouse_entry(d, ours)
            )
            for name in names:
                if is_ignored_name(name) or is_warehouse_entry(name, ours):
                    continue
                if not any(fnmatchcase(name, g) for g in self.ignore):
                    found.append(Path(directory, name).relative_to(self.root))
        return sorted(found)

    def settled(self, now: float | None = None) -> list[Path]:
        """Pending files unmodified for `settle_seconds` (their sidecar too), oldest first."""
        now = time.time() if now is None else now
        ready = []
        for relative in self.pending():
            stamps = [_stat(self.root / p) for p in self._group(relative)]
            if all(s is not None and now - s.st_mtime >= self.settle_seconds for s in stamps):
                ready.append((stamps[0].st_mtime, relative))
        return [relative for _, relative in sorted(ready)]

    def _group(self, relative: Path) -> list[Path]:
        """The file and, when present, its metadata sidecar: they move together."""
        sidecar = sidecar_path(relative)
        return [relative, sidecar] if (self.root / sidecar).is_file() else [relative]

    # --- claiming ---------------------------------------------------------------------------------

    def claim(self) -> Claim | None:
        """Move settled files into a fresh claim directory; None when nothing is ready."""
        candidates = [(p, _stat(self.root / p)) for p in self.settled()[: self.max_files]]
        candidates = [(p, s) for p, s in candidates if s is not None]
        if not candidates:
            return None
        claim_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        processing = self.root / PROCESSING
        processing.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(processing / f"{claim_id}.lock"))
        lock.acquire(timeout=0)
        claim = Claim(id=claim_id, root=processing / claim_id, lock=lock)
        claim.root.mkdir()
        for relative, seen in candidates:
            if self._unchanged(relative, seen) and self._take(relative, claim.root):
                claim.files.append(relative)
        if not claim.files:
            self._close(claim)
            return None
        self._copy_outlet_tables(claim)
        return claim

    def _unchanged(self, relative: Path, seen: os.stat_result) -> bool:
        now = _stat(self.root / relative)
        return now is not None and (now.st_size, now.st_mtime_ns) == (seen.st_size, seen.st_mtime_ns)

    def _take(self, relative: Path, destination: Path) -> bool:
        """Atomically move the file (then its sidecar); False when another run took it first."""
        group = self._group(relative)
        for position, part in enumerate(group):
            target = destination / part
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(self.root / part, target)
            except FileNotFoundError:
                if position == 0:
                    return False
        return True

    def _copy_outlet_tables(self, claim: Claim) -> None:
        """outlets.toml files on the way from the inbox to each file, so outlets resolve as in the inbox."""
        directories = {Path()} | {parent for f in claim.files for parent in f.parents}
        for directory in directories:
            table = self.root / directory / OUTLETS_FILE
            if table.is_file():
                (claim.root / directory).mkdir(parents=True, exist_ok=True)
                shutil.copy2(table, claim.root / directory / OUTLETS_FILE)

    # --- finishing --------------------------------------------------------------------------------

    def finish(self, claim: Claim, failures: Mapping[Path, str]) -> InboxOutcome:
        """Failed files (with their reason) to `.failed/<day>/<claim>/`, the rest to `.done/<day>/<claim>/`."""
        day = f"{datetime.now(UTC):%Y-%m-%d}"
        failed_root = self.root / FAILED / day / claim.id
        for relative, reason in failures.items():
            self._move_group(claim.root, relative, failed_root)
            _write_reason(failed_root / relative, reason)
        done_root = self.root / DONE / day / claim.id
        done_root.parent.mkdir(parents=True, exist_ok=True)
        os.rename(claim.root, done_root)
        self._close(claim)
        done = tuple(escape_surrogates(str(p)) for p in claim.files if p not in failures)
        failed = {escape_surrogates(str(p)): r for p, r in failures.items()}
        return InboxOutcome(claim_id=claim.id, done=done, failed=failed)

    def release(self, claim: Claim) -> None:
        """Put every claimed file back into the inbox (the run failed as a whole)."""
        self._put_back(claim.root, claim.files, claim.id)
        self._close(claim)

    def recover(self) -> int:
        """Put back the files of claims whose process died; returns how many files."""
        processing = self.root / PROCESSING
        if not processing.is_dir():
            return 0
        count = 0
        for directory in sorted(p for p in processing.iterdir() if p.is_dir()):
            lock = FileLock(str(processing / f"{directory.name}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # its run is alive
            try:
                if directory.is_dir():
                    files = [p.relative_to(directory) for p in _files_below(directory)]
                    files = [p for p in files if p.name != OUTLETS_FILE and not is_ignored_name(p.name)]
                    self._put_back(directory, files, directory.name)
                    count += len(files)
            finally:
                lock.release()
                Path(lock.lock_file).unlink(missing_ok=True)
        return count

    def _put_back(self, source_root: Path, files: list[Path], claim_id: str) -> None:
        for relative in files:
            if (self.root / relative).exists():  # a newer file with that name arrived meanwhile
                failed_root = self.root / FAILED / f"{datetime.now(UTC):%Y-%m-%d}" / claim_id
                self._move_group(source_root, relative, failed_root)
                _write_reason(failed_root / relative, "not ingested; a newer file with the same name arrived")
            else:
                self._move_group(source_root, relative, self.root)
        shutil.rmtree(source_root, ignore_errors=True)

    def _move_group(self, source_root: Path, relative: Path, destination_root: Path) -> None:
        for part in (relative, sidecar_path(relative)):
            if (source_root / part).is_file():
                (destination_root / part).parent.mkdir(parents=True, exist_ok=True)
                os.replace(source_root / part, destination_root / part)

    def _close(self, claim: Claim) -> None:
        shutil.rmtree(claim.root, ignore_errors=True)
        if claim.lock is not None:
            claim.lock.release()
            Path(claim.lock.lock_file).unlink(missing_ok=True)


def failures_of(claim: Claim, error_messages: Iterable[str], recorded_root: Path) -> dict[Path, str]:
    """Claimed files the ingest refused as a whole, with the reason ("<stage>: <why>", paths made relative).

    Ingest error messages read ``<source_uri>: <stage>: <reason>``, the claimed files recorded under
    `recorded_root` (the inbox: `Inbox.recorded_as`); only errors on the file itself count (an error on one
    record ``<file>#<line>`` of a JSONL file leaves the file's other records ingested).
    """
    by_uri = {escape_surrogates(str(recorded_root / relative)): relative for relative in claim.files}
    root = escape_surrogates(str(recorded_root)) + os.sep
    failures: dict[Path, str] = {}
    for message in error_messages:
        for uri, relative in by_uri.items():
            if message.startswith(uri + ": "):
                failures[relative] = message[len(uri) + 2 :].replace(root, "")
    return failures


def record_errors(claim: Claim, error_messages: Iterable[str], recorded_root: Path) -> tuple[str, ...]:
    """The ingest errors that are not about a claimed file as a whole: one record of a file (``<file>#L2: …``)
    whose other records were ingested."""
    whole = {escape_surrogates(str(recorded_root / relative)) + ": " for relative in claim.files}
    return tuple(m for m in error_messages if not any(m.startswith(prefix) for prefix in whole))


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _files_below(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _write_reason(path: Path, reason: str) -> None:
    path.with_name(path.name + ERROR_SUFFIX).write_text(reason + "\n", encoding="utf-8")
