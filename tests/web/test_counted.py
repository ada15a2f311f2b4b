"""Counted things read as German writes them: "1 Seite", "3 Seiten" (both databases).

Regression: a one-page fax on the card said "1 Seiten".
"""

from __future__ import annotations

from datetime import timedelta
from string import Formatter

import pytest

from hub.events import NewEvent
from hub.events.fax import FaxReceived
from hub.store import EventStore
from hub.web.i18n import GERMAN, counted
from tests.web.conftest import Web
from tests.web.events import T0
from tests.web.test_card import FAX_NUMBER, customer


async def a_fax(store: EventStore, pages: int) -> None:
    event = FaxReceived(
        sender=FAX_NUMBER, sender_raw="030 555666", pages=pages, received_at=T0 + timedelta(pages)
    )
    await store.append(f"fax-{pages:032d}", 0, [NewEvent(event)])


async def test_a_one_page_fax_says_one_page(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await customer(store)
    await a_fax(store, 1)
    await a_fax(store, 3)
    await a_fax(store, 0)  # the document could not be read: no count rather than "0 Seiten"
    await web.settle()
    card = (await http.get(f"/contacts/{cid}")).text
    assert "· 1 Seite<" in card and "1 Seiten" not in card
    assert "· 3 Seiten<" in card and "0 Seiten" not in card
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    card = (await http.get(f"/contacts/{cid}")).text
    assert "· 1 page<" in card and "· 3 pages<" in card


@pytest.mark.parametrize(
    ("count", "language", "text"),
    [
        (0, "de", "0 Seiten"),
        (1, "de", "1 Seite"),
        (2, "de", "2 Seiten"),
        (1500, "de", "1.500 Seiten"),
        (1, "en", "1 page"),
        (1500, "en", "1,500 pages"),
    ],
)
def test_counted(count: int, language: str, text: str) -> None:
    assert counted(count, "{count} page", "{count} pages", language) == text


def test_every_counted_key_has_both_german_forms() -> None:
    names = lambda text: {f for _, f, _, _ in Formatter().parse(text) if f}  # noqa: E731
    keys = [k for k in GERMAN if k.startswith("{count} ")]
    assert keys
    for key in keys:
        assert names(GERMAN[key]) == names(key), key
