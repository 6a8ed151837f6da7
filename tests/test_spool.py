"""Prepared batches handed through spool files (`wirecopy.spool`): the tables come back equal and in place, the
file is gone once mapped, and no spool directory outlives its engine or its process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest

from wirecopy import spool
from wirecopy.pipeline import load_input, prepared_errors, prepared_header


def _tables() -> list[tuple[str, pa.Table]]:
    return [
        ("errors", pa.table({"source_uri": ["a.jsonl"], "stage": ["extract"], "reason": ["a.jsonl: bad line"]})),
        ("numbers", pa.table({"n": pa.array(range(10_000), pa.int64()), "s": [f"t{i % 97}" for i in range(10_000)]})),
        ("empty", pa.table({"x": pa.array([], pa.float32())})),
    ]


def test_a_spooled_batch_reads_back_equal_in_place_and_its_file_is_gone(tmp_path: Path) -> None:
    header = {"documents": 3, "skipped": 1, "seconds": {"transform": 0.5}}
    written = spool.write_batch(tmp_path / "batch-000001.arrow", _tables(), header)
    assert all(start % spool.ALIGNMENT == 0 for start, _ in written.spans.values())

    streams = spool.read_batch(written)

    assert not Path(written.path).exists()  # unlinked as it is mapped
    assert json.loads(streams["header"]) == header
    for name, table in _tables():
        read = pa.ipc.open_stream(streams[name]).read_all()
        assert read.equals(table)
    numbers = pa.ipc.open_stream(streams["numbers"]).read_all().column("n").chunk(0).buffers()[1]
    mapping = streams["numbers"]
    assert mapping.address <= numbers.address < mapping.address + mapping.size  # read in place, not copied
    assert [e.reason for e in prepared_errors(streams)] == ["a.jsonl: bad line"]
    assert prepared_header(streams)["skipped"] == 1


def test_the_load_stage_reads_a_spooled_batch_as_the_bytes_of_the_same_batch(tmp_path: Path) -> None:
    """What the writer loads does not depend on how the batch travelled."""
    from wirecopy.connectors.files import SourceLimits

    from wirecopy.dedup.settings import DedupSettings
    from wirecopy.pipeline import BatchRef, FilePart, prepare_batch, to_arrow, to_spool

    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(json.dumps({"outlet": "o", "text": f"para {i} one two three four five.\nsecond {i} line here."})
                  for i in range(40)) + "\n{broken\n",
        encoding="utf-8",
    )  # fmt: skip
    ref = BatchRef(number=0, parts=(FilePart(path=str(source), size=source.stat().st_size),))
    import numpy as np

    settings = DedupSettings()
    prepared = prepare_batch(ref, np.empty(0, dtype="S16"), SourceLimits(), None, settings)
    as_bytes = load_input(to_arrow(prepared), settings)
    as_file = load_input(spool.opened(to_spool(prepared, str(tmp_path / "b.arrow"))), settings)

    assert as_file.table.equals(as_bytes.table) and as_file.table.num_rows == 40
    assert [e.reason for e in as_file.errors] == [e.reason for e in as_bytes.errors] and as_file.errors
    assert as_file.sketches is not None and as_bytes.sketches is not None
    assert np.array_equal(as_file.sketches.hashes, as_bytes.sketches.hashes)
    assert np.array_equal(as_file.sketches.signatures, as_bytes.sketches.signatures)
    assert not list(tmp_path.glob("*.arrow"))


def test_a_spool_directory_left_by_a_dead_process_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    dead = tmp_path / f"{spool.PREFIX}{done.stdout.strip()}-abc"
    (dead / "batch-000003.arrow").parent.mkdir()
    (dead / "batch-000003.arrow").write_bytes(b"x" * 1000)
    live = spool.SpoolDirectory(str(tmp_path))  # removes the dead one as it starts
    unrelated = tmp_path / "other-dir"
    unrelated.mkdir()

    assert not dead.exists()
    assert live.path.exists() and live.path.name.startswith(f"{spool.PREFIX}")
    assert spool.remove_orphans(tmp_path) == []  # this process is alive: its directory stays
    live.close()
    assert not live.path.exists() and unrelated.exists()


@pytest.mark.parametrize("stop_after", [1, None])
def test_the_local_engine_leaves_no_spool_behind(tmp_path: Path, monkeypatch, stop_after: int | None) -> None:
    """Whether the batches are all taken or the run stops after the first, the engine's spool directory is gone
    when the batches end, with the files of batches prepared but never taken."""
    import itertools

    import numpy as np
    from wirecopy.connectors.sources import plan_files
    from wirecopy.flows.prepared import LocalEngine, prepare_arguments, prepared_batches

    from wirecopy.config import load_settings
    from wirecopy.pipeline import plan_batches

    spools = tmp_path / "tmp"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    corpus = tmp_path / "in"
    corpus.mkdir()
    for shard in range(6):
        lines = [json.dumps({"outlet": f"o{shard}", "text": f"shard {shard} article {i} " * 30}) for i in range(60)]
        (corpus / f"s{shard}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(db=tmp_path / "unused.duckdb")
    refs = plan_batches(plan_files([str(corpus)])[0], 40_000, settings.batch_files)
    stored = np.empty(0, dtype="S16")
    batches = prepared_batches(
        refs, stored, settings, {}, None, LocalEngine(1, prepare_arguments(stored, settings, None))
    )

    taken = list(itertools.islice(batches, stop_after))
    batches.close()

    assert len(refs) >= 4 and len(taken) == (stop_after or len(refs))
    assert sum(prepared_header(batch)["documents"] for batch in taken) > 0
    assert list(spools.iterdir()) == []


def test_a_batch_that_cannot_be_spooled_travels_as_bytes(tmp_path: Path) -> None:
    """A full or vanished temporary directory costs the copies the spool saves, not the batch."""
    import numpy as np

    from wirecopy.pipeline import BatchRef, FilePart, prepare_arrow

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"outlet": "o", "text": "one two three four five six seven."}) + "\n", "utf-8")
    ref = BatchRef(number=0, parts=(FilePart(path=str(source), size=source.stat().st_size),))
    arguments = {"stored": np.empty(0, dtype="S16"), "max_file_bytes": 1 << 20}

    got = prepare_arrow(ref, **arguments, spool_to=str(tmp_path / "gone" / "batch-000000.arrow"))

    assert isinstance(got, dict) and prepared_header(got)["documents"] == 1
    assert {k: v for k, v in got.items() if k != "header"} == {
        k: v for k, v in prepare_arrow(ref, **arguments).items() if k != "header"
    }
