"""The `kartei` command line."""

from __future__ import annotations

import typer

from hub.cli import (
    archive,
    backup,
    classify,
    cluster,
    contacts,
    fax,
    kernel,
    mail,
    privacy,
    retention,
    users,
)

app = typer.Typer(
    help="Kartei: the customer card index that fills itself.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.registered_commands.extend(kernel.app.registered_commands)
app.add_typer(contacts.app, name="contacts")
app.add_typer(classify.app, name="classify")
app.add_typer(users.app, name="users")
app.command("import")(contacts.import_command)
app.add_typer(mail.app, name="capture")
app.add_typer(fax.app, name="fax")
app.add_typer(cluster.app, name="cluster")
app.add_typer(archive.app, name="archive")
app.add_typer(privacy.app, name="privacy")
app.add_typer(retention.app, name="retention")
app.command("import-mail")(mail.import_mail_command)
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)


def main() -> None:
    app()
