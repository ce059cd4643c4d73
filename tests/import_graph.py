"""The project's import rules, checked on the source tree with `ast` (nothing imported).

Layers: engines <- scenarios <- console.core <- console.render <- console.cli / console.tui.
A module may import its own layer and the layers below it; cli and tui never import each
other; core imports no textual or argparse and never prints; no import cycles between
modules (imports inside functions count: they cycle at run time)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOTS = {"engines": "paramlab.engines", "scenarios": "paramlab.scenarios",
         "console": "paramlab.console"}

# (layer prefix, prefixes it may import within paramlab)
ALLOWED = [
    ("paramlab.engines", ("paramlab.engines",)),
    ("paramlab.scenarios", ("paramlab.scenarios", "paramlab.engines")),
    ("paramlab.console.core", ("paramlab.console.core", "paramlab.scenarios",
                               "paramlab.engines")),
    ("paramlab.console.render", ("paramlab.console.render", "paramlab.console.core",
                                 "paramlab.scenarios", "paramlab.engines")),
    ("paramlab.console.cli", ("paramlab.console.cli", "paramlab.console.render",
                              "paramlab.console.core", "paramlab.scenarios",
                              "paramlab.engines")),
    ("paramlab.console.tui", ("paramlab.console.tui", "paramlab.console.render",
                              "paramlab.console.core", "paramlab.scenarios",
                              "paramlab.engines")),
    ("paramlab.console", ("paramlab.console",)),  # the package's own __init__
]
FORBIDDEN_LIBS = {"paramlab.console.core": ("textual", "argparse"),
                  "paramlab.console.render": ("textual", "argparse"),
                  "paramlab.console.cli": ("textual",)}
NO_PRINT = ("paramlab.console.core",)


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for folder, package in ROOTS.items():
        base = root / folder
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((mod, node.lineno))
            found += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    return found


def _layer(name: str) -> tuple[str, tuple[str, ...]]:
    return next((p, ok) for p, ok in ALLOWED if name == p or name.startswith(p + "."))


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path) -> list[str]:
    mods = modules(root)
    out: list[str] = []
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        layer, ok = _layer(name)
        where = f"{path.relative_to(root)}"
        for target, line in imports(name, path):
            if target.startswith("paramlab"):
                if target in mods:
                    graph[name].add(target)
                if not any(_under(target, p) for p in ok):
                    out.append(f"{where}:{line}: {layer} may not import {target}")
            for prefix, libs in FORBIDDEN_LIBS.items():
                if _under(name, prefix) and target.split(".")[0] in libs:
                    out.append(f"{where}:{line}: {prefix} may not import {target}")
        if any(_under(name, p) for p in NO_PRINT):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id == "print":
                    out.append(f"{where}:{node.lineno}: the core does not print")
    out += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (a package
    importing its own submodules is not a cycle with them: edges from a package to its
    children are left out)."""
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found
