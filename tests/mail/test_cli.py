"""`kartei import-mail`, `kartei capture status` and `kartei capture resync`, end to end."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from tests.mail import messages
from tests.mail.conftest import imap_login
from tests.mail.dovecot import Dovecot

runner = CliRunner()


def config(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    path = tmp_path / "kartei.toml"
    path.write_text(
        f'[kartei]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
        f'[mail]\nown_domains = ["firma.example"]\n{extra}'
    )
    return path


def kartei(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_import_eml_mbox_maildir_twice_adds_nothing(tmp_path: Path, database_url: str) -> None:
    cfg = str(config(tmp_path, database_url))
    (tmp_path / "one.eml").write_bytes(messages.simple(1))
    box = mailbox.mbox(tmp_path / "Archiv")
    for n in range(2, 6):
        box.add(messages.simple(n))
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    for n in (5, 6, 7):  # 5 is in the mbox too
        maildir.add(messages.simple(n))
    paths = [str(tmp_path / "one.eml"), str(tmp_path / "Archiv"), str(tmp_path / "Maildir")]
    first = kartei("import-mail", "-c", cfg, *paths)
    assert "7 von 8 Nachrichten neu; 0 nicht übernommen (intern oder ausgeschlossen)." in first
    assert "0 von 8 Nachrichten neu" in kartei("import-mail", "-c", cfg, *paths)
    status = json.loads(kartei("capture", "status", "-c", cfg, "--json"))
    assert status["events"] == {"EmailReceived": 7}


def test_import_of_a_missing_path_fails_clearly(tmp_path: Path, database_url: str) -> None:
    result = runner.invoke(app, ["import-mail", "-c", str(config(tmp_path, database_url)), "/nope"])
    assert result.exit_code == 2 and "/nope: Datei oder Ordner nicht gefunden" in result.output
    english = (
        config(tmp_path, database_url).read_text().replace("[kartei]", '[kartei]\nlanguage = "en"')
    )
    (tmp_path / "en.toml").write_text(english)
    result = runner.invoke(app, ["import-mail", "-c", str(tmp_path / "en.toml"), "/nope"])
    assert result.exit_code == 2 and "/nope: no such file or folder" in result.output


def test_resync_rereads_without_duplicates(
    tmp_path: Path, database_url: str, dovecot: Dovecot, mailbox_user: str
) -> None:
    imap = imap_login(dovecot, mailbox_user)
    imap.multiappend("INBOX", [messages.simple(n) for n in range(40)])  # fetched by workers
    imap.append("INBOX", messages.simple(99), flags=["$Private"])  # kept out, as by capture
    imap.logout()
    account = (
        f'[[mail.imap]]\nname = "info"\nhost = "127.0.0.1"\nport = {dovecot.port}\n'
        f'security = "none"\nusername = "{mailbox_user}"\npassword = "{Dovecot.PASSWORD}"\n'
    )
    cfg = str(config(tmp_path, database_url, account))
    assert "40 neue Nachrichten erfasst" in kartei("capture", "resync", "-c", cfg, "info")
    assert "0 neue Nachrichten" in kartei("capture", "resync", "-c", cfg, "info", "INBOX")
    status = json.loads(kartei("capture", "status", "-c", cfg, "--json"))
    [inbox] = [f for f in status["folders"] if f["folder"] == "INBOX"]
    assert inbox["last_uid"] == 41 and inbox["last_sync"]
    assert status["events"] == {"EmailReceived": 40}
    result = runner.invoke(app, ["capture", "resync", "-c", cfg, "nobody"])
    assert result.exit_code == 2 and "kein [[mail.imap]]-Konto" in result.output


def test_capture_status_speaks_german_by_default_and_english_when_configured(
    tmp_path: Path, database_url: str
) -> None:
    account = (
        '[[mail.imap]]\nname = "info"\nhost = "127.0.0.1"\nport = 1\n'
        'security = "none"\nusername = "info"\npassword = "x"\n'
    )
    german = str(config(tmp_path, database_url, account))
    english = tmp_path / "en.toml"
    english.write_text(Path(german).read_text().replace("[kartei]", '[kartei]\nlanguage = "en"'))
    assert "keine E-Mails" in kartei("capture", "status", "-c", german)
    assert "no mail" in kartei("capture", "status", "-c", str(english))
    (tmp_path / "one.eml").write_bytes(messages.simple(1))
    kartei("import-mail", "-c", german, str(tmp_path / "one.eml"))

    out = " ".join(kartei("capture", "status", "-c", german).split())
    assert "Konto" in out and "Abgleich" in out  # a header may wrap
    assert (
        "info: Ordner der gesendeten E-Mails noch nicht bekannt "
        "(`kartei run` war noch nicht verbunden)"
    ) in out
    assert out.endswith("E-Mail empfangen: 1")
    out = " ".join(kartei("capture", "status", "-c", str(english)).split())
    assert "account" in out and "sync" in out
    assert "info: Sent folder not known yet (`kartei run` has not connected)" in out
    assert out.endswith("Email received: 1")

    result = runner.invoke(app, ["capture", "resync", "-c", german, "nobody"])
    assert result.exit_code == 2
    assert "kein [[mail.imap]]-Konto 'nobody'; bekannt sind: info" in result.output
    result = runner.invoke(app, ["capture", "resync", "-c", str(english), "nobody"])
    assert (
        result.exit_code == 2 and "no [[mail.imap]] account 'nobody'; known: info" in result.output
    )
