"""Prepared batches handed from a worker process to the writer through a file, not through a pipe.

A batch of 16 MB of input comes back as 40–60 MB of Arrow (the raw documents, their paragraphs and matching
forms, the sketches). Returned through a process pool, those bytes are copied four times (into `bytes`, pickled
into the pipe, read from it, unpickled) and held in the writer's heap while the batch waits its turn. Written to
a file of the run's spool directory, they are written once, and the writer maps the file: the tables are read
in place (zero-copy), their pages are the page cache's, and they are dropped when the batch is committed (the
file is unlinked as it is mapped). The spool directory lives in the system's temporary directory (`TMPDIR`) and
goes with the engine; one left by a process that died is removed by the next engine that starts.

Only workers on the writer's machine spool (the local engine's, a Dask `LocalCluster`'s); those of a Dask
scheduler at an address may be elsewhere, and return bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

PREFIX = "wirecopy-batches-"
"""Spool directories are named `PREFIX<pid>-<random>`: the pid tells whether their process still runs."""

ALIGNMENT = 64
"""Each Arrow stream starts at a multiple of this many bytes of the file (Arrow's own buffer alignment)."""

Prepared = Mapping[str, bytes | pa.Buffer]
"""One prepared batch: Arrow IPC streams by name plus a JSON `header` (`wirecopy.pipeline.to_arrow`)."""


@dataclass(frozen=True)
class SpooledBatch:
    """A prepared batch written to `path`: each named Arrow IPC stream's (offset, length) in the file, and the
    JSON header (small, so it travels with this reference)."""

    path: str
    spans: dict[str, tuple[int, int]]
    header: bytes


def write_batch(path: Path, streams: Iterable[tuple[str, pa.Table]], header: dict) -> SpooledBatch:
    """Write each table as an Arrow IPC stream, end to end, into a new file at `path`."""
    spans: dict[str, tuple[int, int]] = {}
    with pa.OSFile(str(path), "wb") as sink:
        for name, table in streams:
            padding = -sink.tell() % ALIGNMENT
            if padding:
                sink.write(bytes(padding))
            start = sink.tell()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            spans[name] = (start, sink.tell() - start)
    return SpooledBatch(str(path), spans, json.dumps(header).encode())


def read_batch(batch: SpooledBatch) -> dict[str, bytes | pa.Buffer]:
    """The batch's streams as buffers over a mapping of its file, which is unlinked now: its pages stay until the
    last table read from them is dropped."""
    with pa.memory_map(batch.path) as mapped:
        whole = mapped.read_buffer()
    with contextlib.suppress(OSError):  # where a mapped file cannot be unlinked, it goes with its directory
        os.unlink(batch.path)
    streams = {name: whole.slice(start, length) for name, (start, length) in batch.spans.items()}
    return streams | {"header": batch.header}


def opened(prepared: Prepared | SpooledBatch) -> Prepared:
    """A prepared batch as streams by name, read from its file when it was spooled."""
    return read_batch(prepared) if isinstance(prepared, SpooledBatch) else prepared


class SpoolDirectory:
    """A directory for one engine's spooled batches, removed by `close` with whatever is left in it."""

    def __init__(self, parent: str | None = None) -> None:
        parent = parent or tempfile.gettempdir()
        remove_orphans(Path(parent))
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))

    def file_for(self, number: int) -> str:
        return str(self.path / f"batch-{number:06d}.arrow")

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def remove_orphans(parent: Path) -> list[Path]:
    """Remove the spool directories under `parent` whose process is gone (killed before it could remove them)."""
    removed = []
    for directory in parent.glob(f"{PREFIX}*"):
        pid = directory.name.removeprefix(PREFIX).split("-", 1)[0]
        if directory.is_dir() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
