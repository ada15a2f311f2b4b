"""Export of everything stored about a contact (GDPR Art. 15): one ZIP with a readable
summary (summary.html), the data as JSON (data.json: the events decoded, the read models'
rows naming the contact) and the original documents (documents/: raw mails, faxes)."""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from hub.archive import Archive, ArchiveError
from hub.events import Recorded
from hub.events.codec import json_default
from hub.phone import written_form
from hub.privacy.dossier import Dossier, documents_of, dossier
from hub.web.i18n import translator

if TYPE_CHECKING:
    from hub.bootstrap import Kartei


def _event(r: Recorded, codec: Any) -> dict[str, Any]:
    return {
        "position": r.position,
        "stream": r.stream,
        "type": r.type_name,
        "recorded_at": r.recorded_at.isoformat(),
        "erased": r.erased,
        "data": codec.to_data(r.event) if codec.type_for(r.type_name) else {},
    }


async def _read_model_rows(kartei: Kartei, ids: Iterable[str]) -> dict[str, list[Any]]:
    """Every read-model row that names the contact (a `contact_id` column)."""
    found: dict[str, list[Any]] = {}
    async with kartei.store.db.read() as conn:
        for runner in kartei.projections.values():
            for table in runner.projection.tables.sorted_tables:
                if "contact_id" not in table.c:
                    continue
                query = sa.select(table).where(table.c.contact_id.in_(list(ids)))
                try:
                    rows = (await conn.execute(query)).mappings().all()
                except sa.exc.DBAPIError:  # a read model never started here has no table
                    await conn.rollback()
                    continue
                if rows:
                    found[table.name] = [dict(r) for r in rows]
    return found


def _documents(d: Dossier, archive: Archive) -> list[tuple[str, str, bytes | None]]:
    """(reference, file name in the ZIP, bytes or None when missing) per document."""
    out = []
    for n, r in enumerate(d.records, 1):
        for ref, what in documents_of(r.event):
            if not ref:
                continue
            name = "".join(c if c.isalnum() or c in "._-" else "_" for c in what)[:80]
            try:
                data: bytes | None = archive.get(ref)
            except ArchiveError:
                data = None
            out.append((ref, f"documents/{n:04d}-{r.type_name}-{name}", data))
    return out


# What each event is, in the words of the person reading their own data (German from the
# catalogue); the types not named here are listed by their type name.
SAID = {
    "ContactCreated": "Card created",
    "ContactChanged": "Card changed",
    "SignatureNumberFound": "Number found in an email signature",
    "ContactsMerged": "Duplicate card merged",
    "ConsentRecorded": "Consent recorded",
    "EmailReceived": "Email from you",
    "EmailSent": "Email to you",
    "CallEnded": "Phone call",
    "FaxReceived": "Fax from you",
    "FaxTextRecognized": "Fax text recognised",
    "NoteAdded": "Note",
    "TaskOpened": "Task",
    "MessageClassified": "Message assessed as",
    "ClassificationCorrected": "Assessment corrected to",
}
# A call's ringing and answering are one call: its CallEnded says how it went.
UNSAID = {"CallRinging", "CallPlaced", "CallAnswered"}
LABELS = {"complaint": "Complaint", "praise": "Praise", "neutral": "Neutral"}


def _when(r: Recorded) -> datetime:
    """When it happened (the mail's date, the call's start), else when it was recorded."""
    e = r.event
    for name in ("date", "started_at", "received_at", "at"):
        moment = getattr(e, name, None)
        if isinstance(moment, datetime):
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return r.recorded_at


def _about(r: Recorded, _: Any) -> str:
    """The subject, title or label that tells one entry from the next."""
    e = r.event
    if r.type_name in ("MessageClassified", "ClassificationCorrected"):
        return str(_(LABELS.get(str(getattr(e, "label", "")), str(getattr(e, "label", "")))))
    for name in ("subject", "title"):
        if value := getattr(e, name, None):
            return str(value)
    return ""


def _summary(d: Dossier, documents: list[tuple[str, str, bytes | None]], language: str) -> str:
    _ = translator(language)
    c = d.contact
    rows = [
        (_("Name"), c.display_name),
        (_("Company"), c.company),
        (_("Email addresses"), ", ".join(c.emails)),
        (
            _("Phone numbers"),
            ", ".join(written_form(p.number) for p in (*c.phones, *c.signature_phones)),
        ),
        (_("Notes"), c.notes),
    ]
    items = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v or '')}</td></tr>" for k, v in rows
    )
    history = "".join(
        f"<li>{_when(r):%d.%m.%Y %H:%M} {html.escape(_(SAID.get(r.type_name, r.type_name)))}"
        f"{' – ' + html.escape(s) if (s := _about(r, _)) else ''}</li>"
        for r in sorted(d.records, key=_when)
        if r.type_name not in UNSAID
    )
    files = "".join(f"<li>{html.escape(name)}</li>" for _, name, data in documents if data)
    title = _("Your data at our firm")
    return (
        f'<!doctype html><html lang="{language}"><meta charset="utf-8"><title>{title}</title>'
        f"<h1>{title}</h1><p>{_('Exported on')} {datetime.now(UTC):%d.%m.%Y}</p>"
        f"<table>{items}</table><h2>{_('History')}</h2><ul>{history}</ul>"
        f"<h2>{_('Documents')}</h2><ul>{files}</ul>"
        f"<p>{_('All data in machine-readable form: data.json')}</p></html>"
    )


async def export_zip(
    kartei: Kartei, archive: Archive, contact_id: str, language: str
) -> tuple[bytes, dict[str, int]]:
    """The ZIP's bytes and what it holds (documents, events)."""
    d = await dossier(kartei.store, contact_id)
    codec = kartei.store.codec
    documents = _documents(d, archive)
    data = {
        "contact": {"contact_id": d.contact.contact_id, **d.contact.card()},
        "merged_contacts": [i for i in d.contact_ids if i != contact_id],
        "signature_phones": [p.number for p in d.contact.signature_phones],
        "events": [_event(r, codec) for r in d.records],
        "events_naming_the_contact": [_event(r, codec) for r in d.mentions],
        "read_models": await _read_model_rows(kartei, d.contact_ids),
        "documents": [
            {"ref": ref, "file": name if data else None} for ref, name, data in documents
        ],
        "exported_at": datetime.now(UTC).isoformat(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("summary.html", _summary(d, documents, language))
        zf.writestr(
            "data.json",
            orjson.dumps(
                data, default=json_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
            ),
        )
        for _, name, blob in documents:
            if blob is not None:
                zf.writestr(name, blob)
    held = {"documents": sum(1 for *_, b in documents if b is not None), "events": len(d.records)}
    return buffer.getvalue(), held
