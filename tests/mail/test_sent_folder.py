"""The Sent folder found as mail clients find it, on real Dovecot servers that flag none
(names in English and German, Courier's "INBOX." layout), and a loud warning in the log,
`/healthz` and `kartei capture status` when a mailbox has none."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapters.imap.adapter import ImapAccountCapture
from adapters.imap.folders import find_sent
from adapters.mail.pipeline import MailIntake
from hub.bootstrap import bootstrap, components
from hub.cli import app
from hub.events.mail import EmailReceived, EmailSent
from hub.health import ComponentHealth
from hub.runtime import Supervisor
from hub.settings import Settings
from hub.store import EventStore
from tests.mail import messages
from tests.mail.conftest import account_for
from tests.mail.dovecot import Dovecot
from tests.mail.test_cli import config
from tests.mail.test_imap import append, emails, running, until

# -- the rule, on LIST responses as servers send them -----------------------------------


def test_special_use_first_then_xlist_then_sent_folder_then_names() -> None:
    flagged = [((b"\\HasNoChildren", b"\\Sent"), b"/", "Gesendete Objekte")]
    named = [((b"\\HasNoChildren",), b"/", "Sent"), ((), b"/", "Meins")]
    assert find_sent([*flagged, *named]).names == ("Gesendete Objekte",)
    xlisted = [((b"\\Sent",), b"/", "[Google Mail]/Gesendet")]
    assert find_sent(named, xlisted=xlisted).found_by == "xlist"
    assert find_sent(named, "Meins").names == ("Meins",)
    found = find_sent(named)
    assert (found.names, found.found_by, found.warning) == (("Sent",), "name", None)


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ([((), b"/", "Gesendete Objekte")], ("Gesendete Objekte",)),
        ([((), b"/", "gesendete elemente")], ("gesendete elemente",)),
        ([((), b".", "INBOX.Sent Messages")], ("INBOX.Sent Messages",)),
        ([((), b"/", "INBOX/Gesendet")], ("INBOX/Gesendet",)),
        # Two clients, two folders: both are captured, the commoner name first.
        ([((), b"/", "Gesendete Elemente"), ((), b"/", "Sent")], ("Sent", "Gesendete Elemente")),
        # Not Sent folders: nested in a project, not selectable, the outbox.
        ([((), b"/", "Projekte/Sent")], ()),
        ([((b"\\Noselect",), b"/", "Sent")], ()),
        ([((), b"/", "Postausgang")], ()),
    ],
)
def test_common_names_at_the_top_or_under_inbox(
    listed: list[tuple[tuple[bytes, ...], bytes, str]], expected: tuple[str, ...]
) -> None:
    assert find_sent(listed).names == expected


def test_no_sent_folder_is_a_warning_naming_the_folders_to_choose_from() -> None:
    found = find_sent([((), b"/", "INBOX"), ((), b"/", "Ablage")])
    assert found.names == () and found.found_by == "none"
    assert found.warning is not None
    assert "no Sent folder found" in found.warning and '"Ablage"' in found.warning
    missing = find_sent([((), b"/", "INBOX"), ((), b"/", "Sent")], "Gesendet")
    assert missing.names == ("Sent",)
    assert (
        missing.warning
        == 'sent_folder "Gesendet" is not on the server; capturing Sent (found by name)'
    )


# -- real servers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[Dovecot]:
    """A Dovecot whose folders carry no SPECIAL-USE flag."""
    server = Dovecot(layout="plain")
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def courier_dovecot() -> Iterator[Dovecot]:
    """A Dovecot laid out as Courier: "INBOX." prefix, "." separator, no SPECIAL-USE."""
    server = Dovecot(layout="courier")
    server.start()
    yield server
    server.cleanup()


def sent_mail(first: int, count: int) -> list[bytes]:
    return [
        messages.simple(n, sender="info@firma.example", to=f"k{n}@kunde.example")
        for n in range(first, first + count)
    ]


@pytest.mark.parametrize(
    ("layout", "folders"),
    [
        ("plain", ("Gesendete Objekte",)),
        ("plain", ("Sent Items",)),
        ("plain", ("Sent", "Gesendete Elemente")),
        ("courier", ("INBOX.Gesendet",)),
        ("courier", ("INBOX.Sent Messages",)),
    ],
)
async def test_sent_mail_is_captured_from_a_folder_found_by_its_name(
    store: EventStore,
    intake: MailIntake,
    request: pytest.FixtureRequest,
    layout: str,
    folders: tuple[str, ...],
) -> None:
    dovecot: Dovecot = request.getfixturevalue(f"{layout}_dovecot")
    user = dovecot.take_user()
    await asyncio.to_thread(append, dovecot, user, "INBOX", [messages.simple(1)])
    for n, folder in enumerate(folders):
        await asyncio.to_thread(append, dovecot, user, folder, sent_mail(100 * n + 500, 2))
    health = ComponentHealth(f"adapter:imap:{user}")
    async with running(store, account_for(dovecot, user), intake, health) as adapter:
        await until(lambda: adapter.passes >= 1)
    events = await emails(store)
    assert sum(isinstance(e, EmailReceived) for e in events) == 1
    assert sum(isinstance(e, EmailSent) for e in events) == 2 * len(folders)
    assert health.state == "ok" and health.error is None
    assert (health.details["sent_folders"], health.details["sent_found_by"]) == (
        list(folders),
        "name",
    )


async def test_a_mailbox_without_sent_folder_says_so_in_healthz_status_and_log(
    store: EventStore,
    intake: MailIntake,
    plain_dovecot: Dovecot,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Sent mail was silently not captured and neither `kartei capture status` nor
    /healthz said why."""
    user = plain_dovecot.take_user()
    await asyncio.to_thread(append, plain_dovecot, user, "Ablage", sent_mail(500, 2))
    account = account_for(plain_dovecot, user)
    adapter = ImapAccountCapture(account, intake)
    settings = Settings(kartei={"data_dir": tmp_path, "language": "de"})  # type: ignore[arg-type]
    kartei = bootstrap(settings, store=store, projections=[], policies=[], adapters=[adapter])
    assert kartei.web is not None
    supervisor = asyncio.create_task(Supervisor(kartei.health).run(components(kartei, web=False)))
    try:
        with caplog.at_level(logging.WARNING, logger="adapters.imap.adapter"):
            await until(lambda: adapter.passes >= 1)
        transport = httpx.ASGITransport(app=kartei.web.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as http:
            health = (await http.get("/healthz")).json()
    finally:
        supervisor.cancel()
        await asyncio.gather(supervisor, return_exceptions=True)
    mailbox = health["components"][f"adapter:imap:{user}"]
    assert mailbox["state"] == "degraded"
    assert "no Sent folder found" in mailbox["details"]["warning"]
    assert "sent mail is NOT captured" in mailbox["error"] and '"Ablage"' in mailbox["error"]
    assert any("no Sent folder found" in r.getMessage() for r in caplog.records)

    account_toml = (
        f'[[mail.imap]]\nname = "{user}"\nhost = "127.0.0.1"\nport = {plain_dovecot.port}\n'
        f'security = "none"\nusername = "{user}"\npassword = "{Dovecot.PASSWORD}"\n'
    )
    cfg = str(config(tmp_path, database_url, account_toml))
    runner = CliRunner()
    shown = await asyncio.to_thread(runner.invoke, app, ["capture", "status", "-c", cfg])
    assert shown.exit_code == 0, shown.output
    line = " ".join(shown.output.split())
    assert f"WARNING {user}: no Sent folder found" in line and "NOT captured" in line
    args = ["capture", "status", "-c", cfg, "--json"]
    as_json = json.loads((await asyncio.to_thread(runner.invoke, app, args)).output)
    assert as_json["sent"][user]["found_by"] == "none"
    assert "no Sent folder found" in as_json["sent"][user]["warning"]


async def test_a_configured_folder_the_server_lacks_is_a_warning(
    store: EventStore,
    intake: MailIntake,
    plain_dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`folders = ["Rechnungen", "Aufträge"]` where the server has only "Aufträge": the
    one it has is captured, the other was dropped without a word before."""
    user = plain_dovecot.take_user()
    await asyncio.to_thread(append, plain_dovecot, user, "Sent", sent_mail(500, 1))
    await asyncio.to_thread(append, plain_dovecot, user, "Aufträge", [messages.simple(7)])
    account = account_for(plain_dovecot, user, folders=["Rechnungen", "Aufträge"])
    health = ComponentHealth(f"adapter:imap:{user}")
    with caplog.at_level(logging.WARNING, logger="adapters.imap.adapter"):
        async with running(store, account, intake, health) as adapter:
            await until(lambda: adapter.passes >= 1)
    events = await emails(store)
    assert sum(isinstance(e, EmailReceived) for e in events) == 1  # from "Aufträge"
    assert health.state == "degraded"
    assert health.error == 'configured folders not on the server, NOT captured: "Rechnungen"'
    assert any('"Rechnungen"' in r.getMessage() for r in caplog.records)
