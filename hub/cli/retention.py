"""`kartei retention run`: the retention rules ([[retention.rules]]), dry run first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.common import ConfigOption, JsonOption, console, fail, run_async, settings
from hub.cli.confirm import confirmed
from hub.cli.settled import settle, settled
from hub.cli.words import Words, words
from hub.web.i18n import format_date
from policies.retention import RetentionReport, run_retention
from projections.erasure import forgetting

app = typer.Typer(help="Retention rules: erase contacts nobody was in touch with for years.")

OUTCOMES = {  # catalogue keys (hub/web/i18n.py); --json gives the outcome itself
    "erase": "would be erased",
    "erased": "erased",
    "held": "kept: retention hold",
    "exempt": "kept: exempt",
    "failed": "failed",
}
HEADERS = ("contact", "name", "rule", "last contact", "outcome")


@app.command("run")
def run_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what the rules would erase.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="With --dry-run: judge as on this day (YYYY-MM-DD)."),
    ] = None,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Apply the retention rules: a report with --dry-run; erasure (after a dry run and a
    confirmation) without. Retention holds and exempt tags are never overridden."""
    loaded = settings(config)
    say = words(loaded)
    if not loaded.retention.rules:
        fail(escape(say("no retention rules configured ([[retention.rules]] in kartei.toml)")))
    now = None
    if as_of is not None:
        if not dry_run:
            fail(say("--as-of only with --dry-run (nothing is erased against another day)"))
        try:
            now = datetime.fromisoformat(as_of).replace(tzinfo=UTC)
        except ValueError:
            fail(escape(say("--as-of {value}: expected a day like 2030-01-31", value=repr(as_of))))

    async def judge(dry: bool, only: set[str] | None = None) -> RetentionReport:
        async with settled(loaded) as kartei:
            return await run_retention(
                kartei.store,
                loaded,
                kartei.projection("contacts"),  # type: ignore[arg-type]
                kartei.projection("timeline"),  # type: ignore[arg-type]
                dry_run=dry,
                now=now,
                forgetting=forgetting(kartei.projection(n) for n in kartei.projections),
                settle=lambda: settle(kartei),
                only=only,
            )

    report = run_async(lambda: judge(True))
    if not dry_run:
        to_erase = report.count("erase")
        if not to_erase:
            _show(report, json, say)
            return
        if not json:
            _show(report, json, say)
        question = say.counted(
            to_erase,
            "Erase this {count} contact for good?",
            "Erase these {count} contacts for good?",
        )
        if not yes and not confirmed(question, say):
            fail(say("nothing erased"), 1)
        chosen = {c.contact_id for c in report.candidates if c.outcome == "erase"}
        report = run_async(lambda: judge(False, chosen))  # none but those shown
    _show(report, json, say)
    if report.count("failed"):
        raise typer.Exit(1)


def _show(report: RetentionReport, as_json: bool, say: Words) -> None:
    if as_json:
        typer.echo(orjson.dumps(report.summary()).decode())
        return
    day = format_date(report.now.date(), say.language)
    title = "Retention dry run, {day}" if report.dry_run else "Retention run, {day}"
    table = Table(title=escape(say(title, day=day)))
    for header in HEADERS:
        table.add_column(escape(say(header)), overflow="fold")
    for c in report.candidates:
        outcome = say(OUTCOMES.get(c.outcome, c.outcome)) + (f" ({c.detail})" if c.detail else "")
        last = format_date(c.last_contact.date(), say.language)
        cells = (c.contact_id, c.name, c.rule, last, outcome)
        table.add_row(*(escape(cell) for cell in cells))
    if report.candidates:
        console.print(table)
    s = report.summary()
    counts = say(
        "{erase} to erase, {erased} erased, {held} kept by retention holds, {exempt} exempt, "
        "{failed} failed.",
        **{k: s[k] for k in ("erase", "erased", "held", "exempt", "failed")},
    )
    console.print(
        say.counted(
            report.contacts,
            "{count} contact checked: {counts}",
            "{count} contacts checked: {counts}",
            counts=counts,
        ),
        highlight=False,
        markup=False,
        soft_wrap=True,  # one line, however narrow the terminal
    )
