"""Fixtures of the email tests: an archive, the capture pipeline, rules of a test firm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from adapters.mail.pipeline import MailIntake, MailRules
from hub.archive import Archive
from hub.settings import ImapAccount
from tests.mail.dovecot import Dovecot

RULES = MailRules(own_domains=frozenset({"firma.example"}))


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive")


@pytest.fixture
def intake(archive: Archive) -> Iterator[MailIntake]:
    pipeline = MailIntake(archive, RULES, workers=2)
    yield pipeline
    pipeline.close()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot for the whole session; each test takes its own user."""
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def mailbox_user(dovecot: Dovecot) -> str:
    return dovecot.take_user()


def account_for(dovecot: Dovecot, user: str, **overrides: object) -> ImapAccount:
    values: dict[str, object] = {
        "name": user,
        "host": "127.0.0.1",
        "port": dovecot.port,
        "security": "none",
        "username": user,
        "password": Dovecot.PASSWORD,
        "poll_seconds": 5,
        "idle_seconds": 10,
    }
    return ImapAccount.model_validate({**values, **overrides})


def imap_login(dovecot: Dovecot, user: str) -> IMAPClient:
    """A client for the test itself: it puts messages in with APPEND."""
    imap = IMAPClient("127.0.0.1", dovecot.port, ssl=False, timeout=30)
    imap.login(user, Dovecot.PASSWORD)
    return imap
