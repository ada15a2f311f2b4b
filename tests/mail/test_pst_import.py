"""`kartei import-mail FILE.pst` end to end, on SQLite and PostgreSQL.

The fixture tests/data/pst/sample.pst was written by Aspose.Email (in its evaluation mode)
as an independent PST writer, not by Kartei (tests/data/pst/README.md, make_sample.py):
12 German messages in Posteingang, Gesendete Elemente, Kunden and Kunden/Meyer. Aspose's
evaluation text is part of every subject and body. libpff (the `pst` extra) reads it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from adapters.mail import pst, pst_embedded, pst_folders, pst_progress
from adapters.mail.parsing import parse_email
from adapters.mail.pst_eml import PstAttachment, PstMessage, rebuild
from adapters.mail.pst_folders import (
    FolderChoice,
    Skipped,
    UnknownFolder,
    entry_node,
    multi_binary,
    select,
    special,
)
from hub.archive import Archive
from hub.bootstrap import bootstrap
from hub.cli import app
from hub.cli.pst_report import skipped
from hub.cli.words import Words
from hub.contacts import ContactService
from hub.events.mail import EmailReceived, EmailSent
from hub.settings import load_settings
from hub.store import Database, EventStore
from hub.web import data
from projections.timeline_reads import Entry

SAMPLE = Path(__file__).parents[1] / "data" / "pst" / "sample.pst"
EVAL = "(Aspose.Email Evaluation)"  # what the evaluation mode adds to each subject
FOLDERS = {
    "Posteingang": 5,
    "Gesendete Elemente": 3,
    "Kunden": 1,
    "Kunden/Meyer": 3,
}
runner = CliRunner()
Mail = EmailReceived | EmailSent


def config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "kartei.toml"
    path.write_text(
        f'[kartei]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
        f'[mail]\nown_domains = ["firma.example"]\n'
    )
    return path


def kartei(cfg: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-c", str(cfg)])
    return result.exit_code, " ".join(result.output.split())  # unwrapped (80 columns here)


def kartei_process(
    cfg: Path, *args: str, kill_at_commit: int = 0
) -> subprocess.CompletedProcess[str]:
    """The real command in its own process; `kill_at_commit`: SIGKILL inside the n-th
    transaction of the import (its events and mark written, not committed), with
    batches of 2 messages so that the kill falls inside a folder."""
    script = (
        "import os, signal, sys\n"
        "from adapters.mail import pst_import, pst_progress\n"
        f"kill_at = {kill_at_commit}\n"
        "pst_import.BATCH = 2 if kill_at else pst_import.BATCH\n"
        "save, calls = pst_progress.save, []\n"
        "async def killing_save(*args, **kwargs):\n"
        "    await save(*args, **kwargs)\n"
        "    calls.append(1)\n"
        "    if len(calls) == kill_at:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "pst_progress.save = killing_save\n"
        "from hub.cli import main\n"
        "main()\n"
    )
    command = [sys.executable, "-c", script, "import-mail", "-c", str(cfg), *args]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)


async def _with_store(url: str) -> EventStore:
    store = EventStore(Database(url))
    await store.start()
    return store


async def add_customers(url: str) -> dict[str, str]:
    """The customers' cards, made before the import (as a firm has them)."""
    store = await _with_store(url)
    try:
        service = ContactService(store)
        return {
            name: await service.create(
                {"given_name": given, "family_name": name, "emails": (address,)}
            )
            for given, name, address in [
                ("Jürgen", "Meyer", "meyer@kunde.example"),
                ("Käthe", "Schröder", "k.schroeder@baeckerei-schroeder.example"),
                ("Özlem", "Yılmaz", "yilmaz@moebel-yilmaz.example"),
            ]
        }
    finally:
        await store.close()


async def mail_events(url: str) -> list[tuple[str, Mail]]:
    """(stream, event) of every captured email, and nothing stored twice."""
    store = await _with_store(url)
    try:
        read = await store.read_all(0, 10_000, types=["EmailReceived", "EmailSent"])
    finally:
        await store.close()
    streams = Counter(r.stream for r in read)
    assert all(n == 1 for n in streams.values()), streams
    return [(r.stream, r.event) for r in read if isinstance(r.event, Mail)]


async def history(cfg: Path, contact_id: str) -> list[Entry]:
    """The contact's card history, as the web page shows it."""
    kartei_ = bootstrap(load_settings(cfg), adapters=[], policies=[])
    await kartei_.store.start()
    try:
        for projection in kartei_.projections.values():
            await projection.prepare()
            await projection.catch_up()
        card = await data.card(kartei_, contact_id, limit=100)
        assert card is not None
        return card.entries
    finally:
        await kartei_.store.close()


def subjects(events: list[tuple[str, Mail]]) -> Counter[str]:
    return Counter(e.subject.removesuffix(EVAL) for _, e in events)


def archive_intact(cfg: Path) -> None:
    assert kartei(cfg, "archive", "sign")[0] == 0
    code, out = kartei(cfg, "archive", "verify")
    assert code == 0 and "Archiv unversehrt." in out, out


def test_pst_import_fills_customer_histories_and_keeps_folders(
    tmp_path: Path, database_url: str
) -> None:
    cfg = config(tmp_path, database_url)
    customers = asyncio.run(add_customers(database_url))
    code, out = kartei(cfg, "import-mail", str(SAMPLE))
    assert code == 0, out
    assert "12 von 12 Nachrichten neu" in out
    for folder, n in FOLDERS.items():  # progress, folder by folder
        assert f"sample.pst/{folder}: {n} von {n} gelesen, {n} neu" in out
    assert "Deleted Items" not in out and "übersprungen" not in out  # empty: nothing to say

    events = asyncio.run(mail_events(database_url))
    by_subject = {e.subject.removesuffix(EVAL): e for _, e in events}
    assert len(by_subject) == 12
    assert sum(isinstance(e, EmailSent) for _, e in events) == 4  # from firma.example
    assert by_subject["Bestellung Nr. 4711"].mailboxes == ("import:sample.pst/Kunden/Meyer",)
    assert by_subject["Termin für das Aufmaß"].mailboxes == (
        "import:sample.pst/Gesendete Elemente",
    )
    # Outlook's sent mail has no transport header: rebuilt from the MAPI properties.
    sent = by_subject["Angebot Brötchentüten"]
    assert isinstance(sent, EmailSent) and sent.sender == "anna@firma.example"
    assert sent.to == ("k.schroeder@baeckerei-schroeder.example",)
    assert sent.message_id == "<pst-07@firma.example>" and sent.date is not None
    # Header fields in ISO-8859-1 encoded words, kept as given.
    latin1 = by_subject["Rückfrage zur Rechnung - Türmaße"]
    assert (latin1.sender, latin1.sender_name) == ("weiss@weiss-gmbh.example", "Jörg Weiß")
    assert "die Maße der Tür stimmen nicht" in latin1.text
    # The HTML body and the attachments, in the archive.
    html = by_subject["Anfrage Brötchentüten"]
    archive = Archive(tmp_path / "data" / "archive")
    assert html.html_ref and "<b>5.000 Brötchentüten</b>" in archive.get(html.html_ref).decode()
    [pdf] = by_subject["Reklamation: Lieferung beschädigt"].attachments
    assert (pdf.name, pdf.content_type) == ("Lieferschein 4711.pdf", "application/pdf")
    assert archive.get(pdf.ref).startswith(b"%PDF-1.4")
    [csv] = by_subject["Größenänderung der Bestellung"].attachments
    assert (csv.name, csv.content_type) == ("Maße Küche – Übersicht.csv", "text/csv")
    assert "Fensterwand;3,40 m" in archive.get(csv.ref).decode()
    raw = archive.get(by_subject["Bestellung Nr. 4711"].raw_ref).decode()
    assert raw.startswith("From: ") and "X-Kartei-Rebuilt-From: Outlook PST" in raw

    meyer = asyncio.run(history(cfg, customers["Meyer"]))
    assert sorted(str(e.data["subject"]).removesuffix(EVAL) for e in meyer) == sorted(
        [
            "Reklamation: Lieferung beschädigt",
            "Re: Ihre Reklamation – Gutschrift",
            "Ihre Reklamation – Gutschrift",
            "Bestellung Nr. 4711",
            "Auftragsbestätigung Nr. 4711",
            "Lieferung Donnerstag möglich?",
        ]
    )
    assert {e.data["sender_name"] for e in meyer} == {
        "Jürgen Meyer",
        "Anna Schmidt",
        "Kartei Firma",
    }
    [complaint] = [e for e in meyer if e.data["attachments"]]
    assert complaint.data["attachments"][0]["name"] == "Lieferschein 4711.pdf"
    schroeder = asyncio.run(history(cfg, customers["Schröder"]))
    assert len(schroeder) == 3 and any(e.data["html"] for e in schroeder)
    yilmaz = asyncio.run(history(cfg, customers["Yılmaz"]))
    assert [a["name"] for e in yilmaz for a in e.data["attachments"]] == [
        "Maße Küche – Übersicht.csv"
    ]

    # A second run goes past what is there; without the marks (a changed file), the
    # capture keys of the same rebuilt bytes still store nothing twice.
    code, out = kartei(cfg, "import-mail", str(SAMPLE))
    assert code == 0 and "0 von 12 Nachrichten neu" in out, out
    assert "sample.pst/Posteingang: 5 von 5 gelesen (5 aus einem früheren Lauf), 0 neu" in out
    asyncio.run(_forget_marks(database_url))
    code, out = kartei(cfg, "import-mail", str(SAMPLE))
    assert code == 0 and "0 von 12 Nachrichten neu" in out, out
    assert len(asyncio.run(mail_events(database_url))) == 12
    archive_intact(cfg)


async def _old_mark(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as conn:
            await pst_progress.ensure_table(conn)
            await conn.execute(
                pst_progress.progress.insert().values(
                    file="f" * 32, folder="Kunden/Meyer", done=1, last_node=1
                )
            )
    finally:
        await db.dispose()


async def _forget_marks(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as conn:
            await conn.execute(sa.text("DELETE FROM pst_import_progress"))
    finally:
        await db.dispose()


@pytest.mark.slow
def test_an_import_killed_midway_resumes_with_each_message_once(
    tmp_path: Path, database_url: str
) -> None:
    cfg = config(tmp_path, database_url)
    killed = kartei_process(cfg, str(SAMPLE), kill_at_commit=3)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Two batches of Posteingang committed; the third died with its transaction.
    assert len(asyncio.run(mail_events(database_url))) == 4

    resumed = kartei_process(cfg, str(SAMPLE))
    assert resumed.returncode == 0, resumed.stderr
    line = "sample.pst/Posteingang: 5 von 5 gelesen (4 aus einem früheren Lauf), 1 neu"
    assert line in resumed.stdout
    assert "8 von 12 Nachrichten neu" in resumed.stdout
    events = asyncio.run(mail_events(database_url))
    assert len(events) == 12 and set(subjects(events).values()) == {1}
    archive_intact(cfg)


def test_a_damaged_pst_says_what_and_loses_nothing(tmp_path: Path, database_url: str) -> None:
    cfg = config(tmp_path, database_url)
    whole = SAMPLE.read_bytes()
    truncated = tmp_path / "Archiv 2019.pst"
    truncated.write_bytes(whole[: 100 * 1024])  # cut inside its index
    code, out = kartei(cfg, "import-mail", str(truncated))
    assert code == 1 and "Archiv 2019.pst: keine lesbare PST-Datei (" in out, out
    assert "Was lesbar war, ist importiert; nach der Reparatur der Datei (scanpst.exe)" in out
    assert "0 von 0 Nachrichten neu" in out

    # A block in the middle overwritten: the third sent mail cannot be read; the rest can.
    damaged = tmp_path / "sample.pst"
    broken = bytearray(whole)
    broken[66560 : 66560 + 512] = bytes(512)
    damaged.write_bytes(bytes(broken))
    code, out = kartei(cfg, "import-mail", str(damaged))
    assert code == 1, out
    assert "sample.pst: Gesendete Elemente, Nachricht 3: unable to retrieve" in out
    assert "sample.pst/Gesendete Elemente: 2 von 3 gelesen, 2 neu" in out
    assert "11 von 11 Nachrichten neu" in out
    assert len(asyncio.run(mail_events(database_url))) == 11

    # The repaired file (the same name, size and header): only the missing one is added.
    shutil.copyfile(SAMPLE, damaged)
    code, out = kartei(cfg, "import-mail", str(damaged))
    assert code == 0 and "1 von 12 Nachrichten neu" in out, out
    events = asyncio.run(mail_events(database_url))
    assert len(events) == 12 and set(subjects(events).values()) == {1}
    archive_intact(cfg)


def test_forwarded_items_rtf_bodies_and_appointments(tmp_path: Path, database_url: str) -> None:
    """Outlook's "forward as attachment": the attached item becomes a message/rfc822 part,
    rebuilt as a mail is (libpff opens it; pst_embedded.py). A body that is only RTF gives
    the text. Calendar and contacts are no mail."""
    cfg = config(tmp_path, database_url)
    code, out = kartei(cfg, "import-mail", str(SAMPLE.with_name("forwarded.pst")))
    assert code == 0 and "2 von 2 Nachrichten neu" in out, out
    calendar = "forwarded.pst/Kalender: 1 von 1 gelesen, 0 neu, 1 keine E-Mail (Kalender, "
    assert calendar + "Kontakte ...)" in out
    assert "forwarded.pst/Kontakte: 1 von 1 gelesen, 0 neu, 1 keine E-Mail" in out
    mails = {e.subject.removesuffix(EVAL): e for _, e in asyncio.run(mail_events(database_url))}
    [item] = mails["Re: Ihre Reklamation – Gutschrift"].attachments
    assert (item.name, item.content_type) == ("Ihre Reklamation.eml", "message/rfc822")
    forwarded = parse_email(Archive(tmp_path / "data" / "archive").get(item.ref))
    assert (forwarded.sender, forwarded.sender_name) == ("anna@firma.example", "Anna Schmidt")
    assert forwarded.to == ("meyer@kunde.example",)
    assert forwarded.subject.removesuffix(EVAL) == "Ihre Reklamation – Gutschrift"
    assert forwarded.message_id == "<pst-06@firma.example>" and forwarded.date is not None
    assert "wir schreiben Ihnen 120,00 € gut." in forwarded.text
    rtf_only = mails["Termin für das Aufmaß"]
    assert rtf_only.text.strip() == "Hallo Frau Yılmaz,\npaßt Ihnen Donnerstag, 10 Uhr? Grüße"
    assert [a.name for a in rtf_only.attachments] == ["body.rtf"]
    archive_intact(cfg)


def test_a_forwarded_item_stays_opaque_where_libpff_cannot_open_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another build of libpff's binding (its object layout unchecked): the item's stored
    bytes are kept, as before."""
    monkeypatch.setattr(pst_embedded, "CHECKED_VERSIONS", ())
    pst_embedded._library.cache_clear()
    try:
        handle = pst.open_pst(SAMPLE.with_name("forwarded.pst"))
        [inbox] = [f for f in pst.folders(handle) if f.path == "Posteingang"]
        _, message = pst.read_message(inbox, 0)
        handle.close()
    finally:
        pst_embedded._library.cache_clear()
    assert message is not None
    [item] = message.attachments
    assert (item.name, item.content_type) == (
        "Ihre Reklamation.pst-item",
        "application/octet-stream",
    )
    assert len(item.data) > 100


def test_without_libpff_the_import_names_the_extra(tmp_path: Path, database_url: str) -> None:
    """Kartei installed without the `pst` extra (`pip install kartei`)."""
    cfg = config(tmp_path, database_url)
    script = "import sys\nsys.modules['pypff'] = None\nfrom hub.cli import main\nmain()\n"
    command = [sys.executable, "-c", script, "import-mail", "-c", str(cfg), str(SAMPLE)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pip install 'kartei[pst]'" in " ".join(result.stderr.split()), result.stderr


def test_a_strangers_properties_stay_in_their_fields() -> None:
    """Subject, names, attachment names, types and Content-IDs come from whoever wrote
    the mail: a line break in them starts no header field of its own."""
    message = PstMessage(
        transport_headers=None,
        subject="Angebot\r\nBcc: alle@firma.example",
        sender_name="Eve\r\nX-Evil: 1",
        sender_email="eve@example.org",
        to=[("Anna\nSchmidt", "anna@firma.example")],
        text="Guten Tag",
        attachments=[PstAttachment("böse\r\nDatei.txt", "text/plain\r\nX-Evil: 2", b"x", "a\r\nb")],
    )
    raw = rebuild(message)
    mail = parse_email(raw)
    assert b"\nBcc:" not in raw and b"\nX-Evil" not in raw
    assert mail.subject == "Angebot Bcc: alle@firma.example" and mail.bcc == ()
    [attachment] = mail.attachments
    assert (attachment.name, attachment.content_type) == (
        "böse Datei.txt",
        "application/octet-stream",
    )
    assert rebuild(message) == raw  # the same bytes every time: the same capture key


def test_the_transport_header_is_kept_but_for_the_old_body_fields() -> None:
    header = (
        "Received: from mx.kunde.example\r\n\tby mx.firma.example; Mon, 2 Nov 2026\r\n"
        "From: =?ISO-8859-1?Q?J=F6rg_Wei=DF?= <weiss@weiss-gmbh.example>\r\n"
        "Subject: Test\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed;\r\n boundary="alt"\r\n'
        "Content-Transfer-Encoding: 7bit\r\nX-Mailer: Outlook\r\n\r\n"
    )
    message = PstMessage(header, "Test", "", "", text="Hallo", message_id="<m1@example.org>")
    raw = rebuild(message)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(
        b"Received: from mx.kunde.example\r\n\tby mx.firma.example; Mon, 2 Nov 2026\r\n"
        b"From: =?ISO-8859-1?Q?J=F6rg_Wei=DF?= <weiss@weiss-gmbh.example>\r\n"
        b"Subject: Test\r\nX-Mailer: Outlook\r\nMessage-ID: <m1@example.org>\r\n"
    )
    assert b'boundary="alt"' not in raw and head.count(b"MIME-Version") == 1
    assert parse_email(raw).sender_name == "Jörg Weiß"


def sample_folders() -> list[pst.PstFolder]:
    handle = pst.open_pst(SAMPLE)
    return pst.folders(handle)


def test_outlooks_deleted_items_is_known_by_the_stores_mark() -> None:
    """sample.pst's writer made Deleted Items (empty, in English beside German folders)
    and named it in the message store (PR_IPM_WASTEBASKET_ENTRYID)."""
    handle = pst.open_pst(SAMPLE)
    found = {f.path: f for f in pst.folders(handle)}
    assert {p: (f.messages, f.special) for p, f in found.items()} == {
        "Deleted Items": (0, "deleted"),
        **{path: (n, None) for path, n in FOLDERS.items()},
    }
    node = pst._store_node(handle, pst.WASTEBASKET_ENTRYID)
    assert node is not None and node == found["Deleted Items"].handle.identifier
    # By that mark, not by its name: renamed, it stays Deleted Items; below it too.
    assert special(("Papierkorb", "Alt"), (1, node), {node: "deleted"}) == "deleted"


def test_deleted_items_and_junk_are_left_out_unless_asked_for() -> None:
    """No fixture has messages in Deleted Items or a Junk E-mail folder (tests/data/pst/
    README.md): the real folders of sample.pst, with its empty Deleted Items given three
    messages and a Junk-E-Mail folder (known by its name) with a subfolder added."""
    found = sample_folders()
    deleted = next(f for f in found if f.path == "Deleted Items")
    found[found.index(deleted)] = dataclasses.replace(deleted, messages=3)
    junk = [
        pst.PstFolder("Junk-E-Mail", None, 1, special(("Junk-E-Mail",), (9,), {})),
        pst.PstFolder("Junk-E-Mail/Alt", None, 2, special(("Junk-E-Mail", "Alt"), (9, 10), {})),
    ]
    found += junk

    def read(choice: FolderChoice) -> list[str]:
        return [f.path for f in select(found, choice).read]

    default = select(found, FolderChoice())
    assert [f.path for f in default.read] == list(FOLDERS)
    assert default.skipped == [
        Skipped("Deleted Items", "deleted", 3),
        Skipped("Junk-E-Mail", "junk", 3),
    ]
    assert skipped(Skipped("Gelöschte Elemente", "deleted", 1234), Words("de")) == (
        "Gelöschte Elemente (1.234 Nachrichten)"  # as the summary says it
    )
    assert read(FolderChoice(include_deleted=True)) == ["Deleted Items", *FOLDERS]
    with_junk = select(found, FolderChoice(include_junk=True))
    assert [f.path for f in with_junk.read] == [*FOLDERS, "Junk-E-Mail", "Junk-E-Mail/Alt"]
    assert with_junk.skipped == [Skipped("Deleted Items", "deleted", 3)]
    # --folder: the named folders and those below them, in any case; a folder named there
    # is read whatever it is.
    assert read(FolderChoice(only=("kunden",))) == ["Kunden", "Kunden/Meyer"]
    assert read(FolderChoice(only=("Kunden/Meyer", "Posteingang"))) == [
        "Posteingang",
        "Kunden/Meyer",
    ]
    assert read(FolderChoice(only=("Junk-E-Mail/Alt",))) == ["Junk-E-Mail/Alt"]
    assert select(found, FolderChoice(only=("Posteingang",))).skipped == []
    with pytest.raises(UnknownFolder, match=r"'Archiv'; it has .*\"Kunden/Meyer\""):
        select(found, FolderChoice(only=("Posteingang", "Archiv")))


def test_the_junk_folder_is_read_from_outlooks_list_of_special_folders() -> None:
    """PR_ADDITIONAL_REN_ENTRYIDS as a PST stores it ([MS-PST] 2.3.3.4.2): five entry ids
    (conflicts, sync issues, local failures, server failures, junk), the last one's node
    0x8122; a damaged offset reads empty instead of a wrong folder."""
    store = bytes(range(16))
    ids = [bytes(4) + store + node.to_bytes(4, "little") for node in (1, 2, 3, 4, 0x8122)]
    head = 4 + 4 * len(ids)
    offsets = [head + 24 * i for i in range(len(ids))]
    data = len(ids).to_bytes(4, "little") + b"".join(o.to_bytes(4, "little") for o in offsets)
    values = multi_binary(data + b"".join(ids))
    assert values == ids and entry_node(values[4]) == 0x8122
    broken = bytearray(data + b"".join(ids))
    broken[20:24] = (9999).to_bytes(4, "little")  # the fifth offset past the end
    assert multi_binary(bytes(broken))[4] == b"" and entry_node(b"") is None
    assert multi_binary(b"\xff\xff\xff\xff") == []
    assert special(("Junk E-mail",), (7,), {}) == "junk"
    assert special(("Kunden", "Junk-E-Mail"), (7, 8), {}) is None  # a name counts at the top


def test_import_only_the_named_folders(tmp_path: Path, database_url: str) -> None:
    cfg = config(tmp_path, database_url)
    code, out = kartei(cfg, "import-mail", str(SAMPLE), "--folder", "Kunden")
    assert code == 0 and "4 von 4 Nachrichten neu" in out, out
    assert "sample.pst/Kunden/Meyer: 3 von 3 gelesen, 3 neu" in out and "Posteingang" not in out
    mailboxes = {e.mailboxes for _, e in asyncio.run(mail_events(database_url))}
    assert mailboxes == {("import:sample.pst/Kunden",), ("import:sample.pst/Kunden/Meyer",)}

    code, out = kartei(cfg, "import-mail", str(SAMPLE), "--folder", "Archiv 2019")
    assert code == 2, out
    missing = 'sample.pst: Ordner "Archiv 2019" nicht gefunden; vorhanden sind'
    assert f'{missing} "Deleted Items", "Posteingang"' in out
    assert len(asyncio.run(mail_events(database_url))) == 4


def test_the_import_says_which_special_folders_it_left_out(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no fixture holding junk (tests/data/pst/README.md), sample.pst's Posteingang
    stands in for one: its name joins those Outlook gives the Junk E-mail folder."""
    monkeypatch.setitem(pst_folders._NAMES, "posteingang", "junk")
    cfg = config(tmp_path, database_url)
    code, out = kartei(cfg, "import-mail", str(SAMPLE))
    assert code == 0 and "7 von 7 Nachrichten neu" in out, out
    assert (
        "sample.pst: übersprungen: Posteingang (5 Nachrichten); einlesen mit --include-junk" in out
    )
    assert out.endswith("übersprungen: Posteingang (5 Nachrichten)")
    assert "sample.pst/Posteingang:" not in out

    code, out = kartei(cfg, "import-mail", str(SAMPLE), "--include-junk")
    assert code == 0 and "5 von 12 Nachrichten neu" in out and "übersprungen" not in out, out


def english(cfg: Path) -> Path:
    """The same installation with `[kartei] language = "en"`."""
    path = cfg.with_name("en.toml")
    path.write_text(cfg.read_text().replace("[kartei]", '[kartei]\nlanguage = "en"'))
    return path


def test_the_pst_import_speaks_english_with_an_english_config(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each folder's line, the folders left out, a file that is no PST, a folder it does
    not have: in English where the firm set English (German is the default, above)."""
    monkeypatch.setitem(pst_folders._NAMES, "posteingang", "junk")  # as in the test above
    cfg = english(config(tmp_path, database_url))
    code, out = kartei(cfg, "import-mail", str(SAMPLE))
    assert code == 0 and "7 of 7 messages were new; 0 skipped" in out, out
    assert "sample.pst/Kunden/Meyer: 3 of 3 read, 3 new" in out
    assert "sample.pst: skipped: Posteingang (5 messages); read it with --include-junk" in out
    assert out.endswith("skipped: Posteingang (5 messages)")
    assert "gelesen" not in out and "übersprungen" not in out

    code, out = kartei(cfg, "import-mail", str(SAMPLE), "--include-junk")
    assert "sample.pst/Posteingang: 5 of 5 read, 5 new" in out
    assert "sample.pst/Kunden: 1 of 1 read (1 by an earlier run), 0 new" in out

    code, out = kartei(cfg, "import-mail", str(SAMPLE), "--folder", "Archiv 2019")
    assert code == 2, out
    assert 'sample.pst: no folder "Archiv 2019"; it has "Deleted Items", "Posteingang"' in out

    truncated = tmp_path / "Archiv 2019.pst"
    truncated.write_bytes(SAMPLE.read_bytes()[: 100 * 1024])
    code, out = kartei(cfg, "import-mail", str(truncated))
    assert code == 1 and "Archiv 2019.pst: not a readable PST file (" in out, out
    assert "What could be read is imported; run again once the file is repaired" in out


def test_erasing_a_customer_forgets_the_file_and_folder_named_for_them(
    tmp_path: Path, database_url: str
) -> None:
    """A PST exported for one customer, named for them: its file and folder names are
    where that customer's letters lay, and go with the customer's key (invariant 8)."""
    cfg = config(tmp_path, database_url)
    customers = asyncio.run(add_customers(database_url))
    named = tmp_path / "imports" / "Meyer_privat.pst"
    named.parent.mkdir()
    shutil.copyfile(SAMPLE, named)
    asyncio.run(_old_mark(database_url))  # as an earlier version kept it: by name
    code, out = kartei(cfg, "import-mail", str(named), "--folder", "Kunden/Meyer")
    assert code == 0 and "3 von 3 Nachrichten neu" in out, out
    needles = [b"Meyer_privat", b"Kunden/Meyer"]

    def found() -> set[bytes]:
        files = [p for p in tmp_path.rglob("*") if p.is_file() and p != named]
        haystack = b"".join(p.read_bytes() for p in files)
        if not database_url.startswith("sqlite"):
            haystack += asyncio.run(_postgres_rows(database_url))
        return {n for n in needles if n in haystack}

    code, out = kartei(cfg, "rebuild")  # the read models show where each mail lay
    assert code == 0, out
    assert found() == set(needles)  # there to be found, in the mail index
    code, out = kartei(
        cfg, "privacy", "erase", customers["Meyer"], "--yes", "--reason", "Antrag 2026-31",
        "--override-retention", "Art. 17 request; letters kept on paper",
    )  # fmt: skip
    assert code == 0, out
    assert found() == set()
    code, out = kartei(cfg, "rebuild")
    assert code == 0 and found() == set(), out
    events = asyncio.run(mail_events(database_url))
    assert len(events) == 3 and {e.mailboxes for _, e in events} == {()}


async def _postgres_rows(url: str) -> bytes:
    """Every row of every table of the test's schema, as PostgreSQL writes it as text."""
    db = Database(url)
    try:
        async with db.read() as conn:
            names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            rows = [
                row
                for name in names
                for row in await conn.execute(sa.text(f'SELECT t::text FROM "{name}" t'))
            ]
    finally:
        await db.dispose()
    assert len(names) > 10
    return "\n".join(str(r[0]) for r in rows).encode()
