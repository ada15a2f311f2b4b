"""`kartei privacy erase|export` speak the configured language (German unless set to
English): the plan, its confirmation (German "j"/"ja", English "y"/"yes" in either
language), the result and why a request is refused (PrivacyError). Both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.privacy.dossier import KEYS
from hub.web.i18n import GERMAN
from tests.privacy.conftest import Firm


def _cli(config: Path, *args: str, answer: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--config", str(config)], input=answer)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _english(firm: Firm) -> Path:
    english = firm.config.parent / "english.toml"
    english.write_text(firm.config.read_text().replace("[kartei]\n", '[kartei]\nlanguage = "en"\n'))
    return english


async def test_erase_and_export_speak_german_by_default(firm: Firm) -> None:
    await firm.kartei.store.close()
    person, config = firm.person, firm.config
    erase = ("privacy", "erase", person)
    override = ("--override-retention", "Kopie auf Papier")

    code, output = await asyncio.to_thread(_cli, config, *erase, "--yes")
    assert code == 3, output
    assert f"Kontakt {person} (Quirinella" in output and " Ereignisse, " in output
    assert "Aufbewahrungspflicht Geschäftsbriefe (6 Jahre): " in output
    assert "Aufbewahrungspflichten gelten: löschen nur mit --override-retention" in output

    code, output = await asyncio.to_thread(_cli, config, *erase, *override, answer="n\n")
    assert code == 1 and "endgültig löschen? [j/N]" in output and "nichts gelöscht" in output
    code, output = await asyncio.to_thread(_cli, config, *erase, *override, answer="ja\n")
    assert code == 0, output
    assert f"Kontakt {person} gelöscht (" in output and " Dokumente entfernt)" in output

    code, output = await asyncio.to_thread(_cli, config, *erase, "--yes", *override)
    assert code == 2 and f"Kontakt {person} ist bereits gelöscht" in output, output
    code, output = await asyncio.to_thread(_cli, config, "privacy", "export", "niemand")
    assert code == 2 and "kein Kontakt 'niemand'" in output, output
    out = config.parent / "berta.zip"
    code, output = await asyncio.to_thread(
        _cli, config, "privacy", "export", firm.other, "--out", str(out)
    )
    assert code == 0 and f"{out} geschrieben (" in output and " Bytes)" in output, output


async def test_erase_and_export_speak_english_when_configured(firm: Firm) -> None:
    await firm.kartei.store.close()
    person, config = firm.person, _english(firm)
    erase = ("privacy", "erase", person, "--override-retention", "paper copy kept")

    code, output = await asyncio.to_thread(_cli, config, *erase, answer="\n")
    assert code == 1 and "for good? [y/N]" in output and "nothing erased" in output, output
    assert f"contact {person} (Quirinella" in output and " events, " in output
    assert "retention hold Business letters (6 years): " in output
    code, output = await asyncio.to_thread(_cli, config, *erase, answer="yes\n")
    assert code == 0 and f"erased contact {person} (" in output, output
    assert " documents removed)" in output or " document removed)" in output

    code, output = await asyncio.to_thread(_cli, config, *erase, "--yes")
    assert code == 2 and f"contact {person} is erased already" in output, output
    code, output = await asyncio.to_thread(_cli, config, "privacy", "export", "nobody")
    assert code == 2 and "no contact 'nobody'" in output, output
    out = config.parent / "berta.zip"
    code, output = await asyncio.to_thread(
        _cli, config, "privacy", "export", firm.other, "--out", str(out)
    )
    assert code == 0 and f"wrote {out} (" in output and " bytes)" in output, output


def test_every_privacy_error_has_german_words() -> None:
    assert all(GERMAN.get(key) for key in KEYS)
