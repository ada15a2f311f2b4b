"""Every page in German says only what the German catalogue says (and the firm's own data),
in German formats: no English word, no raw E.164, no ISO date. Rendered over HTTP on a firm
with contacts, a company with switchboard and fax, mails, calls, a fax, notes, tasks,
classifications, a risk and a failing component."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.bootstrap import bootstrap, components, contact_importer
from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.classification import CustomerAtRisk, MessageClassified
from hub.events.contacts import Phone
from hub.events.fax import FaxReceived
from hub.store import EventStore
from hub.web import labels
from hub.web.i18n import GERMAN, format_date, format_datetime, format_number
from hub.web.screenpop import PopHub
from tests.web import events
from tests.web.conftest import Web, client, make_settings
from tests.web.german_text import foreign

PERSON = "+4930123456"  # Erika Muster, landline
MOBILE = "+491701234567"
ABROAD = "+41441234567"  # Erika's home number in Zurich
SWITCHBOARD = "+4930887470"
FAX = "+4930887479"
STRANGER = "+4940555123"  # calls, is nobody's number
# The firm's data as the pages may show it (numbers in their written form).
DATA = (
    "Erika Muster",
    "Erika",
    "Muster",
    "Holzwerk Nord GmbH",
    "K-1001",
    "erika@kunde.example",
    "info@holzwerk.example",
    "fremd@anders.example",
    "info@firma.example",
    "Tischplatte zerkratzt",
    "Schöner Stuhl",
    "Lieferschein 4711",
    "Unbekannte Anfrage",
    "Hallo",
    "Ruft morgen zurück",
    "Angebot senden",
    "Anna Admin",
    "anna",
    "bernd",
    "Bernd Berater",
    "Der Klassifikator ist ausgefallen: Modell-Datei fehlt " + "x" * 120,
    "030 123456",
    "0170 1234567",
    "+41 44 123 45 67",
    "030 887470",
    "030 887479",
    "040 555123",
    "Fax",
    "zzzz",
    "Lieferschein",
    "Dachdecker Kühn",
    "Hans",
    "Kühn",
    "hans@kuehn.example",
    "keine-nummer",
    "liste.csv",
)
# An import with a duplicate, a number that is none, an empty row and a new contact.
CSV = (
    "Vorname;Nachname;Firma;E-Mail-Adresse;Telefon geschäftlich\r\n"
    "Erika;Muster;Holzwerk Nord GmbH;erika@kunde.example;keine-nummer\r\n"
    ";;;;\r\n"
    "Hans;Kühn;Dachdecker Kühn;hans@kuehn.example;0171 2345678\r\n"
).encode("cp1252")
MINIMUM_STRINGS = 12  # a page with fewer was not rendered with its data
LOGIN_STRINGS = 5  # title, two labels, the button, the brand


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what a page says does not depend on the database."""
    return f"sqlite:///{tmp_path}/kartei.db"


async def firm(web: Web, store: EventStore) -> dict[str, str]:
    """A firm with a bit of everything; the ids the pages need."""
    contacts = ContactService(store)
    company = await contacts.create(
        {
            "company": "Holzwerk Nord GmbH",
            "emails": ("info@holzwerk.example",),
            "phones": (
                Phone(number=SWITCHBOARD, label="switchboard"),
                Phone(number=FAX, label="fax"),
            ),
        }
    )
    person = await contacts.create(
        {
            "given_name": "Erika",
            "family_name": "Muster",
            "company": "Holzwerk Nord GmbH",
            "customer_number": "K-1001",
            "emails": ("erika@kunde.example",),
            "phones": (
                Phone(number=PERSON),
                Phone(number=MOBILE, label="mobile"),
                Phone(number=ABROAD, label="home"),
            ),
        }
    )
    ago = int((datetime.now(UTC) - events.T0).total_seconds() // 60)
    complaint, at = await events.email(
        store, "erika@kunde.example", "Tischplatte zerkratzt", minutes=ago - 5
    )
    praise, praised_at = await events.email(
        store, "erika@kunde.example", "Schöner Stuhl", minutes=ago - 4
    )
    await events.email(store, "fremd@anders.example", "Unbekannte Anfrage", minutes=ago - 3)
    for stream, position, label in ((complaint, at, "complaint"), (praise, praised_at, "praise")):
        classified = MessageClassified(
            message_position=position,
            message_stream=stream,
            message_type="EmailReceived",
            label=label,
            confidence=0.9,
            model="m",
            model_version="1",
            contact_id=person,
        )
        await store.append(f"classification-{position}", 0, [NewEvent(classified)])
    await events.call(store, PERSON, minutes=ago - 2)
    await events.call(store, STRANGER, answered=False, minutes=ago - 1)
    await events.call(store, SWITCHBOARD, answered=False, minutes=ago - 60 * 24)
    fax = FaxReceived(
        sender=FAX,
        sender_raw="030 887479",
        pages=2,
        received_at=datetime.now(UTC) - timedelta(minutes=30),
        subject="Lieferschein 4711",
    )
    await store.append("fax-" + "1" * 32, 0, [NewEvent(fax)])
    risk = CustomerAtRisk(
        contact_id=person,
        complaints=(at,),
        score=3.0,
        reason="3 complaints in 30 days",
        reason_values={"complaints": 3, "praise": 1, "days": 30},
    )
    await store.append(f"risk-{person}", None, [NewEvent(risk)])
    web.kartei.health.component("classifier").set("failed", error=DATA[20])
    web.kartei.health.component("adapter:imap:info@firma.example").set("ok")
    return {"person": person, "company": company, "email": complaint}


@pytest.mark.parametrize("language", ["de", "en"])
async def test_every_page_says_only_the_catalogues_words(
    web: Web, store: EventStore, admin, language: str
) -> None:
    """German, and English for users who choose it: no word of the other language."""
    http, csrf = admin
    await http.post("/settings", data={"language": language, "csrf": csrf})
    ids = await firm(web, store)
    await web.accounts.add("bernd", "geheim-geheim-1", role="staff", display_name="Bernd Berater")
    person = ids["person"]
    await http.post(f"/contacts/{person}/notes", data={"text": "Ruft morgen zurück", "csrf": csrf})
    await http.post(f"/contacts/{person}/tasks", data={"title": "Angebot senden", "csrf": csrf})
    await web.settle()
    pages = [
        "/",
        "/tasks",
        "/tasks?scope=team",
        "/calls",
        "/calls?days=7",
        "/risks",
        "/classifications",
        f"/contacts/{person}",
        f"/contacts/{ids['company']}",
        f"/contacts/{person}/edit",
        "/contacts/new",
        f"/messages/{ids['email']}",
        "/search?q=Muster",
        "/search?q=Lieferschein",
        "/search?q=zzzz",
        "/senders/unknown",
        "/settings",
        "/admin/users",
        "/import",
        "/archive",
        "/audit",
        "/no/such/page",
    ]
    checked, findings = {}, {}
    for path in pages:
        response = await http.get(path, headers={"accept": "text/html"})
        assert response.status_code in (200, 404), path
        assert "<title>Kartei · Kartei</title>" not in response.text, f"{path}: no title of its own"
        left, count = foreign(response.text, (*DATA, *ids.values()), language)  # /audit: ids
        checked[path] = count
        if left:
            findings[path] = left
    web.app.state.importer = contact_importer(web.kartei.settings)
    files = {"file": ("liste.csv", CSV, "text/csv")}
    preview = await http.post("/import", params={"csrf": csrf}, files=files, data={"preview": "1"})
    assert preview.status_code == 200 and 'data-dry-run="yes"' in preview.text
    left, checked["import preview"] = foreign(preview.text, DATA, language)
    if left:
        findings["import preview"] = left
    async with client(web) as anonymous:
        left, login_count = foreign((await anonymous.get("/login")).text, DATA)
        if left:
            findings["/login"] = left
    assert findings == {}, "\n".join(f"{p}: {v}" for p, v in findings.items())
    thin = {path: count for path, count in checked.items() if count < MINIMUM_STRINGS}
    assert thin == {}, "pages that showed too little to judge"
    assert login_count >= LOGIN_STRINGS
    assert sum(checked.values()) > 25 * len(pages)


def test_an_english_word_or_format_is_found() -> None:
    """The check is not vacuous: each kind of slip is caught, German text is not."""
    page = (
        "<html><title>Übersicht · Kartei</title><body>"
        "<h2>Anrufe</h2><p>Erika Muster: verpasst</p>"
        "<button>Reply</button><input type=submit value='Send'>"
        "<span title='answered'>Anruf</span><p>2026-03-02</p><p>+4930123456</p>"
        "<p>3 Beschwerden in 30 Tagen</p><p>Anrufe der letzten 7 Tage</p><p>3.5</p>"
        "<p>07.12.2026 13:12</p><p>1.234,50</p>"
        "<script>var english = 'ignored';</script></body></html>"
    )
    left, count = foreign(page, ["Erika Muster"])
    assert left == ["Reply", "Send", "answered", "2026-03-02", "+4930123456", "3.5"]
    assert count == 12


async def test_the_pop_speaks_the_firms_language(web: Web, store: EventStore) -> None:
    """The pop is built once for every browser: its number, risk reason and recent
    interactions are written as the firm (German by default) writes them."""
    await firm(web, store)
    ringing = await events.call(store, PERSON, minutes=10**6)
    await web.settle()
    recorded = (await store.read_stream(ringing))[0]
    pop = await PopHub(web.kartei).message(recorded)
    assert pop is not None
    assert pop["number_text"] == "030 123456"
    assert pop["risk"] == "1 Beschwerde in 90 Tagen, einmal gelobt"  # as the risk list counts
    recent = [line["text"] for line in pop["recent"]]
    assert {"angenommen", "Tischplatte zerkratzt", "Abwanderungsgefahr"} <= set(recent)
    moments = [line["when"] for line in pop["recent"]]
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", when) for when in moments)
    said = "".join(f"<p>{html.escape(text)}</p>" for text in [pop["risk"], *recent])
    assert foreign(said, DATA) == ([], len(recent) + 1)


async def test_the_form_shows_numbers_as_written(web: Web, store: EventStore, admin) -> None:
    """A number stored in E.164 is offered for editing as people write it; saving the
    form unchanged changes nothing."""
    http, csrf = admin
    person = (await firm(web, store))["person"]
    await web.settle()
    form = (await http.get(f"/contacts/{person}/edit")).text
    shown = re.findall(r'name="phones" value="([^"]*)"', form)
    assert shown[:3] == ["030 123456", "0170 1234567", "+41 44 123 45 67"]
    fields = {"csrf": csrf, "version": re.search(r'name="version" value="(\d+)"', form)[1]}
    rows = {"phones": shown, "phone_labels": ["landline", "mobile", "home", "", ""]}
    names = {"given_name": "Erika", "family_name": "Muster", "company": "Holzwerk Nord GmbH"}
    saved = await http.post(f"/contacts/{person}/edit", data={**fields, **rows, **names})
    assert saved.status_code == 303
    changes = await store.read_all(0, 1000, types=("ContactChanged",))
    assert changes == []


@pytest.mark.parametrize(
    ("language", "number", "moment", "day"),
    [
        ("de", "1.234,50", "07.12.2026 14:12", "07.12.2026"),
        ("en", "1,234.50", "2026-12-07 14:12", "2026-12-07"),
    ],
)
def test_numbers_and_moments_as_the_language_writes_them(
    language: str, number: str, moment: str, day: str
) -> None:
    at = datetime(2026, 12, 7, 13, 12, tzinfo=UTC)
    assert format_number(1234.5, language, 2) == number
    assert format_datetime(at, language, ZoneInfo("Europe/Berlin")) == moment
    assert format_date(at.date(), language) == day


def test_every_component_has_a_name_in_the_catalogue(tmp_path: Path) -> None:
    """What the health panel lists (a default installation's parts, and those named
    after an account or a line) is named by a catalogue text, never by its id."""
    kartei = bootstrap(make_settings(tmp_path))
    started = [c.name for c in components(kartei, web=True)]
    named = ["adapter:imap:info@firma.example", "adapter:fax-imap:fax", "adapter:fritzbox"]
    others = ["store", "scheduler", "classifier", "alerts", "adapter:smtp", "adapter:fax-smtp"]
    assert len(started) > 10
    for name in [*started, *named, *others]:
        key, _ = labels.component(name)
        assert key in GERMAN and key != name, name
