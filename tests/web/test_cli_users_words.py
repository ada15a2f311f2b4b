"""`kartei users` speaks the configured language (German unless set to English); --json
and the token stay as they are. Both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

SAID = {
    "de": ("chef angelegt (admin)", "Passwort von chef geändert", "Benutzer", "Rolle",
           "kein Benutzer 'niemand'", "--until 'morgen': erwartet wird ein Tag als JJJJ-MM-TT"),
    "en": ("added chef (admin)", "password of chef changed", "user", "role",
           "no user 'niemand'", "--until 'morgen': expected a day as YYYY-MM-DD"),
}  # fmt: skip


@pytest.mark.parametrize("language", ["de", "en"])
def test_users_speak_the_configured_language(
    tmp_path: Path, database_url: str, language: str
) -> None:
    added, changed, user, role, nobody, until = SAID[language]
    config = tmp_path / "kartei.toml"
    chosen = 'language = "en"\n' if language == "en" else ""
    config.write_text(
        f'[kartei]\n{chosen}data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
    )
    runner = CliRunner()

    def run(*args: str, answer: str | None = None) -> tuple[int, str]:
        result = runner.invoke(app, ["users", *args, "-c", str(config)], input=answer)
        return result.exit_code, result.output

    code, output = run("add", "chef", "--role", "admin", "--password-stdin", answer="geheim-1234\n")
    assert code == 0 and added in output, output
    code, output = run("passwd", "chef", "--password-stdin", answer="geheim-5678\n")
    assert code == 0 and changed in output, output
    code, output = run("list")
    assert code == 0 and user in output and role in output and "chef" in output, output
    code, output = run("list", "--json")
    assert code == 0 and '"username":"chef"' in output and '"role":"admin"' in output
    code, output = run("token", "niemand")
    assert code == 2 and nobody in output, output
    auditor = ("add", "prüfer", "--role", "auditor", "--until", "morgen", "--password-stdin")
    code, output = run(*auditor, answer="geheim-1234\n")
    assert code == 2 and until in output, output
    code, output = run("token", "chef")
    assert code == 0 and output.startswith("kt_"), output
