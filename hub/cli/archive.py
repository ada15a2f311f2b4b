"""`kartei archive`: the revision-proof archive's proofs (docs/archive.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.markup import escape

from hub.cli.common import ConfigOption, JsonOption, console, fail, run_async, settings
from hub.events.privacy import AdminActionRecorded
from hub.privacy.audit import cli_actor, record
from hub.proofs import heads, tsa
from hub.proofs.export import ExportError, export
from hub.proofs.follower import HeadSigner, MerkleFollower
from hub.proofs.log import MerkleLog
from hub.proofs.procedure import facts, render
from hub.proofs.procedure_pdf import PdfUnavailableError, to_pdf
from hub.proofs.setup import (
    merkle_log,
    stamp_pending,
    stamper,
    timestamp_checker,
    tsa_ca_file,
)
from hub.proofs.verify import verify
from hub.settings import Settings
from hub.store import Database, EventStore
from hub.store.leases import LeaseBusyError, Leases

app = typer.Typer(
    help="The archive's proofs: sign, verify, prove, export (GoBD).", no_args_is_help=True
)
T = TypeVar("T")


@asynccontextmanager
async def _opened(loaded: Settings, catch_up: bool = True) -> AsyncIterator[MerkleLog]:
    """The Merkle log, brought up to the log's head unless a running Kartei follows it."""
    store = EventStore(Database(loaded.database_url))
    await store.start()
    try:
        merkle = merkle_log(loaded, store)
        if catch_up:
            await _catch_up(merkle)
        yield merkle
    finally:
        await store.close()


async def _catch_up(merkle: MerkleLog) -> None:
    try:
        async with Leases(merkle.store.db).held(MerkleFollower.name):
            await merkle.catch_up()
    except LeaseBusyError:
        pass  # the running Kartei logs every event as it commits


async def _audited(merkle: MerkleLog, action: str, target: str) -> None:
    """Records the action in the audit trail (an event, so in the Merkle log too)."""
    event = AdminActionRecorded(action=action, by=cli_actor(), target=target)
    await record(merkle.store, event)
    await _catch_up(merkle)


def _run(loaded: Settings, work: Callable[[MerkleLog], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _opened(loaded) as merkle:
            return await work(merkle)

    return run_async(main)


def _print(data: Any) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


@app.command("sign")
def sign_command(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Sign the tree head now (and timestamp it when [archive] tsa_url is set)."""
    loaded = settings(config)

    async def work(merkle: MerkleLog) -> Any:
        await _audited(merkle, "archive.sign", "tree head")
        return await HeadSigner(merkle, loaded.data_dir, stamper(loaded, merkle)).sign()

    head = _run(loaded, work)
    if json:
        _print({"id": head.id, "size": head.size, "root": head.root.hex(), "head": head.text})
    else:
        console.print(f"Tree head {head.id}: {head.size} events, root {head.root.hex()}")


@app.command("timestamp")
def timestamp_command(config: ConfigOption = None) -> None:
    """Timestamp every signed head that has no token yet (e.g. after an offline time)."""
    loaded = settings(config)
    try:
        done = _run(loaded, lambda merkle: stamp_pending(loaded, merkle))
    except tsa.TimestampError as err:
        fail(str(err), code=1)
    console.print(f"Timestamped {len(done)} tree head(s).")


@app.command("verify")
def verify_command(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Check every event against the tree, every blob against its hash, every tree head
    against its signature and timestamp. Exit status 1 when anything does not hold."""
    loaded = settings(config)
    try:
        check = timestamp_checker(loaded)
        public = heads.load_public(loaded.data_dir)
    except (tsa.TimestampError, heads.HeadError) as err:
        fail(str(err))
    report = _run(loaded, lambda merkle: verify(merkle, public, check))
    summary = {
        "ok": report.ok,
        "events": report.events,
        "blobs": report.blobs,
        "erased_blobs": report.erased_blobs,
        "heads": report.heads,
        "timestamps": report.timestamps,
        "unlogged": report.unlogged,
        "problems": report.problems,
    }
    if json:
        _print(summary)
    else:
        console.print(
            f"{report.events} events, {report.blobs} blobs ({report.erased_blobs} erased, "
            f"kept as hashes), {report.heads} tree heads, {report.timestamps} timestamps "
            "checked.",
            highlight=False,
        )
        if report.unlogged:
            console.print(f"{report.unlogged} newer events are not logged yet.")
        for problem in report.problems:
            console.print(f"[red]PROBLEM[/red] {problem}", highlight=False, markup=True)
        console.print("Archive intact." if report.ok else "[red]Archive NOT intact.[/red]")
    if not report.ok:
        raise typer.Exit(1)


@app.command("prove")
def prove_command(
    position: Annotated[int, typer.Argument(help="The event's position in the log.")],
    config: ConfigOption = None,
) -> None:
    """Print the inclusion proof of one event in the newest signed tree head (JSON)."""
    loaded = settings(config)
    try:
        _print(_run(loaded, lambda merkle: merkle.inclusion(position)))
    except LookupError as err:
        fail(str(err).strip("'\""), code=1)


@app.command("consistency")
def consistency_command(
    first: Annotated[int, typer.Argument(help="The older tree head's id.")],
    second: Annotated[int, typer.Argument(help="The newer tree head's id.")],
    config: ConfigOption = None,
) -> None:
    """Print the consistency proof between two signed tree heads (JSON): the newer tree
    extends the older one, nothing in it was changed or removed."""
    loaded = settings(config)

    async def work(merkle: MerkleLog) -> Any:
        by_id = {h.id: h for h in await merkle.heads()}
        if first not in by_id or second not in by_id:
            fail(f"no tree head {first if first not in by_id else second}")
        old, new = by_id[first], by_id[second]
        if old.size > new.size:
            fail(f"tree head {first} is larger than {second}")
        return await merkle.consistency(old, new)

    _print(_run(loaded, work))


@app.command("public-key")
def public_key_command(config: ConfigOption = None) -> None:
    """Print the public key that checks the tree heads' signatures (PEM)."""
    loaded = settings(config)
    typer.echo(heads.public_pem(heads.ensure_key(loaded.data_dir).public_key()).decode(), nl=False)


@app.command("export")
def export_command(
    target: Annotated[Path, typer.Argument(help="A new folder, or a file ending in .zip.")],
    config: ConfigOption = None,
) -> None:
    """Export every archived email and fax with its proofs for an auditor (GoBD Z3): the
    originals, index.csv, inclusion proofs, signed tree heads, timestamp tokens, a
    manifest and verify_export.py, the check that needs no Kartei (docs/archive.md)."""
    loaded = settings(config)
    if target.exists():
        fail(f"{target} exists already; name a new folder or .zip file")
    ca_file = tsa_ca_file(loaded)

    async def work(merkle: MerkleLog) -> Any:
        await _audited(merkle, "archive.export", str(target))
        head = await HeadSigner(merkle, loaded.data_dir, stamper(loaded, merkle)).sign()
        return await export(
            merkle,
            head,
            target,
            public_pem=heads.public_pem(heads.load_public(loaded.data_dir)),
            tsa_ca=ca_file.read_bytes() if ca_file is not None else None,
        )

    try:
        summary = _run(loaded, work)
    except ExportError as err:  # the stored tree does not give the head: no proof would hold
        fail(escape(str(err)), code=1)
    except OSError as err:
        fail(f"{target}: {err.strerror or err}")
    console.print(
        f"Exported {summary.files} original files of {summary.events} events "
        f"({summary.erased} erased, listed without file) to {target}, proven in tree head "
        f"{summary.head.id}. Check it with: python3 verify_export.py "
        f"{'<the unpacked folder>' if target.suffix.lower() == '.zip' else target}",
        highlight=False,
    )


@app.command("procedure")
def procedure_command(
    target: Annotated[Path, typer.Argument(help="The file to write (.html or .pdf).")],
    firm: Annotated[
        str, typer.Option("--firm", help="The firm's name for the title; default: [kartei] firm.")
    ] = "",
    form: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="html or pdf (PDF needs the pdf extra); default: by the file's ending",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the Verfahrensdokumentation (German, HTML or PDF) from this configuration and
    the archive's current state; the parts only the firm can state are marked to fill in."""
    loaded = settings(config)
    form = (form or ("pdf" if target.suffix.lower() == ".pdf" else "html")).lower()
    if form not in ("html", "pdf"):
        fail(f"--format {form}: html or pdf")

    async def work(merkle: MerkleLog) -> str:
        heads.ensure_key(loaded.data_dir)
        return render(loaded, await facts(loaded, merkle), firm)

    html = _run(loaded, work)
    try:
        if form == "pdf":
            target.write_bytes(to_pdf(html))
        else:
            target.write_text(html, encoding="utf-8")
    except PdfUnavailableError as err:
        fail(escape(str(err)))  # "kartei[pdf]" is not markup
    except OSError as err:
        fail(f"{target}: {err.strerror or err}")
    console.print(f"Wrote {target}.")
