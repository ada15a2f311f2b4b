"""HylaFAX's notification mails, written live by the real `faxrcvd` in every language the
Debian package ships (tests/fax/faxrcvd.py runs it; scripts/test-packages.txt installs
hylafax-server, so nothing here is skipped)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from adapters.fax.parsing import parse_fax
from hub.cli import app
from hub.events.fax import FaxReceived
from hub.store import EventStore
from tests.contacts.conftest import Directory, phone
from tests.fax.conftest import PROFILES, all_events, deliver
from tests.fax.faxrcvd import LANGUAGES, MISSING, RECIPIENT, TEMPLATES, Reception, faxrcvd

NO_NUMBER = Reception(tsi="", caller_id="", caller_name="")


def test_the_languages_are_those_debian_ships() -> None:
    assert TEMPLATES.is_dir(), MISSING
    shipped = {p.parent.name for p in TEMPLATES.glob("*/faxrcvd-success.txt")}
    assert shipped == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_is_read_by_the_hylafax_profile(tmp_path: Path, language: str) -> None:
    mails = faxrcvd(tmp_path, Reception(), language=language)
    fax = parse_fax(mails[RECIPIENT], PROFILES)
    assert (fax.profile, fax.sender_raw, fax.pages, fax.kind) == (
        "hylafax",
        "+49 221 987654",
        1,
        "pdf",
    )
    assert fax.document.name == "fax00000042.pdf"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_station_id_that_is_no_number_gives_way_to_the_caller_id(
    tmp_path: Path, language: str
) -> None:
    """The error template (a fax that came in partly) with a TIFF attached, this time."""
    reception = Reception(tsi="ACME GMBH", error="Missing EOL after 5 seconds")
    fax = parse_fax(
        faxrcvd(tmp_path, reception, language=language, filetype="tif")[RECIPIENT], PROFILES
    )
    assert (fax.profile, fax.sender_raw, fax.kind) == ("hylafax", "+49221987654", "tiff")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_number_is_made_up_from_the_queue_file(tmp_path: Path, language: str) -> None:
    """Neither station id nor caller id: the sender is unknown, not fax00000042's digits."""
    fax = parse_fax(faxrcvd(tmp_path, NO_NUMBER, language=language)[RECIPIENT], PROFILES)
    assert (fax.profile, fax.sender_raw, fax.receiver_raw) == ("hylafax", "", "")


def test_kartei_fax_test_reads_the_german_fax_and_says_when_the_sender_is_unknown(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "fax.eml"
    sample.write_bytes(faxrcvd(tmp_path / "spool", Reception())[RECIPIENT])
    config = tmp_path / "kartei.toml"
    config.write_text("[kartei]\ndata_dir = 'data'\n")
    runner = CliRunner()
    result = runner.invoke(app, ["fax", "test", str(sample), "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.stdout)
    assert (shown["profile"], shown["sender_e164"]) == ("hylafax", "+49221987654")
    assert shown["text_source"] == "ocr" and "Reklamation" in shown["text"]
    sample.write_bytes(faxrcvd(tmp_path / "spool", NO_NUMBER)[RECIPIENT])
    result = runner.invoke(app, ["fax", "test", str(sample), "--no-ocr", "--config", str(config)])
    assert result.exit_code == 0, result.output
    # German unless configured otherwise; English with language = "en" (--json: English)
    assert "Absender: unbekannt (die E-Mail nennt keine Absendernummer)" in result.output
    assert "Absender (E.164): keine" in result.output and "Vorschau: " in result.output
    english = tmp_path / "english.toml"
    english.write_text("[kartei]\nlanguage = 'en'\ndata_dir = 'data'\n")
    result = runner.invoke(app, ["fax", "test", str(sample), "--no-ocr", "--config", str(english)])
    assert result.exit_code == 0, result.output
    assert "sender: unknown (the email names no sender number)" in result.output
    assert "sender_e164: None" in result.output and " bytes)" in result.output


async def test_a_german_hylafax_fax_lands_on_the_senders_card(
    store: EventStore, start_server, contacts: Directory, tmp_path: Path
) -> None:
    await contacts.service.create(
        {"kind": "company", "company": "ACME GmbH", "phones": (phone("0221 987654", "fax"),)}
    )
    await contacts.sync()
    server = await start_server()
    mail = faxrcvd(tmp_path, Reception())[RECIPIENT]
    crlf = mail.replace(b"\n", b"\r\n")  # the MTA sends faxrcvd's mail on with CRLF line ends
    assert await deliver(server.port, crlf) == 250
    [fax] = [r.event for r in await all_events(store) if isinstance(r.event, FaxReceived)]
    assert (fax.profile, fax.sender, fax.pages) == ("hylafax", "+49221987654", 1)
    assert "Reklamation" in fax.text
    async with store.db.read() as conn:
        card = await contacts.identity.lookup_number(conn, fax.sender or "")
    assert card is not None and card.company == "ACME GmbH"


def test_the_wheel_checks_sample_is_a_german_hylafax_fax() -> None:
    """scripts/wheel-check's sample, written once by `python -m tests.fax.faxrcvd de FILE`."""
    raw = (Path(__file__).parent / "samples" / "hylafax-de.eml").read_bytes()
    assert b"Subject: Fax empfangen von +49 221 987654" in raw
    fax = parse_fax(raw, PROFILES)
    assert (fax.profile, fax.sender_raw, fax.pages, fax.kind) == (
        "hylafax",
        "+49 221 987654",
        1,
        "pdf",
    )
