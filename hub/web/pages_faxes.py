"""A fax's first-page preview and its document, from the archive, for logged-in staff."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.archive import Archive, ArchiveError
from hub.events.fax import FaxReceived
from hub.web.render import page

router = APIRouter(include_in_schema=False)
STREAM = re.compile(r"^fax-[0-9a-f]{1,64}$")
# The preview is a PNG the fax adapter rendered; it is served as an image and nothing else.
PREVIEW_CSP = "default-src 'none'; sandbox"
DOCUMENT_TYPES = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/png": ".png"}


async def _fax(request: Request, stream: str) -> FaxReceived | None:
    if not STREAM.match(stream):
        return None
    for r in await request.app.state.kartei.store.read_stream(stream):
        if isinstance(r.event, FaxReceived):
            return r.event
    return None


def _blob(request: Request, ref: str | None) -> bytes | None:
    if not ref:
        return None  # none was made, or the sender's key was erased
    try:
        return Archive(request.app.state.kartei.settings.data_dir / "archive").get(ref)
    except (ArchiveError, OSError, ValueError):
        return None


def _not_found(request: Request) -> Response:
    return page(request, "message.html", 404, message="Not found.")


@router.get("/faxes/{stream}/preview")
async def fax_preview(request: Request, stream: str) -> Response:
    fax = await _fax(request, stream)
    body = _blob(request, fax.preview_ref) if fax is not None else None
    if body is None or not body.startswith(b"\x89PNG\r\n\x1a\n"):
        return _not_found(request)
    headers = {"Content-Security-Policy": PREVIEW_CSP, "Cache-Control": "private, max-age=3600"}
    return Response(body, media_type="image/png", headers=headers)


@router.get("/faxes/{stream}/document")
async def fax_document(request: Request, stream: str) -> Response:
    fax = await _fax(request, stream)
    body = _blob(request, fax.document_ref) if fax is not None else None
    if fax is None or body is None:
        return _not_found(request)
    stem = re.sub(r"[^A-Za-z0-9._ -]", "_", fax.document_name.rsplit(".", 1)[0])[:100]
    name = (stem or "fax") + DOCUMENT_TYPES.get(fax.document_type, ".bin")
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
