"""A store with the contact directory and identity index running over it (both databases)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.contacts import ContactService
from hub.events.contacts import Phone
from hub.phone import normalize
from hub.projection import ProjectionRunner
from hub.store import EventStore
from projections.contacts import ContactDirectory
from projections.identity import IdentityIndex


@dataclass
class Directory:
    """The contact parts under test, wired to one real store."""

    store: EventStore
    service: ContactService
    directory: ContactDirectory
    identity: IdentityIndex
    runners: list[ProjectionRunner]

    async def sync(self) -> None:
        for runner in self.runners:
            await runner.catch_up()


@pytest.fixture
async def contacts(store: EventStore) -> Directory:
    directory, identity = ContactDirectory(), IdentityIndex("DE", "30")
    runners = [ProjectionRunner(store, directory), ProjectionRunner(store, identity)]
    for runner in runners:
        await runner.prepare()
    return Directory(store, ContactService(store), directory, identity, runners)


def phone(raw: str, label: str = "landline") -> Phone:
    number = normalize(raw.replace("-0", "0") if raw.endswith("-0") else raw)
    assert number is not None, raw
    return Phone(number=number, label=label, raw=raw)
