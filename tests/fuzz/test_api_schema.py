"""schemathesis against the running Kartei's own OpenAPI schema (/openapi.json, as FastAPI
writes it for every route): requests generated from the schema, sent over HTTP to
`kartei run` on SQLite and PostgreSQL, with an API token and without credentials.

With the token no request may end in a server error (5xx). Without credentials every
route but the public ones (/healthz, /login, the phone-system routes with their own
token) is refused, and no response carries a customer's data: a contact imported before
is findable with the token and appears in no body without it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.importers.samples import vcards
from hub.demo import customers
from tests.hub.test_cli import kartei
from tests.hub.test_cli_beside_server import served  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

# Per operation (token or none drawn each time); CI stays under half a minute. A longer
# run by hand: KARTEI_SCHEMA_EXAMPLES=500 pytest tests/fuzz/test_api_schema.py
EXAMPLES = int(os.environ.get("KARTEI_SCHEMA_EXAMPLES", "8"))
PUBLIC = ("/healthz", "/login", "/telephony/", "/static/")
SECRET_NAME = "Quirinius Geheimhaber"


def _token(config: Path) -> str:
    add = subprocess.run(
        [*_kartei_cmd(), "users", "add", "prüfer", "--role", "admin", "--password-stdin",
         "--config", str(config)],
        input="ein-langes-passwort-42\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    made = kartei("users", "token", "prüfer", "--config", str(config))
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def _kartei_cmd() -> list[str]:
    from tests.hub.test_cli import KARTEI

    return KARTEI


def test_the_api_schema_holds_with_and_without_credentials(
    served: tuple[Path, str, subprocess.Popen[str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    config, base, proc = served
    people = customers(3, seed=16)
    card = people[0][1]
    card["given_name"], card["family_name"] = SECRET_NAME.split()
    card["company"] = ""
    cards = tmp_path / "kunden.vcf"
    cards.write_bytes(vcards(people))
    assert kartei("import", str(cards), "--config", str(config)).returncode == 0
    token = _token(config)
    auth = {"Authorization": f"Bearer {token}"}
    found = httpx.get(f"{base}/api/contacts", params={"q": "Quirinius"}, headers=auth).json()
    assert [SECRET_NAME in c["display_name"] for c in found] == [True]

    schema = schemathesis.openapi.from_url(f"{base}/openapi.json", headers=auth)
    # Without a login the schema itself is refused (it names every route).
    assert httpx.get(f"{base}/openapi.json").status_code in (401, 303, 307)
    schema.config.update(base_url=base)
    seen: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(operation.label)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), with_token=st.booleans())
        def check(case: schemathesis.Case, with_token: bool) -> None:
            headers = {**(case.headers or {}), **(auth if with_token else {})}
            if not with_token:
                headers.pop("Authorization", None)
            response = case.call(headers=headers, timeout=20, allow_redirects=False)
            where = f"{case.method} {case.formatted_path} ({'token' if with_token else 'none'})"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            if with_token or case.path.startswith(PUBLIC):
                return
            assert response.status_code in (401, 303, 307), f"{where}: {response.status_code}"
            assert "Quirinius" not in response.text and "Geheimhaber" not in response.text, where

        check()
    assert any(label.startswith("GET /api/contacts") for label in seen), seen
    assert proc.poll() is None
