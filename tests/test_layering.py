"""DESIGN.md's dependency rule: the core (and io) never import napari, Qt or magicgui."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "napari_segdl"
FORBIDDEN = {
    "napari",
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "magicgui",
    "superqt",
    "psygnal",
}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize(
    "path",
    sorted([*PACKAGE.glob("core/**/*.py"), *PACKAGE.glob("io/**/*.py")]),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_core_is_free_of_napari_and_qt(path):
    assert not FORBIDDEN & set(_imports(path))
