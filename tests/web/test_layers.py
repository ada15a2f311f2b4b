"""The web app depends on a narrow interface (hub/web/port.py), not on the composition
root that builds it; adapters do not know the demo firm (issue 14, item 7)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    """Every module `path` imports, type-checking-only imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def offenders(folder: str, forbidden: str) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = {m for m in imported(path) if m == forbidden or m.startswith(forbidden + ".")}
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_web_app_does_not_import_the_composition_root() -> None:
    assert offenders("hub/web", "hub.bootstrap") == {}


def test_adapters_do_not_know_the_demo() -> None:
    assert offenders("adapters", "hub.demo") == {}


def test_the_check_finds_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("if TYPE_CHECKING:\n    import hub.bootstrap\n")
    assert "hub.bootstrap" in imported(module)
