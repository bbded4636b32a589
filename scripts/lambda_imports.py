"""Which libraries a Lambda function can import, read from its source.

Starting at ``functions/<name>/handler.py``, follow every import of the
project's own modules — at module level and inside functions, since a lazy
import still runs in production — and collect the third-party modules they
reach. Imports under ``if TYPE_CHECKING:`` never run and are skipped. The
packaging uses this to refuse a zip that would miss a library.
"""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN_PACKAGES = ("functions", "shared")


def third_party_imports(function: str) -> set[str]:
    """Top-level names of the libraries a function's handler can import."""
    found: set[str] = set()
    seen: set[Path] = set()
    pending = [ROOT / "functions" / function / "handler.py"]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path):
            top = module.partition(".")[0]
            if top in OWN_PACKAGES:
                pending.extend(_own_files(module))
            elif top not in sys.stdlib_module_names:
                found.add(top)
    return found


def _own_files(module: str) -> Iterator[Path]:
    """The files of a project module (a ``from shared import db`` names a
    package, so its ``__init__`` and, if it is a module, ``db.py`` count)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            yield candidate


def _imported_modules(path: Path) -> Iterator[str]:
    package = ".".join(path.relative_to(ROOT).parent.parts)
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    yield from _runtime_nodes(node)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
