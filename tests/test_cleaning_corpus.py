"""Regression guard: the labelled corpus of bench/cleaning_corpus scores at target (see cleaning_quality.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "cleaning_quality.py"


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cleaning_quality", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["text", "html"])
def test_corpus_body_recall_and_residual_boilerplate(bench, kind: str) -> None:  # type: ignore[no-untyped-def]
    manifests = [m for m in bench.load("all") if m["kind"] == kind]
    assert len(manifests) >= 20
    tally = bench.Tally()
    meta: dict[str, list[int]] = defaultdict(list)
    for manifest in manifests:
        if kind == "text":
            bench.score_text(manifest, tally)
        else:
            bench.score_html(manifest, tally, meta)
    assert tally.body_kept / tally.body_total >= 0.99, tally.errors[:10]
    gold = sum(tally.gold.values())
    residual = gold - sum(tally.gold_removed.values())
    assert residual / gold <= 0.02, tally.errors[:10]
    for field, values in meta.items():
        assert sum(values) / len(values) >= 0.9, field
