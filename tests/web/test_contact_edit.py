"""Editing a contact through the form as a browser submits it: an unchanged form records
nothing, one changed field records only that field, and each number keeps its label and
written form, so a company's switchboard extensions still resolve (both databases)."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from hub.contacts.service import ContactService
from hub.events.contacts import ContactChanged, Phone
from hub.phone import normalize
from hub.store import EventStore
from tests.web.conftest import Web

SWITCHBOARD = "030 88747-0"
FAX = "030 88747-99"
EXTENSION = "030 88747-31"  # a direct dial behind the switchboard; resolves by its prefix


def phone(raw: str, label: str) -> Phone:
    number = normalize(raw)
    assert number is not None
    return Phone(number=number, label=label, raw=raw)


async def company(store: EventStore) -> str:
    return await ContactService(store).create(
        {
            "kind": "company",
            "company": "Dachdecker Kühn GmbH",
            "emails": ("info@kuehn.example",),
            "customer_number": "K-2040",
            "notes": "Lieferungen nur vormittags.\nHof hinter dem Haus.",
            "phones": (phone(SWITCHBOARD, "switchboard"), phone(FAX, "fax")),
        }
    )


class FormFields(HTMLParser):
    """What a browser submits for a page's form: each control's name and value, in order
    (checked boxes only, a select's selected option, a textarea's text with CRLF)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside = action, False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                value = a.get("value", "").replace("\r", "").replace("\n", "")
                self.fields.append((a["name"], value))
        elif tag == "select":
            self.select, self.options = a.get("name"), []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [v for v, selected in self.options if selected] or [self.options[0][0]]
            self.fields.append((self.select, chosen[-1]))
            self.select = None
        elif tag == "textarea" and self.textarea:
            text = self.text.removeprefix("\n")  # HTML drops one newline after <textarea>
            self.fields.append((self.textarea, text.replace("\r\n", "\n").replace("\n", "\r\n")))
            self.textarea = None


async def edit_form(http: httpx.AsyncClient, contact_id: str) -> list[tuple[str, str]]:
    page = await http.get(f"/contacts/{contact_id}/edit")
    assert page.status_code == 200
    parser = FormFields(f"/contacts/{contact_id}/edit")
    parser.feed(page.text)
    assert parser.fields, "no edit form on the page"
    return parser.fields


async def submit(http: httpx.AsyncClient, contact_id: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return await http.post(f"/contacts/{contact_id}/edit", data=data)


def replaced(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    assert any(n == name for n, _ in fields), name
    return [(n, value if n == name else v) for n, v in fields]


async def resolves(web: Web, number: str) -> str | None:
    await web.settle()
    identity = web.kartei.projections["identity"].projection
    async with web.kartei.store.db.read() as conn:
        match = await identity.lookup_number(conn, number)  # type: ignore[attr-defined]
    return None if match is None else str(match.contact_id)


async def test_saving_an_unchanged_form_records_nothing(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    cid = await company(store)
    assert await resolves(web, EXTENSION) == cid
    before = await store.read_stream(f"contact-{cid}")
    saved = await submit(http, cid, await edit_form(http, cid))
    assert saved.status_code == 303, saved.text
    assert await store.read_stream(f"contact-{cid}") == before
    assert await resolves(web, EXTENSION) == cid


async def test_one_changed_field_is_all_that_is_recorded(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    cid = await company(store)
    fields = replaced(await edit_form(http, cid), "customer_number", "K-2041")
    saved = await submit(http, cid, fields)
    assert saved.status_code == 303, saved.text
    stream = await store.read_stream(f"contact-{cid}")
    assert len(stream) == 2
    assert stream[-1].event == ContactChanged(contact_id=cid, customer_number="K-2041")
    card = await ContactService(store).load(cid)
    assert card.phones == (phone(SWITCHBOARD, "switchboard"), phone(FAX, "fax"))
    assert card.notes == "Lieferungen nur vormittags.\nHof hinter dem Haus."
    assert await resolves(web, EXTENSION) == cid
    # Saving the form again as it now shows records nothing.
    await submit(http, cid, await edit_form(http, cid))
    assert len(await store.read_stream(f"contact-{cid}")) == 2


async def test_the_form_carries_labels_in_the_users_language(
    web: Web, store: EventStore, admin
) -> None:
    http, csrf = admin
    cid = await company(store)
    page = (await http.get(f"/contacts/{cid}/edit")).text
    for german in ("Festnetz", "Zentrale", "Mobil", "Privat", "Fax"):
        assert f">{german}</option>" in page
    assert 'value="030 88747-0"' in page and 'value="030 88747-99"' in page
    # A new number in an empty row, and the fax relabelled: both recorded, the rest kept.
    fields = await edit_form(http, cid)
    numbers = [i for i, (n, _) in enumerate(fields) if n == "phones"]
    labels = [i for i, (n, _) in enumerate(fields) if n == "phone_labels"]
    assert len(numbers) == len(labels) >= 3
    fields[numbers[2]] = ("phones", "0171 2345678")
    fields[labels[1]] = ("phone_labels", "landline")
    assert (await submit(http, cid, fields)).status_code == 303
    changed = (await store.read_stream(f"contact-{cid}"))[-1].event
    assert isinstance(changed, ContactChanged)
    assert changed.phones == (
        phone(SWITCHBOARD, "switchboard"),
        phone(FAX, "landline"),
        phone("0171 2345678", "mobile"),
    )
    assert changed.customer_number is None and changed.emails is None
    assert await resolves(web, EXTENSION) == cid
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    english = (await http.get(f"/contacts/{cid}/edit")).text
    for label in ("Landline", "Switchboard", "Mobile", "Home", "Fax"):
        assert f">{label}</option>" in english


async def test_a_number_that_is_not_one_is_refused_with_the_form_kept(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    cid = await company(store)
    fields = await edit_form(http, cid)
    numbers = [i for i, (n, _) in enumerate(fields) if n == "phones"]
    fields[numbers[2]] = ("phones", "bitte zurückrufen")
    fields = replaced(fields, "customer_number", "K-9")
    refused = await submit(http, cid, fields)
    assert refused.status_code == 400
    assert "bitte zurückrufen" in refused.text and 'value="K-9"' in refused.text
    assert len(await store.read_stream(f"contact-{cid}")) == 1
