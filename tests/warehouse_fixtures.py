"""A warehouse of the seeds, ingested once per test session by the real ingest flow (read-only users share it).

Use it in a test module: `seeds_warehouse = warehouse_fixtures.seeds_warehouse`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import SEEDS

_BUILT: dict[str, Path] = {}


@pytest.fixture
def seeds_warehouse(prefect_harness) -> Path:
    """The seeds' warehouse (built on first use). Open it read-only; copy it to write."""
    if "seeds" not in _BUILT:
        from wirecopy.flows.ingest import ingest

        path = Path(tempfile.mkdtemp(prefix="wirecopy-seeds-")) / "warehouse.duckdb"
        ingest(sources=[str(SEEDS)], db=str(path))
        _BUILT["seeds"] = path
    return _BUILT["seeds"]


def copy_warehouse(source: Path, target_dir: Path) -> Path:
    """A private, writable copy of a warehouse (the file and its LSH store)."""
    target = target_dir / source.name
    shutil.copy2(source, target)
    store = source.with_name(source.name + ".lsh")
    if store.exists():
        shutil.copytree(store, target.with_name(target.name + ".lsh"))
    return target
