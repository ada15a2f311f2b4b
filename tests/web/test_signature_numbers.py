"""The card marks numbers taken from email signatures, and staff can remove them."""

from __future__ import annotations

from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.contacts import SignatureNumberFound
from hub.store import EventStore
from tests.web.conftest import Web


async def test_card_marks_a_signature_number_and_staff_remove_it(
    web: Web, store: EventStore, admin
) -> None:
    http, csrf = admin
    cid = await ContactService(store).create(
        {"given_name": "Erika", "family_name": "Muster", "emails": ("erika@kunde.example",)}
    )
    found = SignatureNumberFound(contact_id=cid, number="+49305550156", label="fax")
    await store.append(f"contact-{cid}", None, [NewEvent(found, "signature-number:x")])
    await web.settle()
    page = await http.get(f"/contacts/{cid}")
    assert page.status_code == 200
    assert "+49305550156" in page.text and "aus Signatur" in page.text
    assert "<dt>Fax</dt>" in page.text
    bad = await http.post(
        f"/contacts/{cid}/signature-numbers/remove", data={"number": "+4930999", "csrf": csrf}
    )
    assert bad.status_code == 400
    done = await http.post(
        f"/contacts/{cid}/signature-numbers/remove", data={"number": "+49305550156", "csrf": csrf}
    )
    assert done.status_code == 303
    await web.settle()
    page = await http.get(f"/contacts/{cid}")
    assert "+49305550156" not in page.text and "aus Signatur" not in page.text
    removed = await store.read_all(0, 100, types=["SignatureNumberRemoved"])
    assert [r.event.by for r in removed] == ["anna"]  # type: ignore[attr-defined]
