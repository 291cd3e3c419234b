"""The package's import graph: no cycles, and no module reaching into another's private names.

Every `import` under affect_llm/ counts, also those inside functions (a lazy import is still a
dependency), with relative imports resolved. A cycle means two modules cannot be understood or
moved apart; the layer order (taxonomy ... -> training -> commands) has none.
"""

from __future__ import annotations

import ast
from pathlib import Path

import affect_llm

PACKAGE = Path(affect_llm.__file__).parent
# The layers, bottom up (docs/architecture.md); top-level modules (taxonomy, parsing, metrics,
# rewards, errors, files, ...) are the bottom layer. A module imports only its own layer or lower.
LAYERS = {
    "perception": 1,
    "data": 2,
    "modeling": 3,
    "training": 4,
    "evaluation": 5,
    "chat": 5,
    "commands": 6,
    "cli": 6,
}
# Left to issue 21's datasets package, which moves the EMER reader beside the readers it uses.
PENDING_PRIVATE: set[tuple[str, str]] = set()


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import statement of one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (a `from package import submodule` included)."""
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, names in imports(name, path):
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in known and candidate != name:
                    edges[name].add(candidate)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_cycle_finder_finds_a_cycle_and_only_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle():
    edges = graph()
    assert edges["affect_llm.training.trainers"] >= {"affect_llm.training.data_loading"}
    assert cycles(edges) == []


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def test_no_module_imports_a_higher_layer():
    """e.g. only the command line imports the commands, and modeling never imports training."""
    edges = graph()
    upward = [f"{a} -> {b}" for a, targets in edges.items() for b in targets if layer(b) > layer(a)]
    assert upward == []


def test_no_module_imports_another_modules_private_names():
    known = modules()
    offenders = []
    for name, path in known.items():
        for target, names in imports(name, path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            ours = target.split(".")[0] == "affect_llm"  # other libraries' internals are theirs
            if private and ours and target != name and (name, target) not in PENDING_PRIVATE:
                offenders.append(f"{name}: from {target} import {', '.join(private)}")
    assert offenders == []
