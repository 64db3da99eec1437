"""The package imports one way only: ingest -> model -> report (plus the leaf utilities).

Every ``import analysis.X`` / ``from analysis.X import`` (including imports inside functions) is
read with ``ast``; a module may import only its own subpackage or a lower layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analysis"
LAYERS = {  # lower number = lower layer
    "__init__": 0, "io": 0, "runtime": 0, "progress": 0, "style": 1,
    "scenarios": 1, "data": 2, "cli_support": 3, "forensics": 3, "model": 3,
    "validation": 4, "sensitivity": 4, "report": 5, "cli": 6,
}


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, subpackage) of every analysis import in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "analysis":
                if len(parts) > 1:
                    out.append((node.lineno, parts[1]))
                else:  # from analysis import style, io, ...
                    out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name.split(".")[1]) for a in node.names
                       if a.name.startswith("analysis."))
    return out


def _violations(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        own = _top(path)
        for line, target in _imports(path):
            if target == own or target == "__version__":
                continue
            if target not in LAYERS:
                bad.append(f"{path.relative_to(root.parent)}:{line}: unknown subpackage analysis.{target}")
            elif LAYERS[target] >= LAYERS[own]:
                bad.append(f"{path.relative_to(root.parent)}:{line}: analysis.{own} (layer {LAYERS[own]}) "
                           f"imports analysis.{target} (layer {LAYERS[target]})")
    return bad


def test_every_subpackage_has_a_layer():
    tops = {_top(p) for p in PACKAGE.rglob("*.py")}
    assert tops <= set(LAYERS), f"add to LAYERS: {sorted(tops - set(LAYERS))}"


def test_imports_run_one_way():
    bad = _violations(PACKAGE)
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_checker_catches_an_upward_import(tmp_path):
    pkg = tmp_path / "analysis"
    (pkg / "model").mkdir(parents=True)
    (pkg / "model" / "x.py").write_text("def f():\n    from analysis.report import charts\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, pkg
    try:
        bad = _violations(pkg)
    finally:
        PACKAGE = saved
    assert bad == ["analysis/model/x.py:2: analysis.model (layer 3) imports analysis.report (layer 5)"]


@pytest.mark.parametrize("src, expected", [
    ("import analysis.model.fit\n", ["model"]),
    ("from analysis import style, io\n", ["style", "io"]),
    ("from .x import y\n", []),
])
def test_import_reader(tmp_path, src, expected):
    f = tmp_path / "m.py"
    f.write_text(src)
    assert [t for _, t in _imports(f)] == expected
