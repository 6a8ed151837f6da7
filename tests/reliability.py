"""Helpers of the reliability suite (tests/test_reliability_*.py): generated corpora, real `wirecopy` processes
and their descendants, and waiting on states rather than on the clock."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
from wirecopy.deployments.served import WIRECOPY, wait_until
from wirecopy.warehouse.lsh_store import store_directory
from wirecopy.warehouse.runs import runs_directory
from wirecopy.warehouse.snapshot import writer_path

__all__ = ["WIRECOPY", "wait_until"]


_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "gu", "be", "fi", "ha", "jo")


def _paragraph(seed: int, words: int = 28) -> str:
    """A paragraph of pseudo-words drawn by a fixed generator: unrelated paragraphs share few 3-word shingles."""
    state = seed * 2654435761 % 2**32 or 1
    out = []
    for _ in range(words):
        state = (state * 1103515245 + 12345) % 2**31
        length = 2 + state % 3
        out.append("".join(_SYLLABLES[(state >> (4 * i + 3)) % 16] for i in range(length)))
    return " ".join(out).capitalize() + "."


def article_text(number: int, paragraphs: int = 4) -> str:
    """A distinct article. Every 7th repeats a paragraph of the one before (an exact duplicate) and every 11th
    carries a near copy of one (two words changed), so the dedup has clear links to find and nothing else."""
    parts = [_paragraph(number * 10 + p) for p in range(paragraphs)]
    if number % 7 == 0 and number:
        parts.append(_paragraph((number - 1) * 10))
    if number % 11 == 0 and number:
        words = _paragraph((number - 1) * 10 + 1).split()
        words[3], words[17] = "changed", "words"
        parts.append(" ".join(words))
    return "\n\n".join(parts)


def write_corpus(root: Path, count: int, outlets: int = 3, start: int = 0) -> Path:
    for number in range(start, start + count):
        folder = root / f"outlet{number % outlets}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{number:04d}.txt").write_text(article_text(number), encoding="utf-8")
    return root


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_ingest(sources: list[str], db: Path, env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [WIRECOPY, "ingest", *sources, "--db", str(db), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def run_lock_files(db: Path) -> list[Path]:
    directory = runs_directory(writer_path(db))
    return sorted(directory.glob("*.lock")) if directory.is_dir() else []


def commits_seen(db: Path) -> float:
    """The LSH store's manifest time (it changes after every committed batch with new texts), or 0."""
    try:
        return (store_directory(writer_path(db)) / "manifest.json").stat().st_mtime_ns
    except OSError:
        return 0


def wait_for_commits(db: Path, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until `count` batches have been committed (manifest rewritten `count` times) by `process`."""
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while len(seen) < count:
        stamp = commits_seen(db)
        if stamp and (not seen or stamp != seen[-1]):
            seen.append(stamp)
            continue
        if process.poll() is not None:
            raise AssertionError(f"ingest ended before {count} commits: {process.stderr.read()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} commits not seen within {timeout:.0f}s")
        time.sleep(0.005)


def rows(path: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def env_without_wirecopy(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRECOPY_")}
    return env | {"WIRECOPY_CONFIG": ""} | extra
