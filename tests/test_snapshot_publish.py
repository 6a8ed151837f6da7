"""Publishing the readers' snapshot (warehouse/snapshot.py): patched from the older snapshot when no reader
holds it, copied in full when one does, and always byte-identical to the writer's file."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pytest
from wirecopy.warehouse.db import session
from wirecopy.warehouse.snapshot import PREVIOUS, prepare_writer, publish, writer_directory

ROWS = 400_000  # several MB: many of DuckDB's 256 KB blocks, most of them unchanged by one small write


def _write(writer: Path, sql: str) -> None:
    with duckdb.connect(str(writer)) as con:
        con.execute(sql)


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM t").fetchone()[0]


@pytest.fixture
def published(tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    writer = prepare_writer(db)
    with session(writer, read_only=False):
        pass  # a warehouse: its migrations applied
    _write(writer, f"CREATE TABLE t AS SELECT range AS id, md5(range::VARCHAR) AS v FROM range({ROWS})")
    return db


def _same_bytes(published: Path) -> bool:
    from wirecopy.warehouse.snapshot import writer_path

    return published.read_bytes() == writer_path(published).read_bytes()


def test_the_third_publish_patches_only_the_changed_blocks(published: Path) -> None:
    writer = prepare_writer(published)
    first = publish(published)
    _write(writer, "INSERT INTO t VALUES (-1, 'one')")
    second = publish(published)
    assert (first.method, second.method) == ("copy", "copy")  # nothing older to patch yet
    assert (writer_directory(published) / PREVIOUS).exists()
    _write(writer, "INSERT INTO t VALUES (-2, 'two')")
    third = publish(published)
    assert third.method == "patch"
    assert 0 < third.blocks_written < third.bytes // (1 << 18) // 2  # a small write changes few blocks
    assert _same_bytes(published)
    with duckdb.connect(str(published), read_only=True) as con:
        assert _count(con) == ROWS + 2


def test_a_reader_on_the_older_snapshot_keeps_it_and_the_publish_copies(published: Path) -> None:
    writer = prepare_writer(published)
    publish(published)
    reader = duckdb.connect(str(published), read_only=True)  # in this process: its lock must still count
    try:
        assert _count(reader) == ROWS
        for n in range(1, 4):
            _write(writer, f"INSERT INTO t VALUES ({-n}, 'x')")
            done = publish(published)
            assert done.method == "copy" or n == 3, n  # the second publish would patch the reader's file
            assert _count(reader) == ROWS  # the same snapshot, never patched under it
        assert done.method == "patch"  # the third patches the second's file, which nobody holds
        assert _same_bytes(published)
    finally:
        reader.close()
    _write(writer, "INSERT INTO t VALUES (-9, 'y')")
    assert publish(published).method == "patch"
    with duckdb.connect(str(published), read_only=True) as con:
        assert _count(con) == ROWS + 4


def test_a_publish_cut_after_linking_never_patches_the_published_file(published: Path) -> None:
    """A crash between keeping the old file as `previous` and the rename leaves `previous` the published file
    itself: it must not be patched in place under the readers."""
    writer = prepare_writer(published)
    publish(published)
    previous = writer_directory(published) / PREVIOUS
    previous.unlink(missing_ok=True)
    os.link(published, previous)
    reader = duckdb.connect(str(published), read_only=True)
    try:
        _write(writer, "INSERT INTO t VALUES (-1, 'x')")
        assert publish(published).method == "copy"
        assert _count(reader) == ROWS
    finally:
        reader.close()
    assert _same_bytes(published)


def test_a_partial_file_left_by_a_killed_publish_is_mended(published: Path) -> None:
    writer = prepare_writer(published)
    publish(published)
    publish(published)
    partial = writer_directory(published) / "publish.tmp"
    partial.write_bytes(b"\0" * 100_000)  # what a killed patch or copy may leave
    _write(writer, "DELETE FROM t WHERE id < 1000")
    done = publish(published)
    assert done.method == "patch" and not partial.exists()
    assert _same_bytes(published)
    with duckdb.connect(str(published), read_only=True) as con:
        assert _count(con) == ROWS - 1000


@pytest.mark.parametrize("old_size", [0, 3 * 4096 + 100, 10 * 4096, 17 * 4096 + 5])
def test_a_patch_in_spans_makes_the_target_equal_writing_only_the_blocks_that_differ(
    tmp_path: Path, old_size: int
) -> None:
    """`_patch` compares the files in threads, one span each: whatever the spans' edges, the target ends equal to
    the source, and the count is of the blocks that differed or were missing (4 KB blocks here)."""
    from wirecopy.warehouse import snapshot

    rng = np.random.default_rng(old_size)
    source_bytes = rng.integers(0, 256, size=13 * 4096 + 7, dtype=np.uint8).tobytes()  # 14 blocks, the last short
    old = bytearray(source_bytes[:old_size].ljust(old_size, b"\0"))
    for block in (1, 6, 7, 13):  # changed in the old file, where it reaches
        if block * 4096 < len(old):
            old[block * 4096] ^= 0xFF
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(source_bytes)
    target.write_bytes(bytes(old))
    differing = sum(source_bytes[b * 4096 : (b + 1) * 4096] != bytes(old[b * 4096 : (b + 1) * 4096]) for b in range(14))
    fd = os.open(target, os.O_RDWR)
    try:
        written = snapshot._patch(source, fd, block=4096)
    finally:
        os.close(fd)
    assert target.read_bytes() == source_bytes
    assert written == differing and 0 < written <= 14
