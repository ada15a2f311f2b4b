"""The `kartei` command line."""

from __future__ import annotations

import typer

from hub.cli import kernel

app = typer.Typer(
    help="Kartei: the customer card index that fills itself.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.registered_commands.extend(kernel.app.registered_commands)


def main() -> None:
    app()
