"""`kartei privacy audit` speaks the configured language (German unless set to English), as
/audit does: each contact by its current name, an erased one as "gelöschter Kontakt" with
its id, never the erased name. Both databases."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.bootstrap import bootstrap
from hub.cli import app
from hub.contacts import ContactService
from hub.events.privacy import AdminActionRecorded, CardViewed, ContactsSearched, DataExported
from hub.privacy.audit import ADMIN_ACTION_TEXT, record
from hub.settings import settings_from_dict
from hub.web.i18n import GERMAN

GONE = ("Quirinella", "Zwetschkenhain")
HOSTILE = "Mallory\x1b]0;pwned\x07\x1b[2J"  # a name that would retitle and clear a terminal


@dataclass
class Trail:
    config: Path
    english: Path
    kept: str
    gone: str

    def audit(self, config: Path) -> str:
        result = CliRunner().invoke(app, ["privacy", "audit", "--config", str(config)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result.output


@pytest.fixture
async def trail(database_url: str, tmp_path: Path) -> AsyncIterator[Trail]:
    """Two contacts looked at, looked up and exported; the second then erased."""
    data_dir = tmp_path / "data"
    body = f'data_dir = "{data_dir}"\n[database]\nurl = "{database_url}"\n'
    config, english = tmp_path / "kartei.toml", tmp_path / "english.toml"
    config.write_text(f"[kartei]\n{body}")
    english.write_text(f'[kartei]\nlanguage = "en"\n{body}')
    loaded = settings_from_dict(
        {"kartei": {"data_dir": str(data_dir)}, "database": {"url": database_url}}
    )
    kartei = bootstrap(loaded, adapters=[], policies=[])
    await kartei.store.start()
    try:
        service = ContactService(kartei.store)
        kept = await service.create({"given_name": "Berta", "family_name": "Bleibt"})
        gone = await service.create({"given_name": GONE[0], "family_name": GONE[1]})
        hostile = await service.create({"given_name": HOSTILE, "family_name": "Schelm"})
        for event in (
            CardViewed(contact_id=hostile, by="anna"),
            CardViewed(contact_id=kept, by="anna"),
            CardViewed(contact_id=gone, by="anna"),
            ContactsSearched(by="anna", words=1, characters=7, found=(gone, kept)),
            DataExported(contact_id=kept, by="chef", documents=3),
            AdminActionRecorded(action="archive.list", by="pruefer", target="page 0"),
        ):
            await record(kartei.store, event)
    finally:
        await kartei.store.close()
    erase = ["privacy", "erase", gone, "--yes", "--reason", "Antrag 17", "--config", str(config)]
    result = await asyncio.to_thread(CliRunner().invoke, app, erase)
    assert result.exit_code == 0, result.output
    yield Trail(config, english, kept, gone)


async def test_the_audit_speaks_german_by_default(trail: Trail) -> None:
    out = await asyncio.to_thread(trail.audit, trail.config)
    lines = out.splitlines()[::-1][1:]  # newest first; the hostile name's view is tested below
    assert len(lines) == 6
    assert all(re.match(r"\d\d\.\d\d\.\d{4} \d\d:\d\d  ", line) for line in lines), out
    erased = f"gelöschter Kontakt ({trail.gone})"
    assert "anna  Karte angesehen: Berta Bleibt" in lines[0]
    assert f"anna  Karte angesehen: {erased}" in lines[1]
    assert (
        f"anna  Kontakte gesucht: Suche mit 7 Zeichen · 2 Kontakte gefunden: {erased}, "
        "Berta Bleibt" in lines[2]
    )
    assert "chef  Daten exportiert: Berta Bleibt – 3 Dokumente" in lines[3]
    assert "pruefer  Verwaltung: Archivliste angesehen · Seite 1" in lines[4]
    assert f"Kontakt gelöscht: {erased} – Antrag 17" in lines[5]
    assert not any(name in out for name in GONE)  # never the erased name
    assert "\x1b" not in out and "\x07" not in out and "Mallory ]0;pwned" in out
    assert trail.kept not in out  # a contact that exists is named, not numbered


async def test_the_audit_speaks_english_when_configured(trail: Trail) -> None:
    out = await asyncio.to_thread(trail.audit, trail.english)
    lines = out.splitlines()[::-1][1:]  # newest first
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d  ", line) for line in lines), out
    erased = f"erased contact ({trail.gone})"
    assert "anna  Card viewed: Berta Bleibt" in lines[0]
    assert (
        f"anna  Contacts searched: query of 7 characters · 2 contacts found: {erased}, "
        "Berta Bleibt" in lines[2]
    )
    assert "chef  Data exported: Berta Bleibt – 3 documents" in lines[3]
    assert "pruefer  Administration: Archive list viewed · Page 1" in lines[4]
    assert f"Contact erased: {erased} – Antrag 17" in lines[5]
    assert not any(name in out for name in GONE)


def test_an_empty_audit_trail_says_so(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "{tmp_path / "data"}"\n')
    result = CliRunner().invoke(app, ["privacy", "audit", "--config", str(config)])
    assert result.exit_code == 0 and result.output.startswith("Noch nichts protokolliert")


def test_every_admin_action_has_german_words() -> None:
    assert all(text in GERMAN for text in ADMIN_ACTION_TEXT.values())
