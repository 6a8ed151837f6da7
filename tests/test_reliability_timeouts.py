"""Tests that need no luck: every wait on a subprocess in the test suite (and in the helpers it uses) is bounded,
so a hung child fails its test instead of hanging the suite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [*sorted((ROOT / "tests").glob("*.py")), ROOT / "deployments" / "served.py"]
BOUNDED = {"run": "subprocess.run", "communicate": ".communicate()", "wait": ".wait()", "check_output": "check_output"}


def _unbounded_calls(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bounded_elsewhere = {  # asyncio.wait_for(x.wait(), seconds): the awaitable is bounded by its wrapper
        id(call.args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "wait_for"
        and call.args and len(call.args) + len(call.keywords) >= 2
    }  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or id(node) in bounded_elsewhere:
            continue
        name = node.func.attr
        owner = node.func.value
        if name in ("run", "check_output") and not (isinstance(owner, ast.Name) and owner.id == "subprocess"):
            continue
        if name == "wait" and (node.args or (isinstance(owner, ast.Name) and owner.id in ("threading", "event"))):
            continue  # Event.wait(seconds) and friends
        if name not in BOUNDED:
            continue
        if not any(keyword.arg == "timeout" for keyword in node.keywords):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {BOUNDED[name]} without timeout")
    return found


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_subprocess_wait_has_a_timeout(path: Path) -> None:
    assert _unbounded_calls(path) == []
