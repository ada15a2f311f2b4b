"""`kartei contacts find|lookup|show|merge|consent` and `kartei import FILE`."""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from adapters.importers.columns import MappingError, parse_mapping
from adapters.importers.run import ImportReport, import_file
from adapters.importers.tabular import FileFormatError
from hub.bootstrap import Kartei, bootstrap, identity_index
from hub.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    fail,
    run_async,
    settings,
    up_to_date,
)
from hub.cli.import_report import print_report
from hub.cli.words import words
from hub.contacts import Contact, ContactError, ContactService
from hub.contacts.model import Consent
from hub.settings import Settings
from hub.store.errors import ConcurrencyError
from projections.contacts import ContactDirectory
from projections.identity import IdentityIndex

app = typer.Typer(help="The contact directory: find, look up, show and merge contacts.")


@contextlib.asynccontextmanager
async def opened(loaded: Settings) -> AsyncIterator[tuple[Kartei, ContactDirectory, IdentityIndex]]:
    """The store with the directory and identity index caught up to the log's head."""
    directory, identity = ContactDirectory(), identity_index(loaded)
    kartei = bootstrap(loaded, adapters=[], policies=[], projections=[directory, identity])
    await kartei.store.start()
    try:
        await catch_up(kartei)
        yield kartei, directory, identity
    finally:
        await kartei.store.close()


async def catch_up(kartei: Kartei) -> None:
    """The read models at the log's head: caught up here, or by a running `kartei run`."""
    for runner in kartei.projections.values():
        await up_to_date(runner)


@app.command("find")
def find_command(
    text: Annotated[str, typer.Argument(help="Any part of a name, firm, email, number, city.")],
    limit: Annotated[int, typer.Option(help="At most this many.")] = 20,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Search the directory."""

    async def main() -> list[Contact]:
        async with (
            opened(settings(config)) as (kartei, directory, _),
            kartei.store.db.read() as conn,
        ):
            return await directory.search(conn, text, limit)

    found = run_async(main)
    if json:
        typer.echo(orjson.dumps([card_json(c) for c in found]).decode())
        return
    # The id is what `show` and `merge` take: never cut, folded or wrapped. The other
    # columns make room in a narrow terminal by folding onto more lines (nothing cut).
    table = Table()
    for header in ("name", "company", "email", "phone", "city"):
        table.add_column(header, overflow="fold")
    id_width = max((len(c.contact_id) for c in found), default=2)
    table.add_column("id", no_wrap=True, overflow="ignore", min_width=id_width)
    for c in found:
        city = c.address.city if c.address else ""
        phone = c.phones[0].number if c.phones else ""
        email = c.emails[0] if c.emails else ""
        cells = (c.display_name, c.company, email, phone, city, c.contact_id)
        table.add_row(*(escape(cell) for cell in cells))
    console.print(table if found else "nothing found")


@app.command("lookup")
def lookup_command(
    number: Annotated[str, typer.Argument(help="A caller number as a phone system sends it.")],
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Who a caller number (or an email address) belongs to, as the screen pop sees it."""

    async def main() -> Any:
        async with (
            opened(settings(config)) as (kartei, _, identity),
            kartei.store.db.read() as conn,
        ):
            if "@" in number:
                return await identity.lookup_email(conn, number)
            return await identity.lookup_number(conn, number)

    match = run_async(main)
    if json:
        typer.echo(orjson.dumps(dataclasses.asdict(match) if match else None).decode())
    elif match is None:
        console.print(f"{number}: unknown caller")
    else:
        company = f" ({match.company})" if match.company and match.kind == "person" else ""
        console.print(
            f"{match.number or number}: {match.display_name}{company} [{match.how}] "
            f"id {match.contact_id}"
            + (f", Kd.-Nr. {match.customer_number}" if match.customer_number else ""),
            highlight=False,
            markup=False,
        )


@app.command("show")
def show_command(
    contact_id: Annotated[str, typer.Argument(help="The contact's id.")],
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show a contact's card."""

    async def main() -> Contact | None:
        async with (
            opened(settings(config)) as (kartei, directory, _),
            kartei.store.db.read() as conn,
        ):
            return await directory.get(conn, contact_id)

    card = run_async(main)
    if card is None:
        fail(f"no contact {contact_id}", code=1)
        return
    if json:
        typer.echo(orjson.dumps(card_json(card)).decode())
        return
    print_card(card)


@app.command("merge")
def merge_command(
    survivor: Annotated[str, typer.Argument(help="The contact that stays.")],
    duplicate: Annotated[str, typer.Argument(help="The duplicate merged into it.")],
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Merge a duplicate into another contact; its history follows the survivor."""

    async def main() -> Contact:
        async with opened(settings(config)) as (kartei, _, _):
            try:
                merged = await ContactService(kartei.store, "cli").merge(survivor, duplicate)
            except ContactError as err:
                fail(str(err), code=1)
            except ConcurrencyError:
                fail("one of the contacts changed meanwhile; try again", code=1)
            await catch_up(kartei)
            return merged

    card = run_async(main)
    if json:
        typer.echo(orjson.dumps(card_json(card)).decode())
        return
    console.print(f"merged {duplicate} into {survivor}:", highlight=False)
    print_card(card)


def import_command(
    file: Annotated[
        Path,
        typer.Argument(help="CSV, XLSX or vCard file.", exists=True, dir_okay=False, readable=True),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen.")] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--mapping",
            "-m",
            help="COLUMN=FIELD, e.g. 'Kd.Nr.=customer_number' "
            "(repeatable; fields: name, given_name, family_name, company, email, "
            "phone, mobile, fax, street, postcode, city, notes, tags, ...).",
        ),
    ] = None,
    on_duplicate: Annotated[
        str | None, typer.Option(help="merge or report (default from [contacts]).")
    ] = None,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Import contacts from a CSV/Excel export or a vCard file (resumable: run it again)."""
    loaded = settings(config)
    say = words(loaded)
    try:
        columns = parse_mapping(mapping or [])
    except MappingError as err:
        fail(escape(say(err.remark.key, **err.remark.values)))
    policy = on_duplicate or loaded.contacts.on_duplicate
    if policy not in ("merge", "report"):
        fail(say("--on-duplicate: expected merge or report"))
    report = run_async(lambda: _import(loaded, file, columns, dry_run, policy, json))
    print_report(report, json, say)
    if report.count("error") and not json:
        raise typer.Exit(1)


async def _import(
    loaded: Settings,
    file: Path,
    mapping: dict[str, str],
    dry_run: bool,
    policy: str,
    quiet: bool,
) -> ImportReport:
    async with opened(loaded) as (kartei, directory, _):
        async with kartei.store.db.read() as conn:
            known = await directory.all(conn)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, disable=quiet or dry_run) as bar:
            name = escape(file.name)  # a file name is no markup
            task = bar.add_task(words(loaded)("importing {file}", file=name), total=None)
            try:
                report = await import_file(
                    file,
                    kartei.store,
                    known,
                    mapping=mapping,
                    dry_run=dry_run,
                    on_duplicate=policy,
                    region=loaded.contacts.default_region,
                    own_area_code=loaded.contacts.own_area_code or None,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            except (FileFormatError, MappingError) as err:
                said = words(loaded)(err.remark.key, **err.remark.values)
                fail(escape(f"{file}: {said}"))
        await catch_up(kartei)
        return report


def _consent_line(c: Consent) -> str:
    said = f" ({c.source}, {c.given_on})" if c.source else f" ({c.given_on})"
    return f"Einwilligung {c.channel}: {c.state}{said}"


@app.command("consent")
def consent_command(
    contact_id: Annotated[str, typer.Argument(help="The contact's id.")],
    channel: Annotated[str, typer.Argument(help="email, phone, fax or letter.")],
    state: Annotated[str, typer.Argument(help="allowed, blocked or unknown.")],
    source: Annotated[
        str, typer.Option(help="Where the person said it, e.g. 'Anruf 07.12.'.")
    ] = "",
    on: Annotated[
        str | None, typer.Option(help="The day they said it (DD.MM.YYYY or YYYY-MM-DD; today).")
    ] = None,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Record whether a contact may be contacted by email, phone, fax or letter."""
    given_on = _day(on) if on else None
    actor = f"cli:{getpass.getuser()}"

    async def main() -> Contact:
        async with opened(settings(config)) as (kartei, _, _):
            service = ContactService(kartei.store, "cli")
            try:
                card = await service.record_consent(
                    contact_id, channel, state, source=source, given_on=given_on, actor=actor
                )
            except ContactError as err:
                fail(str(err), code=1)
            except ConcurrencyError:
                fail("the contact changed meanwhile; try again", code=1)
            await catch_up(kartei)
            return card

    card = run_async(main)
    said = card.consent_for(channel)
    if json:
        typer.echo(orjson.dumps(dataclasses.asdict(said)).decode())
        return
    console.print(f"{card.display_name}: {_consent_line(said)}", highlight=False, markup=False)


def _day(text: str) -> date:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(text.strip(), pattern).date()
    fail(f"--on {text!r}: expected a date like 07.12.2026 or 2026-12-07")


def card_json(card: Contact) -> dict[str, Any]:
    return {**dataclasses.asdict(card), "display_name": card.display_name}


def print_card(card: Contact) -> None:
    lines = ["", f"{card.kind}, id {card.contact_id}"]
    if card.merged_into:
        lines.append(f"merged into {card.merged_into}")
    if card.company and card.kind == "person":
        lines.append(f"Firma: {card.company}")
    if card.customer_number:
        lines.append(f"Kundennummer: {card.customer_number}")
    lines += [f"E-Mail: {e}" for e in card.emails]
    lines += [f"{p.label}: {p.number}" for p in card.phones]
    if a := card.address:
        lines.append(f"Adresse: {a.street}, {a.postcode} {a.city} {a.country}".strip())
    if card.tags:
        lines.append("Tags: " + ", ".join(card.tags))
    if card.owner:
        lines.append(f"Betreuer: {card.owner}")
    if card.notes:
        lines.append(f"Notizen: {card.notes}")
    lines += [_consent_line(c) for c in card.consent]
    console.print(f"[bold]{escape(card.display_name)}[/bold]", highlight=False)
    for line in lines[1:]:
        console.print(line, highlight=False, markup=False)
