"""The README's Python examples run as written, in order, in a folder holding the seeds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT, SEEDS


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def test_readme_python_examples_run(prefect_harness, tmp_path: Path, monkeypatch, capsys) -> None:
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    (tmp_path / "seeds").symlink_to(SEEDS, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"README.md python block {number}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert namespace["summary"].documents_new == 5 and "5 documents" in printed
    assert (tmp_path / "demo-report.html").stat().st_size == namespace["page"].bytes
    exported = sorted(p.name for p in (tmp_path / "demo-export").iterdir())
    assert exported == ["clean_corpus.parquet", "syndication.parquet"]
    assert namespace["copy"] in namespace["lsh"].query(namespace["sketches"][namespace["copy"]])
    assert len(namespace["lsh"].query(namespace["sketches"][namespace["copy"]])) >= 2
