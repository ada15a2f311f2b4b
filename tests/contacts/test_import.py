"""Importing files into a real store on both databases: counts, duplicates, resuming."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.importers.plan import Directory as Known
from adapters.importers.plan import plan_import
from adapters.importers.run import import_file, read_records, write_plan
from adapters.importers.samples import outlook_csv, vcards
from hub.demo import customers
from hub.events import Metadata
from tests.contacts.conftest import Directory

CARDS = customers(40, seed=3)


async def run_import(contacts: Directory, path: Path, **options: object):  # type: ignore[no-untyped-def]
    await contacts.sync()
    async with contacts.store.db.read() as conn:
        known = await contacts.directory.all(conn)
    report = await import_file(path, contacts.store, known, **options)  # type: ignore[arg-type]
    await contacts.sync()
    return report


@pytest.mark.parametrize("kind", ["csv", "vcf"])
async def test_an_export_imports_and_its_numbers_resolve(
    contacts: Directory, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"kontakte.{kind}"
    path.write_bytes(outlook_csv(CARDS) if kind == "csv" else vcards(CARDS))
    report = await run_import(contacts, path)
    assert report.summary()["error"] == 0
    assert report.count("create") == len(CARDS)
    _, someone = next((i, c) for i, c in CARDS if c.get("company_id"))
    async with contacts.store.db.read() as conn:
        assert await contacts.directory.count(conn) == len(CARDS)
        match = await contacts.identity.lookup_number(conn, someone["phones"][0].raw)
        assert match is not None
        assert match.display_name == f"{someone['given_name']} {someone['family_name']}"
        assert match.company == someone["company"]
        by_email = await contacts.identity.lookup_email(conn, someone["emails"][0])
    assert by_email.contact_id == match.contact_id


async def test_a_dry_run_writes_nothing(contacts: Directory, tmp_path: Path) -> None:
    path = tmp_path / "kontakte.csv"
    path.write_bytes(outlook_csv(CARDS[:10]))
    head = await contacts.store.head()
    report = await run_import(contacts, path, dry_run=True)
    assert report.count("create") == 10 and report.appended == 0
    assert await contacts.store.head() == head


async def test_importing_again_appends_nothing(contacts: Directory, tmp_path: Path) -> None:
    path = tmp_path / "kontakte.csv"
    path.write_bytes(outlook_csv(CARDS[:10]))
    await run_import(contacts, path)
    head = await contacts.store.head()
    again = await run_import(contacts, path)
    assert again.summary()["unchanged"] == 10 and again.appended == 0
    assert await contacts.store.head() == head


async def test_an_interrupted_import_resumes_without_doubles(
    contacts: Directory, tmp_path: Path
) -> None:
    data = outlook_csv(CARDS)
    path = tmp_path / "kontakte.csv"
    path.write_bytes(data)
    plan = plan_import(read_records("csv", data, None), Known([]), "deadbeef")
    plan.writes = plan.writes[:15]  # the process died after 15 rows were committed
    await write_plan(contacts.store, plan, Metadata())
    report = await run_import(contacts, path)
    assert report.appended == len(CARDS) - 15
    async with contacts.store.db.read() as conn:
        assert await contacts.directory.count(conn) == len(CARDS)


CSV = (
    "Vorname;Nachname;Firma;Telefon;E-Mail\n"
    "Anna;Schulz;Bäckerei Schulz GmbH;030 1234-56;anna@schulz.de\n"
    "Anna;Schultz;Bäckerei Schulz;0171 2345678;\n"
    "Anna;Schulz;;;ANNA@SCHULZ.DE\n"
    ";;;n/a;kaputt\n"
    "Jörg;Meier;;+49 (0) 30 99887766;\n"
    "Jörg;Meier;;030/998 877 66;\n"
    "Petra;Meier;;030/998 877 66;\n"
)


async def test_duplicates_merge_and_bad_rows_are_reported_by_line(
    contacts: Directory, tmp_path: Path
) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(CSV.encode("cp1252"))
    report = await run_import(contacts, path)
    actions = {o.line: (o.action, str(o.reason)) for o in report.outcomes}
    assert actions[2][0] == "create"
    assert actions[3] == ("merge", "similar name at Bäckerei Schulz as Anna Schulz")
    assert actions[4][0] == "unchanged"
    assert actions[5] == ("error", "no name, company, email or phone number")
    assert actions[7][0] == "unchanged"  # same number, same name
    assert actions[8][0] == "create"  # same number, another person (a shared line)
    async with contacts.store.db.read() as conn:
        anna = await contacts.identity.lookup_number(conn, "0171 2345678")
        card = await contacts.directory.get(conn, anna.contact_id)
    assert [p.number for p in card.phones] == ["+4930123456", "+491712345678"]


async def test_report_mode_leaves_duplicates_out(contacts: Directory, tmp_path: Path) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(CSV.encode())
    report = await run_import(contacts, path, on_duplicate="report")
    assert report.count("duplicate") == 3
    assert report.count("create") == 3


async def test_a_contact_changed_during_the_import_fails_only_its_row(
    contacts: Directory, tmp_path: Path
) -> None:
    anna = await contacts.service.create(
        {"given_name": "Anna", "family_name": "Schulz", "emails": ("anna@schulz.de",)}
    )
    await contacts.sync()
    data = "Name;E-Mail;Telefon\nAnna Schulz;anna@schulz.de;0301112233\nJörg Meier;;030 5556677\n"
    async with contacts.store.db.read() as conn:
        known = Known(await contacts.directory.all(conn))
    plan = plan_import(read_records("csv", data.encode(), None), known, "cafe")
    await contacts.service.change(anna, {"notes": "ruft oft an"})  # someone else, meanwhile
    assert await write_plan(contacts.store, plan, Metadata()) == 1
    assert plan.outcomes[0].action == "error" and "changed" in str(plan.outcomes[0].reason)
    assert plan.outcomes[1].action == "create"
