"""What every command shares: finding and loading the configuration, printing errors."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from hub.projection import Progress, ProjectionRunner
from hub.settings import ConfigError, Settings, load_settings

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration file (default: $KARTEI_CONFIG, then ./kartei.toml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def config_path(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get("KARTEI_CONFIG")
    return Path(env) if env else Path("kartei.toml")


def settings(option: Path | None) -> Settings:
    """Loads the configuration or exits with the error, without a traceback."""
    try:
        loaded = load_settings(config_path(option))
    except ConfigError as err:
        fail(str(err))
    logging.basicConfig(
        level=loaded.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler says "Adding job tentatively" for every scheduled job at start-up;
    # a command's output (JSON lines included) is no place for that.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return loaded


def fail(message: str, code: int = 2) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(main())  # type: ignore[arg-type]


async def up_to_date(runner: ProjectionRunner, progress: Progress | None = None) -> int:
    """Brings a read model to the log's head, or exits saying why it could not."""
    try:
        return await runner.bring_up_to_date(progress)
    except TimeoutError:
        holder = await runner.leases.holder(runner.lease)
        fail(f"{runner.name} did not catch up in time; it is kept by {holder} (see its /healthz)")
