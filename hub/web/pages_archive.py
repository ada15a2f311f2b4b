"""The archive for a tax auditor (GoBD Z1, read-only, time-limited) and for admins: every
captured email and fax, searchable, each with its original and its Merkle proof. Every
list, view and download is recorded in the audit trail (hub/privacy/audit.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.archive import Archive, ArchiveError
from hub.events import Recorded
from hub.events.privacy import AdminActionRecorded
from hub.phone import written_form
from hub.privacy.audit import record
from hub.proofs import heads
from hub.proofs.export import originals
from hub.proofs.log import MerkleLog
from hub.store.schema import events
from hub.web.errors import refused
from hub.web.i18n import format_date
from hub.web.render import page, user_of

router = APIRouter(include_in_schema=False)
CAPTURED = ("EmailReceived", "EmailSent", "FaxReceived", "CaptureFailed")
PAGE = 50
SEARCHED = 5000  # a search reads the newest this many captured items
KINDS = {
    "EmailReceived": "Email received",
    "EmailSent": "Email sent",
    "FaxReceived": "Fax",
    "CaptureFailed": "Unreadable input",
}


def _region(request: Request) -> str:
    return str(request.app.state.kartei.settings.contacts.default_region)


def _allowed(request: Request) -> bool:
    user = user_of(request)
    return user.is_auditor or user.is_admin


async def _audit(request: Request, action: str, target: str) -> None:
    user = user_of(request)
    event = AdminActionRecorded(action=action, by=user.username, target=target[:200])
    await record(request.app.state.kartei.store, event, durable=False)


def _row(r: Recorded, region: str) -> dict[str, Any]:
    e = r.event
    sender = getattr(e, "sender", "") or getattr(e, "sender_raw", "") or ""
    return {
        "position": r.position,
        "recorded_at": r.recorded_at,
        "kind": KINDS.get(r.type_name, r.type_name),
        # A fax's number as people write it ("030 887479"); the original is unchanged.
        "sender": written_form(sender, region) if r.type_name == "FaxReceived" else sender,
        "raw_sender": sender,
        "to": ", ".join(getattr(e, "to", ()) or ()),
        "subject": getattr(e, "subject", "") or getattr(e, "error", ""),
        "erased": r.erased,
    }


async def _positions(request: Request, limit: int, offset: int) -> list[int]:
    store = request.app.state.kartei.store
    query = (
        sa.select(events.c.position)
        .where(events.c.type.in_(CAPTURED))
        .order_by(events.c.position.desc())
        .limit(limit)
        .offset(offset)
    )
    async with store.db.read() as conn:
        return [int(p) for (p,) in await conn.execute(query)]


@router.get("/archive")
async def archive_list(request: Request, q: str = "", page_no: int = 0) -> Response:
    if not _allowed(request):
        return refused(request, 403, "the archive is for auditors and administrators")
    store = request.app.state.kartei.store
    q = q.strip()[:200]
    page_no = max(0, min(page_no, 10_000))
    if q:
        found = await store.read_positions(await _positions(request, SEARCHED, 0))
        needle = q.casefold()
        rows = [
            row
            for row in (_row(r, _region(request)) for r in reversed(found))
            if needle
            in f"{row['sender']} {row['raw_sender']} {row['to']} {row['subject']}".casefold()
        ][page_no * PAGE : (page_no + 1) * PAGE]
    else:
        found = await store.read_positions(await _positions(request, PAGE, page_no * PAGE))
        rows = [_row(r, _region(request)) for r in reversed(found)]
    await _audit(request, "archive.search" if q else "archive.list", q or f"page {page_no}")
    user = user_of(request)
    until = await request.app.state.accounts.auditor_until(user.username)
    until_text = format_date(until, user.language) if until is not None else ""
    return page(
        request, "archive.html", rows=rows, q=q, page_no=page_no, more=len(rows) == PAGE,
        until=until_text, searched=SEARCHED,
    )  # fmt: skip


async def _one(request: Request, position: int) -> Recorded | None:
    found = await request.app.state.kartei.store.read_positions([position])
    if not found or found[0].type_name not in CAPTURED:
        return None
    return found[0]


@router.get("/archive/{position}")
async def archive_item(request: Request, position: int) -> Response:
    if not _allowed(request):
        return refused(request, 403, "the archive is for auditors and administrators")
    item = await _one(request, position)
    if item is None:
        return page(request, "message.html", 404, message="Not found.")
    merkle = getattr(request.app.state, "merkle_log", None)
    if merkle is None:
        kartei = request.app.state.kartei
        merkle = MerkleLog(kartei.store, kartei.settings.data_dir / "archive")
        request.app.state.merkle_log = merkle
    try:
        proof: dict[str, Any] | None = await merkle.inclusion(position)
    except LookupError:
        proof = None
    files = [] if item.erased else [suffix for _, suffix, _ in originals(item.event)]
    signed_at = heads.parse(proof["head"]).signed_at if proof is not None else None
    await _audit(request, "archive.view", str(position))
    return page(
        request, "archive_item.html", item=_row(item, _region(request)), proof=proof, files=files,
        signed_at=signed_at,
    )  # fmt: skip


@router.get("/archive/{position}/original/{number}")
async def archive_original(request: Request, position: int, number: int) -> Response:
    if not _allowed(request):
        return refused(request, 403, "the archive is for auditors and administrators")
    item = await _one(request, position)
    files = list(originals(item.event)) if item is not None and not item.erased else []
    if not 0 <= number < len(files):
        return page(request, "message.html", 404, message="Not found.")
    _, suffix, ref = files[number]
    try:
        data = Archive(request.app.state.kartei.settings.data_dir / "archive").get(ref)
    except ArchiveError:
        return page(request, "message.html", 404, message="Not found.")
    await _audit(request, "archive.download", f"{position}/{number}")
    headers = {
        "Content-Disposition": f'attachment; filename="kartei-{position}-{number}{suffix}"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(data, media_type="application/octet-stream", headers=headers)
