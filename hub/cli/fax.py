"""`kartei fax test FILE.eml`: what the provider profiles read from a sample fax email."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape

from adapters.fax.build import fax_rules
from adapters.fax.intake import FaxRules, prepare_fax
from adapters.fax.profiles import ProfileError, load_profiles
from hub.cli.common import ConfigOption, JsonOption, config_path, console, fail, settings
from hub.events.fax import FaxReceived
from hub.events.mail import CaptureFailed
from hub.settings import ConfigError, Settings

app = typer.Typer(help="Fax capture: try provider profiles on sample emails.", no_args_is_help=True)
MAX_SAMPLE = 100 * 1024 * 1024
UNKNOWN_SENDER = "unknown (the email names no sender number)"


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
    try:
        rules = fax_rules(loaded)
        if providers is not None:
            rules = replace(rules, profiles=load_profiles(providers))
        raw = file.read_bytes()[: MAX_SAMPLE + 1]
    except (ProfileError, ConfigError) as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{file}: {err.strerror or err}") from None
    if len(raw) > MAX_SAMPLE:
        raise fail(f"{file}: larger than {MAX_SAMPLE} bytes")
    result = _extract(raw, replace(rules, ocr=ocr))
    if json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        for key, value in result.items():
            console.print(f"[bold]{key}[/bold]: {escape(str(value))}", highlight=False)
    if "error" in result:
        raise typer.Exit(1)


def _extract(raw: bytes, rules: FaxRules) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kartei-fax-test-") as tmp:
        event = prepare_fax(raw, "test", rules, tmp).event
    if isinstance(event, CaptureFailed) or not isinstance(event, FaxReceived):
        return {"error": getattr(event, "error", "not a fax")}
    text = event.text
    return {
        "profile": event.profile,
        "sender": event.sender_raw or UNKNOWN_SENDER,
        "sender_e164": event.sender,
        "receiver": event.receiver_raw,
        "receiver_e164": event.receiver,
        "pages": event.pages,
        "received_at": event.received_at.isoformat() if event.received_at else None,
        "document": f"{event.document_name} ({event.document_type}, {event.document_size} bytes)",
        "document_error": event.document_error or None,
        "preview": bool(event.preview_ref),
        "text_source": event.text_source or None,
        "ocr_status": event.ocr_status,
        "ocr_error": event.ocr_error or None,
        "text": text[:1000] + (" …" if len(text) > 1000 else ""),
    }
