"""The dependency rule of docs/architecture.md, read from the source with `ast`.

faces (cli, report, service, codegen, advisor) → families (experiments, observational, quasi, geo,
uplift, …) → shared layer (core, data, stats, ml, engine, graph). A family imports only the shared layer and
itself – never another family, a face, or a private name of another package; the shared layer
imports only the shared layer. Imports inside functions count: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "cerebro"
SHARED = {"core", "data", "stats", "ml", "engine", "graph"}
FACES = {"cli", "report", "service", "codegen", "advisor"}
# Faces that reach the families only through the registry (spec dicts, `parse_spec`): they
# import the shared layer and themselves, never a family (nor another face).
REGISTRY_ONLY_FACES = {"codegen", "advisor"}
# Modules at the package root: the public API re-exports, the catalog naming the module that
# registers each kind, the spec runner and the example data sets.
ROOT_MODULES = {"__init__", "catalog", "run", "datasets"}

# The only upward edges, each deliberate and lazy: a Result renders itself through the report
# face (str(), _repr_html_, plot()), and the registry reads the catalog to import a kind.
ALLOWED = {
    ("cerebro.core.results", "cerebro.report.text"),
    ("cerebro.core.results", "cerebro.report.plots"),
    ("cerebro.core.registry", "cerebro.catalog"),
}


def package_of(module: str) -> str:
    """'cerebro.quasi.did' → 'quasi'; 'cerebro.run' → 'run'; 'cerebro' → '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every `import`/`from … import` in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "cerebro":
                found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "cerebro"]
    return found


def violations(root: Path = ROOT) -> list[str]:
    """Every import that breaks the rule, as 'importer → imported: why'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        importer = (
            module_name(path)
            if root == ROOT
            else "cerebro." + ".".join(path.relative_to(root).with_suffix("").parts)
        )
        source = package_of(importer)
        if source in FACES or (source in ROOT_MODULES and source != "__init__"):
            layer = "face"
        elif source == "__init__":
            continue  # the public API re-exports everything
        else:
            layer = "shared" if source in SHARED else "family"
        for imported, names in imports(path):
            # `from cerebro import x` names a module or the version: resolve it
            targets = [f"cerebro.{n}" for n in names] if imported == "cerebro" else [imported]
            for target in targets:
                target_package = package_of(target)
                if (importer, target) in ALLOWED or target_package == source:
                    continue
                private = [n for n in names if n.startswith("_") and not n.endswith("__")]
                if private and layer != "face":
                    problems.append(f"{importer} → {target}: private name(s) {private}")
                if layer == "face":
                    continue
                if target_package not in SHARED:
                    problems.append(
                        f"{importer} → {target}: a {layer} module may import only the shared "
                        f"layer ({', '.join(sorted(SHARED))})"
                        + ("" if layer == "shared" else " and its own family")
                    )
    return problems


def test_every_import_follows_the_layering_rule() -> None:
    problems = violations()
    assert not problems, "layering rule broken:\n" + "\n".join(problems)


@pytest.mark.parametrize("face", sorted(REGISTRY_ONLY_FACES))
def test_codegen_and_the_advisor_reach_the_families_only_through_the_registry(face: str) -> None:
    """They write specs of every kind as dicts and validate them with `parse_spec`, so no
    estimator's import is theirs: one family's change cannot break them by an import."""
    outside = []
    for path in sorted((ROOT / face).rglob("*.py")):
        for imported, names in imports(path):
            targets = [f"cerebro.{n}" for n in names] if imported == "cerebro" else [imported]
            outside += [t for t in targets if package_of(t) not in SHARED | {face}]
    assert outside == []


@pytest.mark.parametrize(
    ("path", "source", "broken"),
    [
        ("quasi/leak.py", "from cerebro.observational.spec import CausalSpec\n", True),
        ("geo/leak.py", "from cerebro.stats.ridge import _private\n", True),
        ("stats/leak.py", "def f():\n    from cerebro.experiments import abtest\n", True),
        ("geo/ok.py", "from cerebro.stats.ridge import ridge_corrections\n", False),
        ("cli/ok.py", "from cerebro.quasi.did import run\n", False),
    ],
)
def test_the_rule_catches_a_deliberate_violation(
    tmp_path: Path, path: str, source: str, broken: bool
) -> None:
    """The checker itself: a family importing another family, a private name, or the shared
    layer importing a family is reported; legal imports are not."""
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text(source)
    assert bool(violations(tmp_path)) is broken
