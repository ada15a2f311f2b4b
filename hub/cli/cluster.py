"""`kartei cluster status`: which process owns which mailbox, phone line and read model."""

from __future__ import annotations

import time

import orjson
import sqlalchemy as sa
import typer
from rich.table import Table

from hub.bootstrap import bootstrap
from hub.cli.common import ConfigOption, JsonOption, console, run_async, settings
from hub.cli.words import words
from hub.store.schema import leases

app = typer.Typer(help="Several Kartei processes on one PostgreSQL: who owns what.")


@app.command("status")
def status_command(json: JsonOption = False, config: ConfigOption = None) -> None:
    """Every lease: what it covers, the process holding it, and for how long yet."""
    loaded = settings(config)
    say = words(loaded)  # --json stays English

    async def main() -> list[dict[str, object]]:
        kartei = bootstrap(loaded, adapters=[], policies=[], projections=[])
        await kartei.store.start()
        try:
            async with kartei.store.db.read() as conn:
                rows = (await conn.execute(sa.select(leases).order_by(leases.c.name))).all()
        finally:
            await kartei.store.close()
        now = time.time()
        return [
            {"name": r.name, "owner": r.owner, "expires_in": round(r.expires_at - now, 1)}
            for r in rows
        ]

    rows = run_async(main)
    if json:
        typer.echo(orjson.dumps(rows).decode())
        return
    if not rows:
        console.print(
            say("No process holds anything: no Kartei is running on this database."),
            highlight=False,
        )
        return
    table = Table(*(say(h) for h in ("covers", "owner (host:pid:id)", "valid for")))
    for row in rows:
        left = float(row["expires_in"])  # type: ignore[arg-type]
        valid = say("{seconds} s", seconds=round(left)) if left > 0 else say("expired")
        table.add_row(str(row["name"]), str(row["owner"]), valid)
    console.print(table)
