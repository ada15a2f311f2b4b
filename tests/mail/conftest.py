"""Fixtures of the email tests: an archive, the capture pipeline, rules of a test firm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.mail.pipeline import MailIntake, MailRules
from hub.archive import Archive

RULES = MailRules(own_domains=frozenset({"firma.example"}))


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive")


@pytest.fixture
def intake(archive: Archive) -> Iterator[MailIntake]:
    pipeline = MailIntake(archive, RULES, workers=2)
    yield pipeline
    pipeline.close()
