"""The import layering of docs/ARCHITECTURE.md, enforced by direction (as napari's import-linter contracts do).

Every import of a studio module, at the top of a file or inside a function, counts: a lazy import is
still a dependency. A layer may import its own modules and those of lower layers only; only studio/gui
imports Qt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STUDIO = Path(__file__).resolve().parents[1] / "studio"

# Lowest first. Units in one tuple are one layer: they may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "fileio", "threads", "fastpath", "grids"),
    ("settings",),
    ("data",),
    ("nn",),
    ("methods",),
    ("metrics",),
    ("engine",),
    ("export", "latent", "runs"),
    ("bench", "experiments"),
    ("gui",),
    ("commands",),
    ("cli",),
    ("__main__", "__init__"),
)
QT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph")


def layer_of(unit: str) -> int:
    for index, units in enumerate(LAYERS):
        if unit in units:
            return index
    raise AssertionError(f"studio/{unit} is in no layer of tests/test_layers.py: add it where it belongs")


def imports(path: Path, root: Path = STUDIO) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `path`, a module of the tree at `root`."""
    parts = ["studio", *path.relative_to(root).with_suffix("").parts]
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [f"{module}.{a.name}" for a in node.names] if not node.module else [module]
            else:
                names = [node.module or ""]
            found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "studio" and len(parts) > 1 else ("__init__" if parts == ["studio"] else None)


def violations(root: Path = STUDIO) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        here = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for line, module in imports(path, root):
            if module.split(".")[0] in QT_PACKAGES and here != "gui":
                found.append(f"studio/{rel}:{line} imports {module}: only studio/gui may import Qt")
            there = unit_of(module)
            if there is None or there == here:
                continue
            if layer_of(there) >= layer_of(here):
                found.append(f"studio/{rel}:{line} imports {module}: studio/{here} (layer {layer_of(here)}) may "
                             f"only import lower layers, and studio/{there} is layer {layer_of(there)}")
    return found


def test_each_layer_imports_only_the_layers_below_it():
    assert violations() == []


@pytest.mark.parametrize("lower, higher", [("engine", "gui"), ("data", "methods"), ("fileio", "settings"),
                                           ("metrics", "engine")])
def test_the_check_fails_when_a_lower_layer_imports_a_higher_one(tmp_path, lower, higher):
    """A copy of the tree with one upward import added is caught, naming the file and both layers."""
    import shutil

    tree = tmp_path / "studio"
    shutil.copytree(STUDIO, tree, ignore=shutil.ignore_patterns("__pycache__"))
    target = tree / lower / "__init__.py" if (tree / lower).is_dir() else tree / f"{lower}.py"
    target.write_text(target.read_text(encoding="utf-8") + f"\nfrom studio.{higher} import something  # noqa\n",
                      encoding="utf-8")
    found = violations(tree)
    assert any(f"imports studio.{higher}" in v and f"studio/{lower}" in v for v in found), found


def test_qt_outside_the_gui_is_caught(tmp_path):
    import shutil

    tree = tmp_path / "studio"
    shutil.copytree(STUDIO, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "engine" / "sneaky.py").write_text("from PySide6.QtCore import QTimer\n", encoding="utf-8")
    assert any("only studio/gui may import Qt" in v for v in violations(tree))
