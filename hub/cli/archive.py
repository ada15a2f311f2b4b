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
from hub.cli.words import Words, words
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
from hub.proofs.verify import Finding, Report, verify
from hub.settings import Settings
from hub.store import Database, EventStore
from hub.store.leases import LeaseBusyError, Leases
from hub.web.i18n import translator

app = typer.Typer(
    help="The archive's proofs: sign, verify, prove, export (GoBD).", no_args_is_help=True
)
T = TypeVar("T")
NO_EVENT = "no event at position {position} in the Merkle log (yet)"
NOT_SIGNED = "no signed tree head covers position {position} yet (kartei archive sign)"


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
        say = words(loaded)
        size = say.counted(head.size, "{count} event", "{count} events")
        line = say(
            "Tree head {head}: {events}, root {root}",
            head=str(head.id),
            events=size,
            root=head.root.hex(),
        )
        console.print(line, highlight=False)


@app.command("timestamp")
def timestamp_command(config: ConfigOption = None) -> None:
    """Timestamp every signed head that has no token yet (e.g. after an offline time)."""
    loaded = settings(config)
    try:
        done = _run(loaded, lambda merkle: stamp_pending(loaded, merkle))
    except tsa.TimestampError as err:
        fail(escape(_reason(str(err), loaded)), code=1)
    say = words(loaded)
    console.print(
        say.counted(len(done), "Timestamped {count} tree head.", "Timestamped {count} tree heads."),
        highlight=False,
    )


@app.command("verify")
def verify_command(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Check every event against the tree, every blob against its hash, every tree head
    against its signature and timestamp. Exit status 1 when anything does not hold."""
    loaded = settings(config)
    try:
        check = timestamp_checker(loaded)
        public = heads.load_public(loaded.data_dir)
    except (tsa.TimestampError, heads.HeadError) as err:
        fail(escape(_reason(str(err), loaded)))
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
        _verify_report(report, words(loaded))
    if not report.ok:
        raise typer.Exit(1)


def _verify_report(report: Report, say: Words) -> None:
    """What `kartei archive verify` prints: what was checked, each finding, the verdict."""
    counts = {
        "events": say.counted(report.events, "{count} event", "{count} events"),
        "blobs": say.counted(report.blobs, "{count} blob", "{count} blobs"),
        "heads": say.counted(report.heads, "{count} tree head", "{count} tree heads"),
        "timestamps": say.counted(report.timestamps, "{count} timestamp", "{count} timestamps"),
    }
    checked = say(
        "{events}, {blobs} ({erased} erased, kept as hashes), {heads}, {timestamps} checked.",
        erased=report.erased_blobs,
        **counts,
    )
    console.print(checked, highlight=False, markup=False)
    if report.unlogged:
        unlogged = say.counted(
            report.unlogged,
            "{count} newer event is not logged yet.",
            "{count} newer events are not logged yet.",
        )
        console.print(unlogged, highlight=False, markup=False)
    for finding in report.findings:
        text = escape(finding_text(finding, say))
        console.print(f"[red]{say('PROBLEM')}[/red] {text}", highlight=False, markup=True)
    if report.ok:
        console.print(say("Archive intact."), highlight=False)
    else:
        console.print(f"[red]{say('Archive NOT intact.')}[/red]", highlight=False)


def finding_text(finding: Finding, say: Words) -> str:
    """ "Datei 3f/a2… (Ereignis 5) geändert: …": a finding of verify in the configured
    language; a reason worded elsewhere (the signature check, the timestamp check) is
    translated where the catalogue has it, else it stays English."""
    values = _shown(finding.values)
    if "reason" in values:
        values["reason"] = translator(say.language)(str(values["reason"]))
    return say(finding.key, **values)


def _reason(text: str, loaded: Settings) -> str:
    """An error worded elsewhere (hub/proofs/tsa.py, heads.py, setup.py): translated where
    the catalogue has its text, else as it is (it names a path or a server's answer)."""
    return str(translator(loaded.kartei.language)(text))


def _shown(values: dict[str, object]) -> dict[str, object]:
    """Positions, ids and indexes as written ("12345", not "12.345"): they are what one
    types into `kartei archive prove`."""
    return {name: str(value) for name, value in values.items()}


@app.command("prove")
def prove_command(
    position: Annotated[int, typer.Argument(help="The event's position in the log.")],
    config: ConfigOption = None,
) -> None:
    """Print the inclusion proof of one event in the newest signed tree head (JSON)."""
    loaded = settings(config)
    say = words(loaded)

    async def work(merkle: MerkleLog) -> Any:
        found = await merkle.leaf_of(position)
        if found is None:
            fail(say(NO_EVENT, position=str(position)), code=1)
        covering = await merkle.heads(covering=found[0])
        if not covering:
            fail(say(NOT_SIGNED, position=str(position)), code=1)
        return await merkle.inclusion(position, covering[-1])

    try:
        _print(_run(loaded, work))
    except LookupError as err:  # a stored node is missing (kartei archive verify names it)
        fail(escape(str(err).strip("'\"")), code=1)


@app.command("consistency")
def consistency_command(
    first: Annotated[int, typer.Argument(help="The older tree head's id.")],
    second: Annotated[int, typer.Argument(help="The newer tree head's id.")],
    config: ConfigOption = None,
) -> None:
    """Print the consistency proof between two signed tree heads (JSON): the newer tree
    extends the older one, nothing in it was changed or removed."""
    loaded = settings(config)
    say = words(loaded)

    async def work(merkle: MerkleLog) -> Any:
        by_id = {h.id: h for h in await merkle.heads()}
        if first not in by_id or second not in by_id:
            fail(say("no tree head {head}", head=str(first if first not in by_id else second)))
        old, new = by_id[first], by_id[second]
        if old.size > new.size:
            fail(
                say(
                    "tree head {first} is larger than {second}",
                    first=str(first),
                    second=str(second),
                )
            )
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
    say = words(loaded)
    if target.exists():
        fail(escape(say("{target} exists already; name a new folder or .zip file", target=target)))
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
        fail(escape(say(err.key, **_shown(err.values))), code=1)
    except OSError as err:
        fail(escape(f"{target}: {err.strerror or err}"))
    folder = say("<the unpacked folder>") if target.suffix.lower() == ".zip" else str(target)
    console.print(
        say(
            "Exported {files} {events} ({erased} erased, listed without file) to {target}, "
            "proven in tree head {head}. Check it with: python3 verify_export.py {folder}",
            files=say.counted(summary.files, "{count} original file", "{count} original files"),
            events=say.counted(summary.events, "of {count} event", "of {count} events"),
            erased=summary.erased,
            target=str(target),
            head=str(summary.head.id),
            folder=folder,
        ),
        highlight=False,
        markup=False,
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
    say = words(loaded)
    form = (form or ("pdf" if target.suffix.lower() == ".pdf" else "html")).lower()
    if form not in ("html", "pdf"):
        fail(escape(say("--format {form}: html or pdf", form=form)))

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
        fail(escape(f"{target}: {err.strerror or err}"))
    console.print(say("Wrote {target}.", target=str(target)), highlight=False, markup=False)
