"""`kartei users` against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def test_add_list_passwd_token(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "{tmp_path / "data"}"\n')
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["users", "add", "chef", "--role", "admin", "--password-stdin", "-c", str(config)],
        input="geheim-geheim\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list", "--json", "-c", str(config)])
    assert '"username":"chef"' in listed.output and "password" not in listed.output
    again = runner.invoke(
        app, ["users", "add", "chef", "--password-stdin", "-c", str(config)], input="x" * 10
    )
    assert again.exit_code == 2
    short = runner.invoke(
        app, ["users", "passwd", "chef", "--password-stdin", "-c", str(config)], input="kurz\n"
    )
    assert short.exit_code == 2
    token = runner.invoke(app, ["users", "token", "chef", "-c", str(config)])
    assert token.exit_code == 0 and token.output.startswith("kt_")
    nobody = runner.invoke(app, ["users", "token", "niemand", "-c", str(config)])
    assert nobody.exit_code == 2
