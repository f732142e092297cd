"""The layering rules of docs/ARCHITECTURE.md, checked on the source with the standard ``ast``.

- No import cycles among Folio's modules, counting imports inside functions too (an import
  moved into a function hides a cycle from Python, not from a reader).
- ``desktop/core`` imports neither the window (``desktop.ui``), the CLI, the composition
  root nor Qt; the shared services import no UI.
- An import inside a function is there only to load something heavy lazily, and says so in
  a comment on its line or the line above.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

DESKTOP = Path(__file__).resolve().parents[1] / "desktop"
QT_MODULES = ("PySide6", "shiboken6")


@dataclass(frozen=True)
class Import:
    """One import statement of a module: what it names, where, and whether in a function."""

    target: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = path.relative_to(DESKTOP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in DESKTOP.rglob("*.py")}


def _imports(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.extend(
                    Import(f"{base}.{a.name}", child.lineno, in_function) for a in child.names
                )
            visit(child, nested)

    visit(tree, in_function=False)
    return found


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The Folio module an imported name lives in (``pkg.mod.Name`` -> ``pkg.mod``)."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def _is_type_checking_only(path: Path, line: int) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end:
                return True
    return False


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imp in _imports(name, path):
            target = _resolve(imp.target, modules)
            if target and target != name and not _is_type_checking_only(path, imp.line):
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
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

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_core_imports_no_ui_cli_or_qt() -> None:
    forbidden = ("desktop.ui", "desktop.cli", "desktop.app", *QT_MODULES)
    offences = [
        f"{name} imports {imp.target} (line {imp.line})"
        for name, path in _modules().items()
        if name.startswith("desktop.core")
        for imp in _imports(name, path)
        if imp.target.startswith(forbidden)
    ]
    assert offences == []


def test_services_import_no_ui() -> None:
    path = DESKTOP / "services.py"
    offences = [
        imp.target
        for imp in _imports("desktop.services", path)
        if imp.target.startswith(("desktop.ui", *QT_MODULES))
    ]
    assert offences == []


def _documented(lines: list[str], line: int) -> bool:
    """A comment on the import's line, or above the run of import lines it belongs to."""
    if "#" in lines[line - 1]:
        return True
    for text in (lines[i].strip() for i in range(line - 2, -1, -1)):
        if text.startswith("#"):
            return True
        in_import = (
            text.startswith(("from ", "import ")) or text.endswith((",", "(")) or text == ")"
        )
        if not in_import:
            return False
    return False


def test_an_import_inside_a_function_says_why() -> None:
    undocumented = [
        f"{path.relative_to(DESKTOP.parent)}:{imp.line}"
        for name, path in _modules().items()
        for imp in _imports(name, path)
        if imp.in_function
        and not _documented(path.read_text(encoding="utf-8").splitlines(), imp.line)
    ]
    assert sorted(set(undocumented)) == []
