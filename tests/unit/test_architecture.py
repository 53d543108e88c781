"""The package's shape: imports point inward, no import cycles, the engine stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

import guichet

PACKAGE = Path(guichet.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, module_level_only: bool) -> set[str]:
    """guichet modules imported by `path` (hint-only imports under TYPE_CHECKING excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    this = _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("guichet"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
                if base.startswith("guichet"):
                    for alias in node.names:
                        candidate = f"{base}.{alias.name}"
                        found.add(candidate if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                                  or (PACKAGE.parent / candidate.replace(".", "/")).is_dir() else base)
            elif not module_level_only and hasattr(node, "body"):
                visit([n for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node])

    visit(tree.body)
    return found - {this}


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p, module_level_only=True) for p in PACKAGE.rglob("*.py")}


def test_no_import_cycles_between_modules():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_models_and_the_engine_never_import_the_layers_above():
    upper = ("guichet.web", "guichet.cli", "guichet.jobs", "guichet.requests", "guichet.doctors",
             "guichet.assignment", "guichet.messaging", "guichet.accounts", "guichet.territories",
             "guichet.reporting", "guichet.workflow", "guichet.demo")
    offenders = []
    for path in [*PACKAGE.joinpath("models").rglob("*.py"), *PACKAGE.joinpath("matching").rglob("*.py")]:
        for target in _imports(path, module_level_only=False):
            if target.startswith(upper) or (path.parent.name == "matching" and not target.startswith("guichet.matching")):
                offenders.append(f"{_module_name(path)} -> {target}")
    assert offenders == []


def test_domain_packages_never_import_the_web_the_cli_or_the_jobs():
    domains = ("requests", "doctors", "assignment", "messaging", "accounts", "territories", "reporting")
    offenders = [
        f"{_module_name(path)} -> {target}"
        for domain in domains
        for path in PACKAGE.joinpath(domain).rglob("*.py")
        for target in _imports(path, module_level_only=False)
        if target.startswith(("guichet.web", "guichet.cli", "guichet.jobs"))
    ]
    assert offenders == []


def test_every_domain_package_names_the_rules_it_owns():
    for domain in ("requests", "doctors", "assignment", "messaging", "accounts", "territories", "reporting"):
        doc = ast.get_docstring(ast.parse(PACKAGE.joinpath(domain, "__init__.py").read_text()))
        assert doc and len(doc) > 40, domain
