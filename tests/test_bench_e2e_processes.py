"""bench/e2e.py's split of a run's CPU by process: what each command line of the measured tree counts as."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import e2e  # bench/ is a script directory, not a package


def test_process_kinds_of_an_ingest_tree():
    python = "/work/.venv/bin/python3"
    assert e2e.process_kind(f"{python} .venv/bin/wirecopy ingest corpus --db w.duckdb") == "command"
    assert e2e.process_kind(f"{python} .venv/bin/wirecopy ingest corpus --engine dask --workers 2") == "command"
    assert e2e.process_kind("/usr/bin/python3 /usr/bin/dask worker tcp://10.0.0.5:8786 --nthreads 1") == "workers"
    assert e2e.process_kind(f"{python} -m uvicorn --factory prefect.server.api.server:create_app") == "prefect server"
    spawned = f"{python} -B -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=9)"
    assert e2e.process_kind(spawned) == "workers"
    assert e2e.process_kind(f"{python} -m distributed.cli.dask_worker tcp://127.0.0.1:8786") == "workers"


def test_run_measured_splits_the_cpu_and_memory_of_a_real_tree(tmp_path: Path):
    """A parent that burns CPU in a `multiprocessing` child holding 200 MB: the child's seconds and memory are
    the workers'."""
    script = tmp_path / "tree.py"
    script.write_text(
        "import multiprocessing as mp\n"
        "def burn():\n"
        "    held = bytearray(200 * 2**20)  # zero-filled by the allocator: every page resident\n"
        "    held[::4096] = b'x' * len(held[::4096])\n"
        "    x = 0\n"
        "    for i in range(60_000_000): x += i\n"
        "if __name__ == '__main__':\n"
        "    p = mp.get_context('spawn').Process(target=burn); p.start(); p.join(timeout=120)\n"
    )
    measured = e2e.run_measured([sys.executable, str(script)], dict(os.environ), timeout=180)
    assert measured.cpu_by_kind.get("workers", 0.0) > 0.5
    assert measured.cpu_by_kind["workers"] > measured.cpu_by_kind.get("command", 0.0)
    assert sum(measured.cpu_by_kind.values()) <= measured.cpu + 0.2
    assert measured.peak_rss_mb_by_kind["workers"] >= 200
    assert measured.peak_rss_mb >= measured.peak_rss_mb_by_kind["workers"]
    assert 200 <= measured.peak_pss_mb <= measured.peak_rss_mb  # shared pages counted once: never more
