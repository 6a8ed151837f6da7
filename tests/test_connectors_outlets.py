"""Outlet rule: sidecar > nearest outlets.toml > top-level subdirectory of the root > file stem."""

from __future__ import annotations

from pathlib import Path

import pytest
from wirecopy.connectors.outlets import MetadataError, outlet_for, read_sidecar


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_subdirectory_of_root_names_the_outlet(tmp_path: Path) -> None:
    assert outlet_for(touch(tmp_path / "outlet_x" / "file.txt"), root=tmp_path) == "outlet_x"
    assert outlet_for(touch(tmp_path / "outlet_x" / "2024" / "05" / "f.txt"), root=tmp_path) == "outlet_x"


def test_file_directly_in_root_or_without_root_uses_stem(tmp_path: Path) -> None:
    seed = touch(tmp_path / "seeds" / "000_1fb43b33.txt")
    assert outlet_for(seed, root=tmp_path / "seeds") == "000_1fb43b33"
    assert outlet_for(touch(tmp_path / "a" / "b" / "story.txt"), root=None) == "story"


def test_toml_patterns_in_order(tmp_path: Path) -> None:
    touch(
        tmp_path / "outlets.toml",
        '[outlets]\n"2024/*/bbc-*.html" = "bbc"\n"reuters_*.txt" = "reuters"\n"agence*" = "afp"\n',
    )
    assert outlet_for(touch(tmp_path / "reuters_01.txt"), root=tmp_path) == "reuters"
    assert outlet_for(touch(tmp_path / "agence-fp" / "deep" / "x.txt"), root=tmp_path) == "afp"
    assert outlet_for(touch(tmp_path / "2024" / "05" / "bbc-1.html"), root=tmp_path) == "bbc"
    assert outlet_for(touch(tmp_path / "2024" / "05" / "cnn-1.html"), root=tmp_path) == "2024"
    assert outlet_for(touch(tmp_path / "other.txt"), root=tmp_path) == "other"


def test_nearest_toml_first_then_parents_then_default(tmp_path: Path) -> None:
    touch(tmp_path / "outlets.toml", 'default = "top"\n[outlets]\n"*.html" = "html-outlet"\n')
    touch(tmp_path / "sub" / "outlets.toml", '[outlets]\n"special.txt" = "special"\n')
    assert outlet_for(touch(tmp_path / "sub" / "special.txt"), root=tmp_path) == "special"
    assert outlet_for(touch(tmp_path / "sub" / "page.html"), root=tmp_path) == "html-outlet"
    assert outlet_for(touch(tmp_path / "sub" / "plain.txt"), root=tmp_path) == "top"


def test_toml_above_root_is_ignored(tmp_path: Path) -> None:
    touch(tmp_path / "outlets.toml", 'default = "outside"\n')
    root = tmp_path / "root"
    assert outlet_for(touch(root / "a.txt"), root=root) == "a"
    assert outlet_for(touch(root / "a.txt"), root=None) == "a"
    assert outlet_for(touch(tmp_path / "b.txt"), root=None) == "outside"


def test_sidecar_outlet_wins(tmp_path: Path) -> None:
    touch(tmp_path / "outlets.toml", 'default = "top"\n')
    path = touch(tmp_path / "x" / "a.txt")
    touch(tmp_path / "x" / "a.txt.meta.json", '{"outlet": "from-sidecar", "title": "T"}')
    assert outlet_for(path, root=tmp_path) == "from-sidecar"
    meta = read_sidecar(path)
    assert meta is not None and meta.title == "T"


@pytest.mark.parametrize(
    "content", ['[outlets]\n"a" = 3\n', "not = toml = at all", 'colour = "red"\n', 'default = "  "\n']
)
def test_invalid_toml_raises_metadata_error(tmp_path: Path, content: str) -> None:
    touch(tmp_path / "outlets.toml", content)
    with pytest.raises(MetadataError, match=r"outlets\.toml"):
        outlet_for(touch(tmp_path / "a.txt"), root=tmp_path)


def test_toml_edits_are_picked_up(tmp_path: Path) -> None:
    toml = touch(tmp_path / "outlets.toml", 'default = "first"\n')
    path = touch(tmp_path / "a.txt")
    assert outlet_for(path, root=tmp_path) == "first"
    toml.write_text('default = "second-name"\n', encoding="utf-8")
    assert outlet_for(path, root=tmp_path) == "second-name"
