"""Installing wirecopy adds one top-level package: the card's folders import as wirecopy.connectors, ..."""

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("connectors", "flows", "warehouse", "deployments")


def test_the_distribution_has_one_top_level_package():
    assert metadata.distribution("wirecopy").read_text("top_level.txt").split() == ["wirecopy"]


def test_folders_import_under_wirecopy_and_not_on_their_own(tmp_path):
    """From outside the checkout (where the folders are not on sys.path by accident)."""
    code = (
        "import importlib, importlib.util, sys\n"
        f"folders = {FOLDERS!r}\n"
        "for name in folders:\n"
        "    module = importlib.import_module('wirecopy.' + name)\n"
        "    assert module.__file__, name\n"
        "    assert importlib.util.find_spec(name) is None, name + ' is importable on its own'\n"
        "import wirecopy.warehouse.db as db\n"
        "assert db.migrations(), 'migrations shipped with the package'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_every_package_folder_is_declared():
    """A new subpackage under a mapped folder must be listed in pyproject.toml, or a wheel would leave it out."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    declared = set(config["packages"])
    mapping = config["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *relative)))
    assert found == declared
