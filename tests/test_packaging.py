"""What a plain `pip install kartei` gets: every import declared, every data file shipped.

scripts/wheel-check builds and installs the real wheel (CI runs it); these are the quick
checks of the same promises from inside the source tree.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from fnmatch import fnmatch
from importlib.metadata import packages_distributions
from pathlib import Path
from xml.etree import ElementTree

import httpx
from typer.testing import CliRunner

from hub import defaults
from hub.bootstrap import bootstrap
from hub.cli import app
from hub.settings import settings_from_dict
from hub.store import EventStore

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
APPLICATION = ("hub", "adapters", "projections", "policies")
# Where an optional extra's packages may be imported (only when the feature is used; a
# plain install says which extra is missing): a folder or a file, and its extra.
EXTRA_USERS = {
    Path("policies/classifier"): "classifier",
    Path("adapters/mail/pst.py"): "pst",
    Path("hub/proofs/procedure_pdf.py"): "pdf",
}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]).lower()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(APPLICATION) - {"__future__"}


def test_every_third_party_import_is_a_declared_dependency() -> None:
    """Declared by name, not brought in by chance by another package (jinja2 came with
    torch only, so a plain install could not render a page)."""
    base = {_name(d) for d in PROJECT["project"]["dependencies"]}
    extras = PROJECT["project"]["optional-dependencies"]
    distributions = packages_distributions()
    undeclared = []
    for package in APPLICATION:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            allowed = set(base)
            for place, extra in EXTRA_USERS.items():
                if relative == place or place in relative.parents:
                    allowed |= {_name(d) for d in extras[extra]}
            for module in sorted(_imports(path)):
                dists = {_name(d) for d in distributions.get(module, [])}
                if not dists & allowed:
                    undeclared.append(f"{relative}: {module} ({', '.join(dists) or '?'})")
    assert undeclared == []


def test_the_shipped_files_are_package_data() -> None:
    patterns = PROJECT["tool"]["setuptools"]["package-data"]["hub"]
    for name in defaults.SHIPPED:
        assert any(fnmatch(f"defaults/{name}", p) for p in patterns), name
        assert defaults.shipped(name).is_file(), name
    tomllib.loads(defaults.shipped(defaults.EXAMPLE_CONFIG).read_text(encoding="utf-8"))
    tomllib.loads(defaults.shipped(defaults.FAX_PROVIDERS).read_text(encoding="utf-8"))
    ElementTree.fromstring(defaults.shipped(defaults.CRM_TEMPLATE_3CX).read_bytes())


def test_kartei_init_writes_the_shipped_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "firm")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "firm" / "kartei.toml").read_text(encoding="utf-8")
    example = defaults.shipped(defaults.EXAMPLE_CONFIG).read_text(encoding="utf-8")
    assert written == example.replace('data_dir = "data"', 'data_dir = "."')


async def test_the_3cx_template_is_handed_out_while_the_lookup_is_on(store: EventStore) -> None:
    settings = settings_from_dict({"telephony": {"lookup_token": "lookup-token-0123456789"}})
    kartei = bootstrap(settings, store=store, adapters=[])
    assert kartei.web is not None
    transport = httpx.ASGITransport(app=kartei.web.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as client:
        answer = await client.get("/telephony/3cx-crm-template.xml")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    assert answer.content == defaults.shipped(defaults.CRM_TEMPLATE_3CX).read_bytes()
