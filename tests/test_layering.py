"""The imports of harness/ point one way: read with ast (nothing is imported), every import of
a harness module, at the top or inside a function, must go to a stage the importer may use,
and no chain of imports may come back to where it started.

    errors paths targets histogram      the names everything shares
    infra   store                        processes and ports; the results folder
    run   measure                        produce trials and measurements into the store
    analysis                             reads the store (and may be used by a run that reads
                                         what it stored so far: the sweep's open-loop rates)
    claims                               verdicts on the analysis
    report                               the page and the terminal tables
    pipeline cli distributed             the flows and the commands

scenarios/ is configuration beside the harness: it may use the shared names only."""
import ast
from pathlib import Path

from harness.paths import ROOT

BASE = {"errors", "paths", "targets", "histogram"}
ENTRY = {"pipeline", "cli", "distributed"}
# stage -> the stages its modules may import (besides their own)
MAY_USE = {
    "base": set(),
    "scenarios": {"base"},
    "infra": {"base"},
    "store": {"base"},
    "run": {"base", "scenarios", "infra", "store", "analysis"},
    "measure": {"base", "infra", "store"},
    "analysis": {"base", "scenarios", "store"},
    "claims": {"base", "store", "analysis"},
    "report": {"base", "scenarios", "store", "analysis", "claims"},
    "entry": {"base", "scenarios", "infra", "store", "run", "measure", "analysis", "claims",
              "report", "entry"},
}


def stage(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "scenarios":
        return "scenarios"
    name = parts[1] if len(parts) > 1 else "errors"  # the package itself: empty
    if name in BASE:
        return "base"
    if name in ENTRY:
        return "entry"
    if name == "wsgi_driver":  # stays at the top: callgrind's counts depend on its path
        return "measure"
    return name  # infra, run, measure, analysis, claims, report, store


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str, known: set) -> set:
    """The known modules that `module` imports; `from pkg import name` counts as importing
    pkg.name when that is a module, else pkg."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.add(full if full in known else source)
    return {m for m in found if m in known and m != module}


def graph(root: Path = ROOT) -> dict:
    files = {module_name(p, root): p for top in ("harness", "scenarios")
             for p in (root / top).rglob("*.py")}
    return {m: imports_of(p, m, set(files)) for m, p in files.items()}


def upward(edges: dict) -> list[str]:
    return [f"{a} ({stage(a)}) imports {b} ({stage(b)})" for a, targets in sorted(edges.items())
            for b in sorted(targets)
            if stage(a) != stage(b) and stage(b) not in MAY_USE[stage(a)]]


def cycles(edges: dict) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_module_belongs_to_a_stage():
    assert not [m for m in graph() if stage(m) not in MAY_USE]


def test_no_import_goes_up_a_stage():
    found = upward(graph())
    assert not found, "imports against the stages:\n" + "\n".join(found)


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checks_see_a_cycle_and_an_upward_import(tmp_path):
    """A tree with a planted cycle (run.a -> run.b -> run.a) and a store that imports the
    report: both are found, so a green run above means something."""
    for name, text in {"harness/__init__.py": "", "harness/run/__init__.py": "",
                       "harness/report/__init__.py": "",
                       "harness/run/a.py": "from . import b\n",
                       "harness/run/b.py": "def f():\n    from .a import x\n",
                       "harness/store.py": "from .report import html\n",
                       "harness/report/html.py": "", "scenarios/__init__.py": ""}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    edges = graph(tmp_path)
    assert cycles(edges) == [["harness.run.a", "harness.run.b"]]
    assert upward(edges) == ["harness.store (store) imports harness.report.html (report)"]
