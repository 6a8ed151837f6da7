"""Shared fixtures: one real Prefect test server per session, the seeds, fresh warehouse paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="wirecopy-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("WIRECOPY_DB", None)
os.environ["WIRECOPY_CONFIG"] = ""  # no configuration file: defaults and WIRECOPY_* only

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def prefect_harness():
    """A real, temporary Prefect API for every flow run in the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def seed_documents(seeds_dir: Path):
    """The five seeds read and cleaned (no Prefect): (raw, clean) pairs."""
    from wirecopy.connectors.sources import iter_sources

    from wirecopy.models import RawDocument
    from wirecopy.transform import clean_document

    raws = list(iter_sources([str(seeds_dir)]))
    assert all(isinstance(r, RawDocument) for r in raws), raws
    return [(raw, clean_document(raw)) for raw in raws]
