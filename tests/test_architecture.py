"""The shape of the package: no import cycles anywhere in src/ (one documented
exception: a model's ``summary()`` method, see ``SUMMARY_METHODS``).

Every module's imports are read with :mod:`ast`, including those inside
functions (a lazy import is still a dependency); imports under ``if
TYPE_CHECKING:`` are for annotations only and do not count. An import of
``gaussmle.a.b`` is an edge to that module (or package ``__init__``), not to
its parent packages, whose ``__init__`` every submodule would otherwise
depend on.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "gaussmle"


def _module_names() -> dict[str, Path]:
    """Dotted name -> file, for every module and package under src/gaussmle."""
    names = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            members: list[str] = []
        else:
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            bases = [base]
            members = [alias.name for alias in node.names]
        for base in bases:
            if not base.startswith(PACKAGE):
                continue
            hits = [f"{base}.{m}" for m in members if f"{base}.{m}" in modules]
            if hits:
                out.update(hits)
            # names imported from a module (not submodules) depend on the module itself
            if base in modules and (not members or len(hits) < len(members)):
                out.add(base)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (at module level or inside functions)."""
    modules = _module_names()
    return {name: _targets(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first repeated at the end), or None.

    Examples
    --------
    >>> find_cycle({"a": {"b"}, "b": {"a"}})
    ['a', 'b', 'a']
    >>> find_cycle({"a": {"b"}, "b": set()}) is None
    True
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    # a module-level relative import of a sibling package's module
    assert "gaussmle.kernels._kernels" in graph["gaussmle.stats"]
    # an import inside a function (the compiled modules are loaded on first use)
    assert "gaussmle.kernels._numba_predict" in graph["gaussmle.kernels._kernels"]


def test_find_cycle_finds_a_planted_cycle():
    graph = import_graph()
    graph["gaussmle.stats"] = graph["gaussmle.stats"] | {"gaussmle.classifier"}
    assert find_cycle(graph) is not None


#: The one sanctioned upward call: ``summary()`` on a model is a convenience (as
#: statsmodels' ``results.summary()``) that imports the reporting layer inside that
#: method and nowhere else. The summary needs the tests of :mod:`gaussmle.inference`,
#: which take models, so this edge closes a loop by its nature; every other edge of
#: the loop must still be acyclic, and these modules may not import the summary
#: anywhere but in their ``summary`` method (checked below).
SUMMARY_METHODS = {
    ("gaussmle.gaussian", "gaussmle.summary"),
    ("gaussmle.classifier", "gaussmle.summary"),
    ("gaussmle.mixture", "gaussmle.summary"),
}


def _function_imports_of(path: Path, target: str) -> list[str]:
    """Names of the functions (or "<module>") in which ``path`` imports ``target``."""
    found: list[str] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
            elif isinstance(child, ast.ImportFrom) and (
                (child.level and child.module == target.rpartition(".")[2])
                or child.module == target
            ):
                found.append(where)
            else:
                visit(child, where)

    visit(ast.parse(path.read_text(), str(path)), "<module>")
    return found


def test_the_summary_is_imported_only_by_summary_methods():
    modules = _module_names()
    for source, target in SUMMARY_METHODS:
        assert _function_imports_of(modules[source], target) == ["summary"], source


def test_no_import_cycle_in_src():
    graph = import_graph()
    for source, target in SUMMARY_METHODS:
        graph[source] = graph[source] - {target}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_summary_method_anywhere_else_is_still_a_cycle():
    graph = import_graph()
    graph["gaussmle.stats"] = graph["gaussmle.stats"] | {"gaussmle.summary"}
    for source, target in SUMMARY_METHODS:
        graph[source] = graph[source] - {target}
    assert find_cycle(graph) is not None


def test_backends_do_not_import_the_classifier():
    """The Dask backend returns statistics; the classifier absorbs them (one way)."""
    graph = import_graph()
    backend = [name for name in graph if name.startswith("gaussmle.dask_backend")]
    assert len(backend) >= 5
    for name in backend:
        assert "gaussmle.classifier" not in graph[name], name
