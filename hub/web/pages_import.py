"""Contact import from the browser: upload a CSV, Excel or vCard file, preview or import.

The importer itself (`adapters/importers`, also behind `kartei import`) is handed in by
the composition root; this page only receives the upload, bounds its size, and shows the
report row by row in file order (created, merged, unchanged, duplicates, errors with line
numbers), its remarks translated from their catalogue keys.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from hub.web import data
from hub.web.pages_contacts import caught_up
from hub.web.render import page, user_of

if TYPE_CHECKING:
    from hub.contacts.model import Contact
    from hub.store import EventStore

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # an export of a few thousand contacts is ~1 MB
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields
SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".vcf", ".vcard"})
SHOWN_ROWS = 500


class ContactImport(Protocol):
    """Imports (or previews) one file of contacts; raises ValueError for an unusable file."""

    async def __call__(
        self,
        path: Path,
        store: EventStore,
        known: list[Contact],
        *,
        dry_run: bool,
        on_duplicate: str,
        actor: str | None,
    ) -> Any: ...


def _form(request: Request, status_code: int = 200, **context: Any) -> Response:
    return page(request, "import.html", status_code, limit_mb=MAX_UPLOAD_BYTES // 2**20, **context)


@router.get("/import")
async def import_form(request: Request) -> Response:
    if not user_of(request).is_admin:
        return page(request, "message.html", 403, message="Forbidden.")
    return _form(request)


@router.post("/import")
async def import_upload(request: Request) -> Response:
    """Runs the importer on the upload; shows its report (a preview writes nothing)."""
    if not user_of(request).is_admin:
        return page(request, "message.html", 403, message="Forbidden.")
    importer: ContactImport | None = request.app.state.importer
    if importer is None:
        return _form(request, 503, error="Contact import is not available.")
    # Refused before the body is read: Starlette would spool any size of upload to disk.
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_UPLOAD_BYTES + FORM_OVERHEAD:
        return _form(request, 413, error="The file is too large.")
    async with request.form(max_files=1, max_fields=10) as form:
        file = form.get("file")
        preview = form.get("preview") or ""
        on_duplicate = form.get("on_duplicate") or "merge"
        if not isinstance(file, UploadFile):
            return _form(request, 400, error="The file is empty.")
        data_bytes = await file.read(MAX_UPLOAD_BYTES + 1)
        file_name = file.filename or ""
    if len(data_bytes) > MAX_UPLOAD_BYTES:
        return _form(request, 413, error="The file is too large.")
    if not data_bytes:
        return _form(request, 400, error="The file is empty.")
    kartei = request.app.state.kartei
    directory = data.projection(kartei, "contacts")
    async with kartei.store.db.read() as conn:
        known = await directory.all(conn) if directory is not None else []
    suffix = Path(file_name).suffix.lower()
    # The stranger's file name is never used as a path; only a known suffix is kept.
    name = "upload" + (suffix if suffix in SUFFIXES else "")
    with tempfile.TemporaryDirectory(prefix="kartei-import-") as tmp:
        path = Path(tmp) / name
        await asyncio.to_thread(path.write_bytes, data_bytes)
        try:
            report = await importer(
                path,
                kartei.store,
                known,
                dry_run=bool(preview),
                on_duplicate="report" if on_duplicate == "report" else "merge",
                actor=user_of(request).username,
            )
        except ValueError as err:
            # The importer's errors carry a catalogue key (`remark`); others show as they are.
            detail = getattr(err, "remark", None) or str(err)[:500]
            return _form(request, 400, error="The file cannot be read.", detail=detail)
    if not report.dry_run and report.appended:
        await caught_up(request, await kartei.store.head(), "contacts", "identity")
    rows = shown_rows(report.outcomes)
    return _form(
        request,
        report=report,
        summary=report.summary(),
        rows=rows,
        hidden=_clean(report.outcomes) - _clean(rows),
        hidden_remarked=len(report.outcomes) - _clean(report.outcomes) - len(rows) + _clean(rows),
        file_name=file_name[:200],
    )


def shown_rows(outcomes: list[Any]) -> list[Any]:
    """The report's rows in file order; in a long report, rows created without a remark
    are left out first (the counts above the table still include them)."""
    rows = sorted(outcomes, key=lambda o: o.line)
    if len(rows) > SHOWN_ROWS:
        rows = [o for o in rows if o.action != "create" or o.warnings]
    return rows[:SHOWN_ROWS]


def _clean(outcomes: list[Any]) -> int:
    return sum(1 for o in outcomes if o.action == "create" and not o.warnings)
