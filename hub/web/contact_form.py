"""The contact form (new and edit): rendering a card's values, reading what was posted."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from hub.contacts import edits
from hub.contacts.model import Contact
from hub.web.labels import PHONE_LABEL_TEXT
from hub.web.render import page

EMPTY_PHONE_ROWS = 2  # rows for new numbers under a card's own


def render(
    request: Request,
    contact: Contact | None,
    form: edits.CardForm,
    error: edits.FormError | None = None,
    version: int | None = None,
) -> Response:
    """The form with `form`'s values (after a refused save: what the user typed)."""
    rows = (*(form.phones or ()), *(("", ""),) * EMPTY_PHONE_ROWS)
    return page(
        request,
        "contact_edit.html",
        400 if error else 200,
        contact=contact,
        version=version or (contact.version if contact else 0),
        texts=form.texts,
        phone_rows=rows,
        phone_labels=PHONE_LABEL_TEXT,
        error=error,
    )


async def posted(request: Request) -> tuple[edits.CardForm, int | None]:
    """The form as posted, and the version of the card it was shown for."""
    form = await request.form()
    fields = {name: [str(v) for v in form.getlist(name)] for name in form}
    version = (fields.get("version") or [""])[0]
    return edits.submitted(fields), int(version) if version.isdigit() else None


def region(request: Request) -> tuple[str, str | None]:
    """Where numbers typed without a country (and area) code are."""
    contacts = request.app.state.kartei.settings.contacts
    return contacts.default_region, contacts.own_area_code or None
