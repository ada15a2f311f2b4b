"""`kartei capture status|resync` and `kartei import-mail`: email capture from the shell."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters.imap import checkpoints, client
from adapters.imap.sync import sync_folder
from adapters.mail.build import mail_intake
from adapters.mail.importing import ImportSourceError, count, messages, outlook_files, sources
from adapters.mail.pipeline import MailIntake, store_prepared
from adapters.mail.pst import UNAVAILABLE, PstReadError, PstUnavailable, libpff
from adapters.mail.pst_folders import FolderChoice, Skipped, UnknownFolder
from adapters.mail.pst_import import FolderResult, import_pst
from hub.capture import Capture
from hub.cli import pst_report
from hub.cli.common import ConfigOption, JsonOption, console, fail, run_async, settings
from hub.cli.words import Words, words
from hub.health import ComponentHealth
from hub.settings import Settings
from hub.store import Database, EventStore
from hub.store.schema import events
from hub.web.i18n import format_number

app = typer.Typer(help="Email and other capture: state, resync.", no_args_is_help=True)
IMPORT_BATCH = 200
STATUS_COLUMNS = ("account", "folder", "uidvalidity", "last UID", "captured", "last sync", "error")
EVENT_NAMES = {  # as the archive page names them (hub/web/labels.py)
    "EmailReceived": "Email received",
    "EmailSent": "Email sent",
    "CaptureFailed": "Unreadable input",
    "EmailSeenInMailbox": "Seen in a mailbox again",
}


def _store(loaded: Settings) -> EventStore:
    db = Database(loaded.database_url, pool_size=loaded.database.pool_size)
    return EventStore(db, max_event_bytes=loaded.store.max_event_bytes)


def _columns() -> tuple[Any, ...]:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


@app.command("status")
def status_command(json: JsonOption = False, config: ConfigOption = None) -> None:
    """Each mailbox folder's last successful sync, UID checkpoint and last error."""
    loaded = settings(config)

    async def main() -> dict[str, Any]:
        store = _store(loaded)
        await store.start()
        try:
            async with store.transaction() as tx:
                await checkpoints.ensure_table(tx.connection)
            async with store.db.read() as conn:
                rows = await checkpoints.all_rows(conn)
                sent = await checkpoints.sent_by_account(conn)
                typed = events.c.type.in_(
                    ["EmailReceived", "EmailSent", "CaptureFailed", "EmailSeenInMailbox"]
                )
                result = await conn.execute(
                    sa.select(events.c.type, sa.func.count()).where(typed).group_by(events.c.type)
                )
                counts = {name: int(n) for name, n in result}
        finally:
            await store.close()
        return {
            "folders": rows,
            "events": counts,
            "accounts": [a.name for a in loaded.mail.imap],
            "sent": {a.name: sent.get(a.name) for a in loaded.mail.imap},
            "smtp": loaded.mail.smtp.enabled,
        }

    state = run_async(main)
    if json:
        console.print_json(orjson.dumps(state, default=str).decode())
        return
    say = words(loaded)
    table = Table(*(say(h) for h in STATUS_COLUMNS))
    for r in state["folders"]:
        table.add_row(
            str(r["account"]),
            str(r["folder"]),
            str(r["uidvalidity"]),
            str(r["last_uid"]),
            str(r["messages"]),
            str(r["last_sync"] or "-"),
            str(r["last_error"] or ""),
        )
    console.print(table)
    for account, found in state["sent"].items():
        console.print(_sent_line(account, found, say), highlight=False)
    counts = sorted(state["events"].items(), key=lambda item: list(EVENT_NAMES).index(item[0]))
    shown = ", ".join(f"{say(EVENT_NAMES[k])}: {format_number(v, say.language)}" for k, v in counts)
    console.print(shown or say("no mail"), highlight=False)


def _sent_line(account: str, found: dict[str, Any] | None, say: Words) -> str:
    """Where an account's sent mail comes from, or a loud line when from nowhere. The
    warning is the IMAP adapter's (adapters/imap/client.py), English as it words it."""
    name = escape(account)
    if found is None:
        return escape(
            say(
                "{account}: Sent folder not known yet (`kartei run` has not connected)",
                account=account,
            )
        )
    if found["warning"]:
        return f"[bold red]WARNING {name}: {escape(found['warning'])}[/]"
    folders = ", ".join(f'"{f}"' for f in found["sent_folders"])
    return escape(
        say(
            "{account}: sent mail from {folders} (found by {found_by})",
            account=account,
            folders=folders,
            found_by=found["found_by"],
        )
    )


@app.command("resync")
def resync_command(
    account: Annotated[str, typer.Argument(help="The [[mail.imap]] account's name.")],
    folder: Annotated[str | None, typer.Argument(help="One folder; all when omitted.")] = None,
    config: ConfigOption = None,
) -> None:
    """Re-read a mailbox folder from the start; nothing already captured is added twice."""
    loaded = settings(config)
    say = words(loaded)
    found = [a for a in loaded.mail.imap if a.name == account]
    if not found:
        known = ", ".join(a.name for a in loaded.mail.imap) or say("none")
        fail(
            escape(
                say(
                    "no [[mail.imap]] account {account}; known: {known}",
                    account=repr(account),
                    known=known,
                )
            )
        )
    acct = found[0]

    async def main() -> int:
        store, intake = _store(loaded), mail_intake(loaded)
        await store.start()
        imap = await asyncio.to_thread(client.connect, acct)
        captured = 0
        try:
            if folder:
                names = [folder]
            else:
                found = await asyncio.to_thread(client.folders, imap, acct)
                names = found.names
                if found.sent.warning:
                    console.print(f"[bold red]WARNING: {escape(found.sent.warning)}[/]")
            async with store.transaction() as tx:
                await checkpoints.ensure_table(tx.connection)
                await checkpoints.reset(tx.connection, acct.name, folder)
            capture = Capture(store, f"imap:{acct.name}", ComponentHealth("resync"))
            with Progress(*_columns(), console=console) as progress:
                for name in names:
                    task = progress.add_task(name, total=None)

                    def advance(_: str, done: int, total: int, task: Any = task) -> None:
                        progress.update(task, completed=done, total=total)

                    result = await sync_folder(
                        imap,
                        acct.name,
                        name,
                        intake,
                        capture,
                        since=acct.since,
                        exclude_keywords=frozenset(acct.exclude_keywords),
                        progress=advance,
                        remote_account=acct,
                    )
                    captured += result.captured
        finally:
            await asyncio.to_thread(client.logout, imap)
            intake.close()
            await store.close()
        return captured

    captured = run_async(main)
    console.print(
        say.counted(
            captured,
            "{count} new message captured (the rest were there already).",
            "{count} new messages captured (the rest were there already).",
        ),
        highlight=False,
    )


def import_mail_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help=".eml files, mbox files, Maildir folders, Outlook .pst files."),
    ],
    include_deleted: Annotated[
        bool, typer.Option(help="Read a .pst's Deleted Items (Gelöschte Elemente) too.")
    ] = False,
    include_junk: Annotated[
        bool, typer.Option(help="Read a .pst's Junk E-mail (Junk-E-Mail) folder too.")
    ] = False,
    folder: Annotated[
        list[str] | None,
        typer.Option(
            "--folder",
            help='Read only this .pst folder and those below it ("Kunden/Meyer"); repeatable.',
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Import old mail; importing twice, or mail IMAP captured too, adds nothing new.

    A .pst's Deleted Items and Junk E-mail are left out unless asked for. A .pst import
    that was stopped goes on where it stopped when run again."""
    loaded = settings(config)
    say = words(loaded)
    choice = FolderChoice(include_deleted, include_junk, tuple(folder or ()))
    try:
        outlook, found = outlook_files(sources(paths))
        if outlook:
            libpff()
    except ImportSourceError as err:
        fail(escape(say("{path}: no such file or folder", path=str(err.path))))
    except PstUnavailable:
        fail(escape(say(UNAVAILABLE)))
    if choice.only and not outlook:
        fail(say("--folder chooses folders of .pst files, and none was given"))

    async def main() -> tuple[int, int, int, int, list[str], list[str]]:
        store, intake = _store(loaded), mail_intake(loaded)
        await store.start()
        try:
            added, total = await import_sources(store, intake, found, say) if found else (0, 0)
            already = 0
            problems: list[str] = []
            left_out: list[str] = []
            for path in outlook:
                results, skipped, problem = await _import_outlook(store, intake, path, choice, say)
                added += sum(r.added for r in results)
                already += sum(r.already for r in results)
                total += sum(r.read - r.not_mail for r in results)
                problems += [problem] if problem else []
                named = f"{path.name}/" if len(outlook) > 1 else ""
                left_out += [pst_report.skipped(s, say, named) for s in skipped]
        finally:
            intake.close()
            await store.close()
        return added, total, already, sum(intake.skipped.values()), problems, left_out

    added, total, already, skipped, problems, left_out = run_async(main)
    new = say.counted(
        total,
        "{added} of {count} message was new; {skipped} skipped (internal or excluded).",
        "{added} of {count} messages were new; {skipped} skipped (internal or excluded).",
        added=format_number(added, say.language),
        skipped=format_number(skipped, say.language),
    )
    if already:  # "...; 2 bereits erfasst."
        new = f"{new.removesuffix('.')}; {pst_report.already(already, say)}."
    console.print(escape(new), highlight=False)
    if left_out:
        console.print(escape(pst_report.left_out(left_out, say)), highlight=False)
    if problems:
        fail(escape(pst_report.problems(problems, say)), code=1)


async def _import_outlook(
    store: EventStore, intake: MailIntake, path: Path, choice: FolderChoice, say: Words
) -> tuple[list[FolderResult], list[Skipped], str | None]:
    """One .pst file with a progress bar per folder; (results, special folders left out,
    what could not be read)."""
    with Progress(*_columns(), console=console) as progress:
        tasks: dict[str, Any] = {}

        def advance(folder: str, done: int, total: int) -> None:
            if folder not in tasks:
                tasks[folder] = progress.add_task(escape(folder), total=total)
            progress.update(tasks[folder], completed=done)

        def skip(folder: Skipped) -> None:
            line = pst_report.skip_line(path.name, folder, say)
            progress.console.print(escape(line), highlight=False)

        try:
            done = await import_pst(store, intake, path, advance, choice=choice, skip=skip)
        except UnknownFolder as err:
            fail(escape(pst_report.unknown_folder(path.name, err, say)))
        except PstReadError as err:
            return [], [], pst_report.read_error(path.name, err, say)
    for r in done.folders:
        console.print(escape(pst_report.folder_line(path.name, r, say)), highlight=False)
    errors = [pst_report.read_error(path.name, r.error, say) for r in done.folders if r.error]
    return done.folders, done.skipped, "; ".join(errors) or None


async def import_sources(
    store: EventStore, intake: MailIntake, found: list[Path], say: Words
) -> tuple[int, int]:
    """Parses and appends in batches, with a progress bar; returns (new, read)."""
    total = sum(await asyncio.to_thread(lambda: [count(p) for p in found]))
    added = read = 0
    with Progress(*_columns(), console=console) as progress:
        task = progress.add_task(say("importing"), total=total)
        for path in found:
            batches = _batches(path)
            empty: list[tuple[bytes, str]] = []
            while batch := await asyncio.to_thread(next, batches, empty):
                prepared = await intake.prepare_many(batch)
                async with store.transaction() as tx:
                    added += await store_prepared(tx, prepared, "import", sightings=False)
                read += len(batch)
                progress.update(task, completed=read)
    return added, read


def _batches(path: Path) -> Iterator[list[tuple[bytes, str]]]:
    batch: list[tuple[bytes, str]] = []
    for item in messages(path):
        batch.append(item)
        if len(batch) >= IMPORT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
