"""`kartei retention run`: the retention rules ([[retention.rules]]), dry run first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.common import ConfigOption, JsonOption, console, fail, run_async, settings
from hub.cli.settled import settle, settled
from policies.retention import RetentionReport, run_retention
from projections.erasure import forgetting

app = typer.Typer(help="Retention rules: erase contacts nobody was in touch with for years.")

OUTCOMES = {
    "erase": "would be erased",
    "erased": "erased",
    "held": "kept: retention hold",
    "exempt": "kept: exempt",
    "failed": "failed",
}


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
    if not loaded.retention.rules:
        fail("no retention rules configured ([[retention.rules]] in kartei.toml)")
    now = None
    if as_of is not None:
        if not dry_run:
            fail("--as-of only with --dry-run (nothing is erased against another day)")
        try:
            now = datetime.fromisoformat(as_of).replace(tzinfo=UTC)
        except ValueError:
            fail(f"--as-of {as_of!r}: expected a day like 2030-01-31")

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
            _show(report, json)
            return
        if not json:
            _show(report, json)
        if not yes and not typer.confirm(f"Erase these {to_erase} contacts for good?"):
            fail("nothing erased", 1)
        confirmed = {c.contact_id for c in report.candidates if c.outcome == "erase"}
        report = run_async(lambda: judge(False, confirmed))  # none but those shown
    _show(report, json)
    if report.count("failed"):
        raise typer.Exit(1)


def _show(report: RetentionReport, as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(report.summary()).decode())
        return
    table = Table(
        title=f"Retention {'dry run' if report.dry_run else 'run'}, {report.now:%Y-%m-%d}"
    )
    for header in ("contact", "name", "rule", "last contact", "outcome"):
        table.add_column(header, overflow="fold")
    for c in report.candidates:
        outcome = OUTCOMES.get(c.outcome, c.outcome) + (f" ({c.detail})" if c.detail else "")
        cells = (c.contact_id, c.name, c.rule, f"{c.last_contact:%Y-%m-%d}", outcome)
        table.add_row(*(escape(cell) for cell in cells))
    if report.candidates:
        console.print(table)
    s = report.summary()
    console.print(
        f"{report.contacts} contacts checked: {s['erase']} to erase, {s['erased']} erased, "
        f"{s['held']} kept by retention holds, {s['exempt']} exempt, {s['failed']} failed.",
        highlight=False,
    )
