"""Reading a card or its history through the JSON API is audited like opening the card page:
one "viewed" entry per user, contact and 10 minutes, shown on /audit and by
`kartei privacy audit` (issue 15). Both databases.

Regression: an integration with an API token could read every customer's card and history
and the audit trail showed nothing.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.contacts import ContactService
from hub.privacy import audit
from hub.privacy.audit import audit_trail
from tests.web.conftest import PASSWORD, Web, client


class Clock:
    """The audit's clock, moved on by hand (the 10-minute slot is the behaviour under test)."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


async def _person(web: Web) -> str:
    contact_id = await ContactService(web.kartei.store).create(
        {"given_name": "Ottilie", "family_name": "Abgefragt", "emails": ("otti@kunde.example",)}
    )
    await web.settle()
    return contact_id


def _cli_audit(database_url: str, data_dir: Path) -> str:
    config = data_dir / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "{data_dir}"\n[database]\nurl = "{database_url}"\n')
    result = CliRunner().invoke(app, ["privacy", "audit", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.output


async def test_api_reads_are_audited_once_per_ten_minutes(
    web: Web,
    admin: tuple[httpx.AsyncClient, str],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(audit, "time", SimpleNamespace(time=clock.time))
    contact_id = await _person(web)
    await web.accounts.add("integration", PASSWORD, role="staff")
    token = await web.accounts.new_token("integration", "ERP")
    async with client(web) as api:
        api.headers["authorization"] = f"Bearer {token}"
        for _ in range(2):
            assert (await api.get(f"/api/contacts/{contact_id}")).status_code == 200
            assert (await api.get(f"/api/contacts/{contact_id}/timeline")).status_code == 200
        assert (await api.get("/api/contacts/unbekannt")).status_code == 404  # nobody read
        viewed = [r for r in await audit_trail(web.kartei.store) if r.type_name == "CardViewed"]
        assert [(r.event.contact_id, r.event.by) for r in viewed] == [(contact_id, "integration")]  # type: ignore[attr-defined]

        clock.now += 10 * 60  # the next 10 minutes: one more entry
        assert (await api.get(f"/api/contacts/{contact_id}/timeline")).status_code == 200
        assert (await api.get(f"/api/contacts/{contact_id}")).status_code == 200
    viewed = [r for r in await audit_trail(web.kartei.store) if r.type_name == "CardViewed"]
    assert len(viewed) == 2

    http, _ = admin
    page = (await http.get("/audit")).text
    assert page.count("Karte angesehen") == 2 and "integration" in page
    said = await asyncio.to_thread(_cli_audit, database_url, tmp_path)
    assert said.count("integration  Karte angesehen: Ottilie Abgefragt") == 2, said
