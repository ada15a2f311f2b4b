"""`kartei privacy erase|export|audit`: forget a person, hand them their data, who looked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from hub.archive import Archive
from hub.cli.audit_report import AuditLines, _plain
from hub.cli.common import ConfigOption, console, fail, run_async, settings
from hub.cli.confirm import confirmed
from hub.cli.settled import settle, settled
from hub.cli.words import Words, words
from hub.events.privacy import DataExported
from hub.privacy.audit import audit_names, audit_trail, cli_actor, contact_ids, record
from hub.privacy.dossier import PrivacyError
from hub.privacy.erase import ErasurePlan, RetentionHoldError, erase, now_day, plan_erasure
from hub.privacy.export import export_zip
from hub.privacy.holds import Hold
from hub.web.i18n import format_date
from projections.erasure import forgetting

app = typer.Typer(help="Privacy: erase a person, export their data, show the audit trail.")


HOLD_NAMES = {"business_letters": "Business letters", "invoices": "Invoices"}  # as the web


def _say_plan(plan: ErasurePlan, say: Words) -> None:
    d = plan.dossier
    parts = [
        say.counted(len(d.subjects), "{count} key", "{count} keys"),
        say.counted(len(d.records), "{count} event", "{count} events"),
        say.counted(len(d.own_documents), "{count} document", "{count} documents"),
    ]
    head = say("contact {contact} ({name})", contact=d.contact.contact_id,
               name=_plain(d.contact.display_name))  # fmt: skip
    _print(f"{head}: {', '.join(parts)}")
    for subject in d.shared:
        _print("  " + say("kept (another contact has it too): {subject}", subject=subject))
    for hold in plan.holds:
        _print("  " + _hold(hold, say))


def _hold(hold: Hold, say: Words) -> str:
    """ "Aufbewahrungspflicht Geschäftsbriefe (6 Jahre): 3 Dokumente bis 31.12.2032" """
    return say(
        "retention hold {name} ({years}): {documents} until {until}",
        name=say(HOLD_NAMES.get(hold.name, hold.name)),
        years=say.counted(hold.years, "{count} year", "{count} years"),
        documents=say.counted(hold.documents, "{count} document", "{count} documents"),
        until=format_date(hold.until, say.language),
    )


def _error(err: PrivacyError, say: Words) -> str:
    """A PrivacyError in the configured language (str(err) is the English)."""
    if isinstance(err, RetentionHoldError):
        return say(err.key, holds="; ".join(_hold(h, say) for h in err.holds))
    return say(err.key, **err.values)


def _print(line: str) -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command("erase")
def erase_command(
    contact: Annotated[str, typer.Argument(help="The contact's id (kartei contacts find).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    reason: Annotated[str, typer.Option(help="Why (e.g. the request's reference).")] = "",
    override_retention: Annotated[
        str,
        typer.Option(
            "--override-retention", help="Erase despite retention holds; the justification."
        ),
    ] = "",
    config: ConfigOption = None,
) -> None:
    """Erases a contact's personal data everywhere (GDPR Art. 17); the log keeps its events."""
    loaded = settings(config)
    say = words(loaded)

    async def planned() -> ErasurePlan:
        async with settled(loaded) as kartei:
            return await plan_erasure(kartei.store, contact, loaded.privacy.holds, now_day())

    try:
        plan = run_async(planned)
    except PrivacyError as err:
        fail(escape(_error(err, say)))
    _say_plan(plan, say)
    if plan.holds and not override_retention.strip():
        fail(
            escape(say("retention holds apply: erase with --override-retention 'justification'")), 3
        )
    if not yes and not confirmed(say("Erase this contact's personal data for good?"), say):
        fail(say("nothing erased"), 1)

    async def main() -> int:
        async with settled(loaded) as kartei:
            fresh = await plan_erasure(kartei.store, contact, loaded.privacy.holds, now_day())
            event = await erase(
                kartei.store,
                Archive(loaded.data_dir / "archive"),
                fresh,
                by=cli_actor(),
                reason=reason,
                justification=override_retention,
                forgetting=forgetting(kartei.projection(n) for n in kartei.projections),
                settle=lambda: settle(kartei),
            )
            return event.documents

    try:
        documents = run_async(main)
    except PrivacyError as err:  # a RetentionHoldError too
        fail(escape(_error(err, say)))
    _print(
        say.counted(
            documents,
            "erased contact {contact} ({count} document removed)",
            "erased contact {contact} ({count} documents removed)",
            contact=contact,
        )
    )


@app.command("export")
def export_command(
    contact: Annotated[str, typer.Argument(help="The contact's id.")],
    out: Annotated[Path | None, typer.Option("--out", help="ZIP file to write.")] = None,
    config: ConfigOption = None,
) -> None:
    """Writes everything stored about a contact to a ZIP (GDPR Art. 15)."""
    loaded = settings(config)
    say = words(loaded)
    target = out or Path(f"kartei-export-{contact}.zip")

    async def main() -> int:
        async with settled(loaded) as kartei:
            archive = Archive(loaded.data_dir / "archive")
            data, exported = await export_zip(kartei, archive, contact, loaded.kartei.language)
            target.write_bytes(data)
            await record(kartei.store, DataExported(contact_id=contact, by=cli_actor(), **exported))
            return len(data)

    try:
        size = run_async(main)
    except PrivacyError as err:
        fail(escape(_error(err, say)))
    _print(say("wrote {file} ({size} bytes)", file=_plain(str(target)), size=size))


@app.command("audit")
def audit_command(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    config: ConfigOption = None,
) -> None:
    """Who viewed, looked up or exported which card, who erased whom, admin actions."""
    loaded = settings(config)
    say = words(loaded)

    async def main() -> list[str]:
        async with settled(loaded) as kartei:
            trail = await audit_trail(kartei.store, limit)
            names, erased = await audit_names(kartei, contact_ids(trail))
        lines = AuditLines(say, ZoneInfo(loaded.kartei.timezone), names, erased)
        return [lines.line(r) for r in trail]

    said = run_async(main)
    if not said:
        said = [
            say("Nothing recorded yet. Card views, exports, erasures and user changes appear here.")
        ]
    for line in said:
        # One entry a line, however narrow the terminal: people grep and copy these.
        console.print(line, highlight=False, markup=False, soft_wrap=True)
