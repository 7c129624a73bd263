"""The import layering of docs/ARCHITECTURE.md, enforced by direction (as napari's import-linter contracts do).

Every import of a studio module, at the top of a file or inside a function, counts: a lazy import is
still a dependency. A layer may import its own modules and those of lower layers only; only studio/gui
imports Qt; the modules of one package import each other without circles; and no import of the studio's
own code is guarded by `except ImportError` (a broken module must fail a test, not switch a feature
off), while a guard around an optional package says which package is missing.
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


# --- no import circles inside a package ---------------------------------------------------------------
def module_name(path: Path, root: Path = STUDIO) -> str:
    parts = ["studio", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = STUDIO) -> dict[str, set[str]]:
    """Each studio module -> the studio modules it imports (at the top or inside a function)."""
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}

    def resolve(name: str) -> str | None:  # `from .x import y`: the module x, or y where y is a module
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:
            parts = parts[:-1]
        return ".".join(parts) or None

    graph = {}
    for module, path in modules.items():
        targets = {resolve(name) for _, name in imports(path, root)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def circles(root: Path = STUDIO) -> list[list[str]]:
    """The import circles among the modules of one unit (a package such as studio/gui, or a leaf),
    each as its modules in order (Tarjan's strongly connected components of more than one module)."""
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if unit_of(w) != unit_of(v):
                continue  # across units the layers decide (test above)
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_package_has_an_import_circle():
    assert circles() == []


def test_the_circle_check_finds_one(tmp_path):
    import shutil

    tree = tmp_path / "studio"
    shutil.copytree(STUDIO, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "gui" / "ping.py").write_text("def f():\n    from .pong import g\n", encoding="utf-8")
    (tree / "gui" / "pong.py").write_text("from . import ping\n\n\ndef g():\n    pass\n", encoding="utf-8")
    assert circles(tree) == [["studio.gui.ping", "studio.gui.pong"]]


# --- no silent fallback around the studio's own code ---------------------------------------------------
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
# Packages every installation has: a guard around one of their imports is a version difference (an older
# numpy or torch), not an optional package.
DEPENDENCIES = {"numpy", "torch"}
# Where a package is installed under another name than it is imported by.
DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def _catches_import_errors(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(n, "id", getattr(n, "attr", None)) in IMPORT_ERRORS for n in names)


def import_guards(path: Path, root: Path = STUDIO) -> list[tuple[int, list[str], str]]:
    """(line, modules imported in the try, the text its handlers say or record) of each try whose handlers
    catch an import error."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = ["studio", *path.relative_to(root).with_suffix("").parts]
    package = parts[:-1]
    guards = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try) or not any(_catches_import_errors(h) for h in node.handlers):
            continue
        modules = []
        for inner in (n for stmt in node.body for n in ast.walk(stmt)):
            if isinstance(inner, ast.ImportFrom):
                base = package[: len(package) - inner.level + 1] if inner.level else []
                modules.append(".".join(base + ([inner.module] if inner.module else [])))
            elif isinstance(inner, ast.Import):
                modules += [a.name for a in inner.names]
        said = [n.value for h in node.handlers for n in ast.walk(h)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        guards.append((node.lineno, modules, "\n".join(said)))
    return guards


def silent_fallbacks(root: Path = STUDIO) -> list[str]:
    """Guards that hide a broken studio module, and guards of optional packages whose message does not name them."""
    import sys

    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        for line, modules, handlers in import_guards(path, root):
            for module in modules:
                top = module.split(".")[0]
                if top == "studio":
                    found.append(f"studio/{rel}:{line} catches the failed import of {module}: import the studio's "
                                 "own code unguarded, so a broken module fails a test")
                elif top not in DEPENDENCIES and top not in sys.stdlib_module_names and not (
                        top.lower() in handlers.lower() or DISTRIBUTIONS.get(top, top).lower() in handlers.lower()):
                    found.append(f"studio/{rel}:{line} guards the optional package {top} without naming it in "
                                 "its message")
    return found


def test_no_import_of_the_studios_own_code_is_guarded():
    assert silent_fallbacks() == []


def test_the_guard_check_finds_a_hidden_module_and_a_nameless_fallback(tmp_path):
    import shutil

    tree = tmp_path / "studio"
    shutil.copytree(STUDIO, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "engine" / "sneaky.py").write_text(
        "def evaluator():\n    try:\n        from .evaluation import make_evaluator\n    except ImportError:\n"
        "        return None\n    return make_evaluator\n\n\ntry:\n    import fancylib\nexcept ImportError:\n"
        "    fancylib = None\n", encoding="utf-8")
    found = silent_fallbacks(tree)
    assert any("engine/sneaky.py:2 catches the failed import of studio.engine.evaluation" in f for f in found), found
    assert any("engine/sneaky.py:9 guards the optional package fancylib" in f for f in found), found


# --- the data layer's own layers ---------------------------------------------------------------------
DATA_LAYERS = ("sources", "decode", "cache")  # highest first: each imports only those after it (and the root)


def data_violations(root: Path = STUDIO) -> list[str]:
    """Imports in studio/data/<layer>/ of a higher layer of the data package (decode importing sources, ...)."""
    found = []
    for index, layer in enumerate(DATA_LAYERS):
        for path in sorted((root / "data" / layer).rglob("*.py")):
            for line, module in imports(path, root):
                parts = module.split(".")
                if parts[:2] == ["studio", "data"] and len(parts) > 2 and parts[2] in DATA_LAYERS[:index]:
                    found.append(f"studio/{path.relative_to(root)}:{line} imports {module}: data/{layer} may not "
                                 f"import data/{parts[2]}")
    return found


def test_the_data_packages_sources_decode_and_cache_import_downwards():
    assert data_violations() == []


def test_the_data_check_finds_decoding_that_knows_a_source(tmp_path):
    import shutil

    tree = tmp_path / "studio"
    shutil.copytree(STUDIO, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "data" / "decode" / "sneaky.py").write_text("from ..sources.zips import open_zip\n", encoding="utf-8")
    assert data_violations(tree) == ["studio/data/decode/sneaky.py:1 imports studio.data.sources.zips: data/decode "
                                     "may not import data/sources"]
