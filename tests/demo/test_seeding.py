"""`kartei init --demo`, seeded once into a temporary directory (SQLite), then looked at as
the demo user sees it: in the browser's pages and the JSON API of a Kartei started on it.

Seeding takes most of a minute on a small machine (the classifier reads every customer
message), so it runs once for this module; each test asserts one thing the user meets.
"""

from __future__ import annotations

import asyncio
import html
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.bootstrap import bootstrap, run
from hub.demo import customers, firm
from hub.demo.browser import Browser
from hub.demo.history import year
from hub.demo.script import Fax, Mail, Year
from hub.demo.seeding import CUSTOMERS, Seeded, seed_demo, write_config
from hub.events import Recorded
from hub.proofs import heads
from hub.proofs.setup import merkle_log
from hub.proofs.verify import Report, verify
from hub.settings import load_settings
from hub.store import Database, EventStore

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Europe/Berlin")
CAPTURE_TYPES = (
    "EmailReceived",
    "EmailSent",
    "FaxReceived",
    "CallRinging",
    "CallPlaced",
    "CallAnswered",
    "CallEnded",
    "CaptureFailed",
)
ADAPTERS = {"smtp", firm.BOX, "telephony-webhooks"}


@dataclass
class Demo:
    seeded: Seeded
    script: Year
    now: datetime
    pages: dict[str, Any]
    log: list[Recorded]
    config: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    config = tmp_path_factory.mktemp("demo") / "kartei.toml"
    write_config(config)
    now = datetime.now(TZ).replace(microsecond=0)
    seeded = asyncio.run(seed_demo(config, now))
    assert seeded is not None
    script = year(customers(CUSTOMERS), now)
    pages, log = asyncio.run(look_around(config, script))
    print(seeded.summary())  # the seeding time, for the record (-s shows it)
    return Demo(seeded, script, now, pages, log, config)


async def look_around(config: Path, script: Year) -> tuple[dict[str, Any], list[Recorded]]:
    """Starts Kartei on the demo's directory and reads what the demo user would open."""
    settings = load_settings(config)
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"port": 0})})
    kartei = bootstrap(settings, adapters=[], policies=[])
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop))
    try:
        assert kartei.web is not None
        async with asyncio.timeout(30):
            await kartei.web.ready.wait()
        base = f"http://127.0.0.1:{kartei.web.bound_port}"
        pages = await asyncio.to_thread(browse, base, script)
        log = await kartei.store.read_all(0, 100_000)
        mail = next(r.position for r in log if r.type_name == "EmailReceived")
        pages["/archive/<first mail>"] = await asyncio.to_thread(archive_page, base, mail)
        log = await kartei.store.read_all(0, 100_000)  # with the audit of that view
    finally:
        stop.set()
        await running
    return pages, log


def browse(base: str, script: Year) -> dict[str, Any]:
    desk = Browser(base)
    desk.login(firm.USER, firm.PASSWORD)
    assert script.at_risk is not None
    a = script.at_risk.contact_id
    pages: dict[str, Any] = {
        path: desk.get(path)
        for path in (
            "/",
            "/calls",
            "/calls?days=7",
            "/tasks",
            "/tasks?scope=team",
            f"/contacts/{a}",
        )
    }
    for path in ("/api/calls?days=366", "/api/tasks?scope=team", f"/api/contacts/{a}"):
        pages[path] = desk.get_json(path)
    for person in [script.at_risk, *script.missed_yesterday]:
        path = f"/api/contacts/{person.contact_id}"
        pages[path] = desk.get_json(path)
        pages[f"{path}/timeline"] = everything(desk, f"{path}/timeline")
    return pages


def archive_page(base: str, position: int) -> str:
    desk = Browser(base)
    desk.login(firm.USER, firm.PASSWORD)
    return desk.get(f"/archive/{position}")


def everything(desk: Browser, path: str) -> list[dict[str, Any]]:
    """All pages of a contact's timeline."""
    entries: list[dict[str, Any]] = []
    for page in range(20):
        found = desk.get_json(f"{path}?page={page}")
        entries += found
        if len(found) < 50:
            return entries
    return entries


def due_day(due: str) -> date:
    """The day a task is due: a due day as it is, a due moment's day in the firm's zone."""
    moment = datetime.fromisoformat(due)
    return moment.astimezone(TZ).date() if moment.tzinfo else moment.date()


def local_day(entry: dict[str, Any]) -> date:
    return datetime.fromisoformat(entry["at"]).astimezone(TZ).date()


def test_a_year_of_history_arrives_through_the_intake_paths(demo: Demo) -> None:
    seeded = demo.seeded
    assert seeded.classifier == "on"
    assert seeded.contacts == CUSTOMERS and seeded.mails > 250 and seeded.calls > 300
    calls = demo.pages["/api/calls?days=366"]
    days = {local_day(c) for c in calls}
    first = demo.now.date() - min(days)
    assert timedelta(days=330) < first <= timedelta(days=366)
    assert len(days) > 200  # spread over the year, each on its own day, not all "today"
    counts = {t: sum(1 for r in demo.log if r.type_name == t) for t in CAPTURE_TYPES}
    assert counts["EmailReceived"] > 150 and counts["EmailSent"] > 100
    assert counts["FaxReceived"] == sum(1 for m in demo.script.mails if isinstance(m, Fax))
    assert counts["CallEnded"] == len(demo.script.calls) + len(demo.script.live)
    assert counts["CaptureFailed"] == 0


def test_every_capture_came_through_an_adapter(demo: Demo) -> None:
    sources: dict[str, set[str | None]] = {r.type_name: set() for r in demo.log}
    for r in demo.log:
        sources[r.type_name].add(r.metadata.source)
    for kind in CAPTURE_TYPES:
        assert sources.get(kind, set()) <= ADAPTERS, kind
    assert sources["NoteAdded"] == {"web"}
    assert {r.metadata.actor for r in demo.log if r.type_name == "NoteAdded"} == {firm.USER}
    # Tasks: typed in the web app, or opened by the call-back and churn policies.
    assert sources["TaskOpened"] == {"web", None, "churn"}
    assert sources["MessageClassified"] == {"classifier"}
    assert sources["ContactCreated"] == {"demo"}  # the firm's card index, as imported


def test_the_morning_yesterdays_missed_calls_with_names_and_call_back_tasks(demo: Demo) -> None:
    dashboard, week = demo.pages["/"], demo.pages["/calls?days=7"]
    yesterday = demo.now.date() - timedelta(days=1)
    for person in demo.script.missed_yesterday:
        name = html.escape(person.name)
        assert f'href="/contacts/{person.contact_id}">{name}</a>' in dashboard
        assert name in week
        card = demo.pages[f"/api/contacts/{person.contact_id}"]
        assert [t["kind"] for t in card["open_tasks"]] == ["callback"], person.name
        history = demo.pages[f"{card_path(person.contact_id)}/timeline"]
        missed = [e for e in history if e["kind"] == "call" and inbound_missed(e["data"])]
        assert [local_day(e) for e in missed] == [yesterday], person.name
    # Today's list holds today's calls only, not the year the demo fed in this morning.
    today = demo.pages["/calls"]
    assert not any(html.escape(p.name) in today for p in demo.script.missed_yesterday)
    assert len(re.findall(r'<tr class="call ', today)) == len(demo.script.live)


def inbound_missed(call: dict[str, Any]) -> bool:
    return bool(call["direction"] == "inbound" and call["status"] == "missed")


def card_path(contact_id: str) -> str:
    return f"/api/contacts/{contact_id}"


def test_one_customer_at_risk_with_an_open_kind_letter_task(demo: Demo) -> None:
    a = demo.script.at_risk
    assert a is not None
    card = demo.pages[card_path(a.contact_id)]
    assert card["risk"] is not None
    letter = [t for t in card["open_tasks"] if t["kind"] == "kind_letter"]
    assert len(letter) == 1 and letter[0]["due"] is not None
    assert html.escape(a.name) in demo.pages["/"]  # the dashboard's customers at risk
    at_risk = {r.event.contact_id for r in demo.log if r.type_name == "CustomerAtRisk"}  # type: ignore[attr-defined]
    assert at_risk == {a.contact_id}


def test_a_card_has_mail_in_and_out_calls_a_fax_and_notes(demo: Demo) -> None:
    a = demo.script.at_risk
    assert a is not None
    entries = demo.pages[f"{card_path(a.contact_id)}/timeline"]
    kinds = {(e["kind"], e["data"].get("direction")) for e in entries}
    assert {
        ("email", "inbound"),
        ("email", "outbound"),
        ("call", "inbound"),
        ("fax", "inbound"),
    } <= kinds
    assert any(e["kind"] == "note" for e in entries)
    complaints = [e for e in entries if e["label"] == "complaint"]
    assert sorted(e["kind"] for e in complaints) == ["email", "email", "fax"]
    fax = next(e for e in entries if e["kind"] == "fax")
    assert fax["data"]["preview"] or fax["data"]["text"]
    assert "Kartons Toner fehlen" in fax["data"]["text"]
    assert html.escape(a.name) in demo.pages[f"/contacts/{a.contact_id}"]


def test_the_classifier_reads_each_message_as_the_script_meant(demo: Demo) -> None:
    labels = {
        r.event.message_stream: r.event.label  # type: ignore[attr-defined]
        for r in demo.log
        if r.type_name == "MessageClassified"
    }
    by_message = {
        r.event.message_id: labels.get(r.stream)  # type: ignore[attr-defined]
        for r in demo.log
        if r.type_name in ("EmailReceived", "FaxReceived")
    }
    meant = {
        m.message_id: m.mood for m in demo.script.mails if isinstance(m, Mail | Fax) and m.mood
    }
    wrong = {k: (v, by_message.get(k)) for k, v in meant.items() if by_message.get(k) != v}
    assert wrong == {}
    moods = set(meant.values())
    assert moods == {"complaint", "praise", "neutral"}


def test_tasks_with_due_dates(demo: Demo) -> None:
    team = demo.pages["/api/tasks?scope=team"]
    typed = {t["title"]: t for t in team if t["kind"] == "manual"}
    assert set(typed) == {task.title for task in demo.script.tasks}
    for task in demo.script.tasks:
        found = typed[task.title]
        assert found["due"] is not None
        assert due_day(found["due"]) == demo.now.date() + timedelta(days=task.due_days)
    assert "Rückruf" in demo.pages["/tasks?scope=team"]
    assert "Angebot Wartungsvertrag schicken" in demo.pages["/tasks"]


def test_the_archive_shows_a_signed_tree_head_from_the_start(demo: Demo) -> None:
    """No waiting for the first night's head: the seeded year is signed and checks out."""
    page = html.unescape(demo.pages["/archive/<first mail>"])
    assert "Enthalten in der signierten Baumwurzel" in page, page
    report = asyncio.run(verified(demo.config))
    assert report.ok, report.problems
    assert report.heads >= 1


async def verified(config: Path) -> Report:
    settings = load_settings(config)
    store = EventStore(Database(settings.database_url))
    await store.start()
    try:
        return await verify(merkle_log(settings, store), heads.load_public(settings.data_dir))
    finally:
        await store.close()


def test_init_demo_again_seeds_nothing(demo: Demo) -> None:
    directory = str(demo.config.parent)
    again = subprocess.run(
        [sys.executable, "-m", "hub.cli", "init", "--demo", "--force", directory],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "not seeded again" in " ".join(again.stdout.split())
    assert asyncio.run(seed_demo(demo.config)) is None
    assert asyncio.run(head(demo.config)) == demo.log[-1].position


async def head(config: Path) -> int:
    kartei = bootstrap(load_settings(config), adapters=[], policies=[], projections=[])
    await kartei.store.start()
    try:
        return await kartei.store.head()
    finally:
        await kartei.store.close()
