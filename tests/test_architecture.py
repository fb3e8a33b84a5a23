"""The dependency rule of docs/architecture.md, enforced.

- no import cycle between the package's modules, imports inside functions included;
- imports only go down the layers drawn there (:data:`LAYERS`);
- ``core/`` and ``io/`` never import napari, Qt or magicgui (absolute or relative imports);
- no source file over 300 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import napari_segdl

PACKAGE = Path(napari_segdl.__file__).resolve().parent
FORBIDDEN = {"napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "superqt"}
GUI_MODULES = {"napari_segdl._widgets", "napari_segdl._reader", "napari_segdl._sample_data"}


#: The layers of docs/architecture.md, lowest first. A part may import itself and the parts of
#: lower layers, never a part of its own layer or above (the package's top, which only holds
#: the version and the lazy API, is importable from anywhere).
LAYERS = [
    {"core.errors"},
    {"core.paths", "core.images", "core.schema", "core.backend"},
    {"core.stacks", "core.evaluate", "core.preprocess", "core.models", "io", "_sample_data"},
    {"core.labels"},
    {"core.metadata"},
    {"core.bundle"},
    {"core.infer"},
    {"core.interop", "core.train"},
    {"core.worker"},
    {"flows", "_widgets", "_reader"},
    {"cli"},
]


def _module_name(path: Path) -> str:
    parts = ["napari_segdl", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement, in functions too, except those under ``if TYPE_CHECKING``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imported(name: str, path: Path) -> set[str]:
    """Absolute names of everything ``name`` imports (``from x import y`` gives x and x.y)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
            continue
        base = package.split(".")
        if node.level:
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
        else:
            target = node.module or ""
        found.add(target)
        found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    return {
        name: {target for target in _imported(name, path) if target in MODULES and target != name}
        for name, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def _part(module: str) -> str:
    """``core.infer`` for ``napari_segdl.core.infer.predict``, ``io`` for ``napari_segdl.io.x``."""
    parts = module.split(".")[1:]
    return ".".join(parts[:2]) if parts[:1] == ["core"] else parts[0]


def _layer(part: str) -> int:
    found = [n for n, layer in enumerate(LAYERS) if part in layer]
    assert found, f"{part} is in no layer of LAYERS: draw it in docs/architecture.md and here"
    return found[0]


def test_imports_only_go_down_the_layers():
    upward = sorted(
        f"{source} imports {target}"
        for source, targets in _graph().items()
        for target in targets
        if "napari_segdl" not in (source, target)
        and _part(source) != _part(target)
        and _layer(_part(target)) >= _layer(_part(source))
    )
    assert upward == []


def test_the_layer_check_sees_an_upward_import():
    assert _layer(_part("napari_segdl.core.interop.zoo")) > _layer(
        _part("napari_segdl.core.infer.predict")
    )
    assert _part("napari_segdl._widgets.predict") == "_widgets"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_relative_imports_are_resolved():
    imported = _imported(
        "napari_segdl.core.infer.predict", MODULES["napari_segdl.core.infer.predict"]
    )
    assert "napari_segdl.core.bundle" in imported


@pytest.mark.parametrize(
    "name", sorted(n for n in MODULES if n.startswith(("napari_segdl.core", "napari_segdl.io")))
)
def test_core_and_io_import_neither_napari_nor_qt(name):
    path = MODULES[name]
    external = {t.split(".")[0] for t in _imported(name, path)}
    internal_gui = {t for t in _imported(name, path) if t.startswith(tuple(GUI_MODULES))}
    assert not FORBIDDEN & external
    assert not internal_gui


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_source_file_over_300_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= 300, f"{MODULES[name].name} has {lines} lines; split it by concern"
