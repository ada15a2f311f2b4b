"""`kartei users add|list|passwd|token`: staff accounts for the web app.

The command speaks the configured language ([kartei] language, German by default); the
reasons of hub/web/auth.py's UserError are English (the web app shows them so too);
--json stays English."""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.common import ConfigOption, JsonOption, console, fail, run_async, settings
from hub.cli.words import Words, words
from hub.privacy.audit import record_admin_action
from hub.settings import Settings
from hub.store import Database
from hub.web.auth import Accounts, UserError
from hub.web.i18n import format_datetime

app = typer.Typer(help="Staff accounts for the web app: add, list, change passwords.")


@contextlib.asynccontextmanager
async def opened(loaded: Settings) -> AsyncIterator[Accounts]:
    if loaded.database.url is None:
        loaded.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(loaded.database_url, pool_size=1)
    try:
        yield Accounts(db)
    finally:
        await db.dispose()


def _password(from_stdin: bool, say: Words) -> str:
    if from_stdin:
        return typer.get_text_stream("stdin").readline().rstrip("\r\n")
    first = getpass.getpass(say("Password") + ": ")
    if first != getpass.getpass(say("Repeat") + ": "):
        fail(say("the passwords differ"))
    return first


def _print(line: str) -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command("add")
def add_command(
    username: str,
    role: Annotated[
        str, typer.Option(help="admin, staff, or auditor (reads the archive only, --until)")
    ] = "staff",
    language: Annotated[str, typer.Option(help="de or en")] = "de",
    name: Annotated[str, typer.Option("--name", help="Display name")] = "",
    until: Annotated[
        str | None, typer.Option(help="An auditor's last day of access (YYYY-MM-DD).")
    ] = None,
    stdin: Annotated[bool, typer.Option("--password-stdin", help="Password from stdin.")] = False,
    config: ConfigOption = None,
) -> None:
    """Adds a user (asks for the password)."""
    loaded = settings(config)
    say = words(loaded)
    try:
        last_day = date.fromisoformat(until) if until is not None else None
    except ValueError:
        fail(escape(say("--until {value}: expected a day as YYYY-MM-DD", value=repr(until))))
    password = _password(stdin, say)

    async def main() -> None:
        async with opened(loaded) as accounts:
            await accounts.add(
                username, password, role=role, language=language, display_name=name,
                until=last_day,
            )  # fmt: skip
            detail = f"role={role}" + (f" until={last_day}" if last_day else "")
            await record_admin_action(accounts.db, "user.add", username, detail)

    try:
        run_async(main)
    except UserError as err:
        fail(escape(str(err)))
    _print(say("added {user} ({role})", user=username, role=role))


@app.command("passwd")
def passwd_command(
    username: str,
    stdin: Annotated[bool, typer.Option("--password-stdin", help="Password from stdin.")] = False,
    config: ConfigOption = None,
) -> None:
    """Sets a user's password, unlocks the account and ends its sessions."""
    loaded = settings(config)
    say = words(loaded)
    password = _password(stdin, say)

    async def main() -> None:
        async with opened(loaded) as accounts:
            await accounts.set_password(username, password)
            await record_admin_action(accounts.db, "user.passwd", username)

    try:
        run_async(main)
    except UserError as err:
        fail(escape(str(err)))
    _print(say("password of {user} changed", user=username))


@app.command("list")
def list_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Lists the users."""
    loaded = settings(config)

    async def main() -> list[dict[str, object]]:
        async with opened(loaded) as accounts:
            return await accounts.list()

    users = run_async(main)
    if as_json:
        print(orjson.dumps(users, default=str).decode())
        return
    say = words(loaded)
    zone = ZoneInfo(loaded.kartei.timezone)
    table = Table(*(say(h) for h in ("user", "name", "role", "language", "locked until")))
    for u in users:
        locked = u["locked_until"]
        if isinstance(locked, datetime):
            locked = format_datetime(locked, say.language, zone)
        cells = (u["username"], u["display_name"], u["role"], u["language"], locked)
        table.add_row(*(escape(str(c or "")) for c in cells))
    console.print(table)


@app.command("token")
def token_command(username: str, label: str = "api", config: ConfigOption = None) -> None:
    """Creates an API token for a user (printed once)."""
    loaded = settings(config)
    say = words(loaded)

    async def main() -> str:
        async with opened(loaded) as accounts:
            if username not in {u["username"] for u in await accounts.list()}:
                raise UserError(say("no user '{user}'", user=username))
            token = await accounts.new_token(username, label)
            await record_admin_action(accounts.db, "user.token", username, label)
            return token

    try:
        print(run_async(main))
    except UserError as err:
        fail(escape(str(err)))
