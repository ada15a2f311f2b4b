"""What `kartei import FILE` prints: the report in the user's language, or as JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import typer

from adapters.importers.plan import Outcome
from adapters.importers.remarks import Remark
from adapters.importers.run import ImportReport
from hub.cli.common import console
from hub.cli.words import Words
from hub.web.i18n import format_number
from hub.web.labels import FILE_FORMAT_TEXT

SHOWN_ROWS = 200
# An import says what it did ("angelegt"), a preview what it would do ("anlegen"), as the
# web's import page does (hub/web/templates/import.html).
DONE = {"create": "created", "merge": "merged"}
SUMMARY = {"unchanged": "unchanged", "duplicate": "duplicates", "error": "errors"}


def print_report(report: ImportReport, as_json: bool, say: Words) -> None:
    if as_json:
        body = {
            "file": report.file,
            "format": report.format,
            "dry_run": report.dry_run,
            "summary": report.summary(),
            "appended": report.appended,
            "rows": [row_json(o) for o in report.outcomes],
        }
        typer.echo(orjson.dumps(body).decode())
        return
    console.print(_summary(report, say), highlight=False, markup=False, soft_wrap=True)
    shown = [o for o in report.outcomes if o.action != "create" or o.warnings]
    if report.dry_run:
        shown = report.outcomes
    for o in shown[:SHOWN_ROWS]:
        note = "; ".join(_said(r, say) for r in (o.reason, *o.warnings) if r)
        line = say("line {line}:", line=str(o.line))
        text = " ".join(filter(None, (f"  {line}", say(_action(o.action, report)), o.name)))
        text += f" – {note}" if note else ""
        # One row a line, however narrow the terminal: people grep and copy these.
        console.print(text, highlight=False, markup=False, soft_wrap=True)
    if len(shown) > SHOWN_ROWS:
        more = say.counted(
            len(shown) - SHOWN_ROWS,
            "... and {count} more row (use --json for all)",
            "... and {count} more rows (use --json for all)",
        )
        console.print(f"  {more}", highlight=False, markup=False)
    if report.dry_run:
        console.print(say("Preview only: nothing was written."), highlight=False)


def _summary(report: ImportReport, say: Words) -> str:
    """ "Importiert: Kontakte.csv (CSV-Datei) – angelegt: 6, zusammengeführt: 1, ..." """
    kind = say(FILE_FORMAT_TEXT.get(report.format, report.format))
    head = f"{say('Preview' if report.dry_run else 'Imported')}: {report.file} ({kind})"
    counts = ", ".join(
        f"{say(SUMMARY.get(action) or _action(action, report))}: {format_number(n, say.language)}"
        for action, n in report.summary().items()
    )
    return f"{head} – {counts}"


def _action(action: str, report: ImportReport) -> str:
    return action if report.dry_run else DONE.get(action, action)


def _said(remark: Remark, say: Words) -> str:
    return say(remark.key, **remark.values)


def row_json(outcome: Outcome) -> dict[str, Any]:
    """A report row; each remark as English text and as its catalogue key and values."""

    def remark(r: Remark) -> dict[str, Any]:
        return {"text": str(r), "key": r.key, "values": dict(r.values)}

    row = dataclasses.asdict(outcome)
    row["reason"] = remark(outcome.reason) if outcome.reason else None
    row["warnings"] = [remark(w) for w in outcome.warnings]
    return row
