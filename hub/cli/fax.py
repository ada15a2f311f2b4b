"""`kartei fax test FILE.eml`: what the provider profiles read from a sample fax email.

It speaks the configured language ([kartei] language, German by default); --json keeps
its English keys and values, and the reasons the fax adapter gives stay English."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
import typer
from rich.markup import escape

from adapters.fax.build import fax_rules
from adapters.fax.intake import FaxRules, prepare_fax
from adapters.fax.profiles import ProfileError, load_profiles
from hub.cli.common import ConfigOption, JsonOption, config_path, console, fail, settings
from hub.cli.words import Words, words
from hub.events.fax import FaxReceived
from hub.events.mail import CaptureFailed
from hub.settings import ConfigError, Settings
from hub.web.i18n import format_datetime

app = typer.Typer(help="Fax capture: try provider profiles on sample emails.", no_args_is_help=True)
MAX_SAMPLE = 100 * 1024 * 1024
UNKNOWN_SENDER = "unknown (the email names no sender number)"
# What the lines of the plain output are called (catalogue keys: English as --json has it).
LABELS = (
    "profile", "sender", "sender_e164", "receiver", "receiver_e164", "pages", "received_at",
    "document", "document_error", "preview", "text_source", "ocr_status", "ocr_error", "text",
    "error",
)  # fmt: skip


@app.command("test")
def test(
    file: Annotated[Path, typer.Argument(help="A fax email as saved from a mail program (.eml)")],
    providers: Annotated[
        Path | None, typer.Option(help="A profiles file to try instead of the configured one")
    ] = None,
    ocr: Annotated[bool, typer.Option(help="Run OCR when the document has no text layer")] = True,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Shows which profile reads FILE and what it extracts (nothing is stored)."""
    loaded = settings(config) if config_path(config).exists() else Settings()
    say = words(loaded)
    try:
        rules = fax_rules(loaded)
        if providers is not None:
            rules = replace(rules, profiles=load_profiles(providers))
        raw = file.read_bytes()[: MAX_SAMPLE + 1]
    except (ProfileError, ConfigError) as err:
        raise fail(escape(str(err))) from None
    except OSError as err:
        raise fail(escape(f"{file}: {err.strerror or err}")) from None
    if len(raw) > MAX_SAMPLE:
        raise fail(escape(say("{file}: larger than {size} bytes", file=str(file), size=MAX_SAMPLE)))
    result, document = _extract(raw, replace(rules, ocr=ocr))
    if json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        zone = ZoneInfo(loaded.kartei.timezone)
        for key, value in result.items():
            if key == "document" and document is not None:
                value = say("{name} ({type}, {size} bytes)", **document)
            shown = escape(_shown(key, value, say, zone))
            console.print(f"[bold]{escape(say(key))}[/bold]: {shown}", highlight=False)
    if "error" in result:
        raise typer.Exit(1)


def _extract(raw: bytes, rules: FaxRules) -> tuple[dict[str, Any], dict[str, object] | None]:
    """What --json shows, and the document's name, type and size for the plain output."""
    with tempfile.TemporaryDirectory(prefix="kartei-fax-test-") as tmp:
        event = prepare_fax(raw, "test", rules, tmp).event
    if isinstance(event, CaptureFailed) or not isinstance(event, FaxReceived):
        return {"error": getattr(event, "error", "not a fax")}, None
    text = event.text
    document = {
        "name": event.document_name,
        "type": event.document_type,
        "size": event.document_size,
    }
    return (
        {  # --json as it is; _shown words it for the plain output
            "profile": event.profile,
            "sender": event.sender_raw or UNKNOWN_SENDER,
            "sender_e164": event.sender,
            "receiver": event.receiver_raw,
            "receiver_e164": event.receiver,
            "pages": event.pages,
            "received_at": event.received_at.isoformat() if event.received_at else None,
            "document": "{name} ({type}, {size} bytes)".format(**document),
            "document_error": event.document_error or None,
            "preview": bool(event.preview_ref),
            "text_source": event.text_source or None,
            "ocr_status": event.ocr_status,
            "ocr_error": event.ocr_error or None,
            "text": text[:1000] + (" …" if len(text) > 1000 else ""),
        },
        document,
    )


def _shown(key: str, value: object, say: Words, zone: ZoneInfo) -> str:
    """One value of the plain output, in the configured language."""
    if value is None:
        return say("None")
    if isinstance(value, bool):
        return say("yes" if value else "no")
    if key == "sender" and value == UNKNOWN_SENDER:
        return say(UNKNOWN_SENDER)
    if key == "received_at" and isinstance(value, str):
        return format_datetime(datetime.fromisoformat(value), say.language, zone)
    return str(value)
