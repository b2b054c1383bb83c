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


def test_the_two_rooms_of_the_tests_stand_apart():
    """Tests from rows (normality) need nothing of the tests from statistics (inference)."""
    graph = import_graph()
    assert "gaussmle.normality" in graph["gaussmle.inference"]  # re-exported there
    assert "gaussmle.inference" not in graph["gaussmle.normality"]
    assert not graph["gaussmle._inference_common"]  # what both share imports neither


# ---------------------------------------------------------------------- covariance types
#: The public covariance types. Outside the structures (gaussmle.covariance) no module
#: may branch on them: a comparison with one of these literals, a dict keyed by one, a
#: subscript or a ``case`` with one is string dispatch. Ask the structure instead
#: (``structure_for(covariance_type)``).
COVARIANCE_LITERALS = frozenset({"diag", "full", "tied", "spherical"})
#: The statistics' own kind ("diag" or "full", GaussianStats.kind) stays a string: a
#: comparison whose operand is named ``kind`` (a variable, an attribute, or a call of a
#: ``..._stats_kind`` method) with only these literals is the statistics', not a
#: covariance type's.
STATS_KIND_LITERALS = frozenset({"diag", "full"})
#: Modules allowed to branch on the literals, each with its reason. The structures
#: themselves map the string through ``check_choice`` and need no entry; an entry that
#: is no longer needed fails the test below, so the list only shrinks.
BRANCHING_ALLOWED: dict[str, str] = {}


def _is_covariance_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in COVARIANCE_LITERALS


def _holds_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_covariance_literal(e) for e in node.elts)
    return _is_covariance_literal(node)


def _literals(node: ast.AST) -> set[str]:
    elts = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return {e.value for e in elts if _is_covariance_literal(e)}


def _names_kind(node: ast.AST) -> bool:
    """``kind``, ``x.kind`` or ``x._stats_kind()``: the statistics' kind."""
    if isinstance(node, ast.Name):
        return node.id == "kind"
    if isinstance(node, ast.Attribute):
        return node.attr == "kind"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        return name.endswith("stats_kind")
    return False


_BRANCHING_OPS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def covariance_type_branches(source: str, filename: str = "<string>") -> list[str]:
    """Each place in ``source`` that branches on a covariance-type literal, as ``line: code``.

    Examples
    --------
    >>> covariance_type_branches("if t == 'tied':\\n    pass\\nkind == 'full'")
    ["1: t == 'tied'"]
    >>> covariance_type_branches("x = {'diag': 1}")
    ["1: {'diag': 1}"]
    """
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        hit = False
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(op, _BRANCHING_OPS) for op in node.ops) and any(
                _holds_literal(o) for o in operands
            ):
                used = set().union(*(_literals(o) for o in operands))
                hit = not (any(_names_kind(o) for o in operands) and used <= STATS_KIND_LITERALS)
        elif isinstance(node, ast.Dict):
            hit = any(k is not None and _is_covariance_literal(k) for k in node.keys)
        elif isinstance(node, ast.Subscript):
            hit = _holds_literal(node.slice)
        elif isinstance(node, ast.MatchValue):
            hit = _is_covariance_literal(node.value)
        if hit:
            found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return sorted(found, key=lambda s: int(s.split(":")[0]))


def branches_in(root: Path) -> dict[str, list[str]]:
    """Module -> its branches on covariance-type literals, for every module under ``root``."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        hits = covariance_type_branches(path.read_text(), str(path))
        if hits:
            out[name] = hits
    return out


def test_the_branch_finder_sees_every_form():
    source = """
if covariance_type in ("diag", "spherical"): pass
if self.type != "tied": pass
shapes = {"full": 1}
x = table["spherical"]
match t:
    case "diag": pass
if kind == "diag": pass
if stats.kind != "full": pass
if self._stats_kind() == "full": pass
if kind == "tied": pass
if covariance_type == "banana": pass
"""
    lines = [int(hit.split(":")[0]) for hit in covariance_type_branches(source)]
    # the statistics' kind (lines 8-10) passes; a covariance type named ``kind`` does not
    assert lines == [2, 3, 4, 5, 7, 11]


def test_no_module_branches_on_covariance_type_outside_the_structures():
    found = branches_in(ROOT)
    unexpected = {name: hits for name, hits in found.items() if name not in BRANCHING_ALLOWED}
    assert not unexpected, "branches on covariance_type (ask structure_for(...) instead):\n" + (
        "\n".join(f"{name}:{hit}" for name, hits in unexpected.items() for hit in hits)
    )
    stale = sorted(set(BRANCHING_ALLOWED) - set(found))
    assert not stale, f"allowed to branch but no longer does (remove the entry): {stale}"
