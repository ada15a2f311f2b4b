"""Every finding of `kartei archive verify` and every ExportError has German words with
the same placeholders (the command line says them in the configured language)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import hub.proofs.export
import hub.proofs.verify
from hub.web.i18n import GERMAN


def _literal(node: ast.expr, constants: dict[str, str]) -> str | None:
    """A key as written: a string, a module constant, or a constant + a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left, constants), _literal(node.right, constants)
        return left + right if left is not None and right is not None else None
    return None


def _keys(module: object, call: str) -> list[str]:
    tree = ast.parse(Path(module.__file__).read_text())  # type: ignore[attr-defined]
    constants = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name) and isinstance(n.value.value, str)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name == call:
                key = _literal(node.args[0], constants)
                assert key is not None, ast.unparse(node)
                found.append(key)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_finding_and_export_error_has_german_words() -> None:
    keys = _keys(hub.proofs.verify, "found") + _keys(hub.proofs.export, "ExportError")
    assert len(keys) == 20  # 18 findings, 2 export errors
    for key in keys:
        assert key in GERMAN, key
        assert _fields(GERMAN[key]) == _fields(key), key
