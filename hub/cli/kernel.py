"""The kernel's commands: run, init, rebuild, events, version."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import orjson
import sqlalchemy as sa
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

import hub
from hub import defaults
from hub.bootstrap import ROLES, Kartei, bootstrap, run
from hub.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    errors,
    fail,
    run_async,
    settings,
)
from hub.events import Recorded
from hub.proofs import heads
from hub.store import EventStore
from hub.store.leases import LeaseBusyError

app = typer.Typer()

EXAMPLE = defaults.shipped(defaults.EXAMPLE_CONFIG)  # package data: found in a wheel too


@app.command("run")
def run_command(
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="What this process does: web, capture, workers (repeatable; all when omitted). "
            "Several processes share one PostgreSQL; each source and read model has one owner.",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Start Kartei: store, projections, policies, adapters and the web server."""
    loaded = settings(config)
    roles = tuple(role or ROLES)
    if unknown := sorted(set(roles) - set(ROLES)):
        fail(f"--role {', '.join(unknown)}: expected one of {', '.join(ROLES)}")

    async def main() -> None:
        kartei = bootstrap(loaded)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        where = f" on http://{loaded.web.host}:{loaded.web.port}" if "web" in roles else ""
        console.print(
            f"Kartei {hub.__version__}{where} ({kartei.store.db.dialect}; "
            f"{', '.join(roles)}); Ctrl+C stops it."
        )
        await run(kartei, stop, roles=roles)

    try:
        run_async(main)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as err:
        fail(f"cannot open the database ({loaded.database_url.split('@')[-1]}): {err.orig}")


@app.command("init")
def init_command(
    directory: Annotated[Path, typer.Argument(help="Data directory to create.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing kartei.toml.")] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="A demo firm with a year of history (about a minute).")
    ] = False,
) -> None:
    """Create a data directory with a working configuration (SQLite)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "kartei.toml"
    if target.exists() and not force:
        fail(f"{target} exists already (use --force to overwrite)")
    text = EXAMPLE.read_text(encoding="utf-8").replace('data_dir = "data"', 'data_dir = "."')
    target.write_text(text, encoding="utf-8")
    heads.ensure_key(directory)  # signs the archive's tree heads; its .pub.pem is shared
    if demo:
        from hub.demo.seeding import SeedingError, seed_demo, write_config

        write_config(target)
        try:
            with console.status("Seeding the demo firm through Kartei's intake paths ..."):
                seeded = run_async(lambda: seed_demo(target))
        except SeedingError as err:
            fail(f"{err} (remove {directory} and try again)")
        console.print(seeded.summary() if seeded else f"{directory} holds data; not seeded again.")
    console.print(f"Created {target}. Start Kartei with: kartei run --config {target}")


@app.command("rebuild")
def rebuild_command(
    name: Annotated[str | None, typer.Argument(help="One projection; all when omitted.")] = None,
    config: ConfigOption = None,
) -> None:
    """Drop read models and rebuild them from the event log."""
    loaded = settings(config)

    async def main() -> None:
        kartei = bootstrap(loaded, adapters=[], policies=[])
        if name is not None and name not in kartei.projections:
            fail(f"no projection {name!r}; known: {', '.join(sorted(kartei.projections))}")
        await kartei.store.start()
        try:
            await _rebuild(kartei, [name] if name else list(kartei.projections))
        finally:
            await kartei.store.close()

    run_async(main)


async def _rebuild(kartei: Kartei, names: list[str]) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        for projection_name in names:
            runner = kartei.projections[projection_name]
            task = progress.add_task(projection_name, total=None)

            def advance(position: int, head: int, task: TaskID = task) -> None:
                progress.update(task, completed=position, total=head)

            try:
                async with runner.leases.held(runner.lease):
                    await runner.rebuild(advance)
            except LeaseBusyError as busy:
                fail(f"{busy}: stop the running Kartei before rebuilding it")


@app.command("events")
def events_command(
    stream: Annotated[str | None, typer.Option(help="Only streams starting with this.")] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="Only these event types (repeatable).")
    ] = None,
    after: Annotated[int, typer.Option(help="Start after this global position.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many (0: no limit).")] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events.")
    ] = False,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Inspect the event log, or follow it live."""
    loaded = settings(config)

    async def main() -> None:
        kartei = bootstrap(loaded, adapters=[], policies=[], projections=[])
        store = kartei.store
        await store.start()
        read = store.subscribe if follow else store.iter_all
        left = limit or None
        last = after
        try:
            async for batch in read(after, batch_size=500, types=type_, stream_prefix=stream):
                for recorded in batch[:left]:
                    _print_event(recorded, json)
                    last = recorded.position
                if left is not None:
                    left -= len(batch)
                    if left < 0 or (left == 0 and await _more_after(store, last, type_, stream)):
                        errors.print(
                            f"Stopped after {limit} events; more follow: --after {last}, "
                            "or --limit 0 for all.",
                            highlight=False,
                        )
                    if left <= 0:
                        break
        finally:
            await store.close()

    with contextlib.suppress(KeyboardInterrupt):
        run_async(main)


async def _more_after(
    store: EventStore, position: int, types: list[str] | None, stream: str | None
) -> bool:
    return bool(await store.read_all(position, 1, types=types, stream_prefix=stream))


def _print_event(r: Recorded, as_json: bool) -> None:
    data = _event_data(r)
    if as_json:
        record = {
            "position": r.position,
            "stream": r.stream,
            "version": r.version,
            "type": r.type_name,
            "recorded_at": r.recorded_at.isoformat(),
            "idempotency_key": r.idempotency_key,
            "metadata": r.metadata.as_dict(),
            "data": data,
        }
        typer.echo(orjson.dumps(record, default=str).decode())
        return
    when = r.recorded_at.strftime("%Y-%m-%d %H:%M:%S")
    fields = ", ".join(f"{k}={v!r}" for k, v in data.items())
    if len(fields) > 160:
        fields = fields[:157] + "..."
    console.print(
        f"[dim]{r.position:>8}[/dim] {when} [bold]{r.type_name}[/bold] "
        f"[cyan]{r.stream}[/cyan]@{r.version} {fields}",
        highlight=False,
        markup=True,
        soft_wrap=True,  # one event, one line, also in a pipe or a narrow terminal
    )


def _event_data(r: Recorded) -> dict[str, object]:
    from dataclasses import asdict, is_dataclass

    return asdict(r.event) if is_dataclass(r.event) else {}


@app.command("version")
def version_command(config: ConfigOption = None) -> None:
    """Print Kartei's version."""
    typer.echo(f"kartei {hub.__version__}")
