"""What the classifier labelled is visible and correctable, for every kind of message it
reads (notes, emails, faxes and a fax's later OCR text), over HTTP on both databases.

Regression: three notes classified as complaints flagged their customer at risk, but
/classifications said "Nichts gefunden", the card showed no badge and the dashboard's chart
stayed at 0 / 0: the timeline looked for a note's label under the note's stream
(``contact-<id>``), where no entry lives.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from hub.events import Metadata, NewEvent, Recorded
from hub.events.classification import MessageClassified
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.store import EventStore
from tests.web.conftest import Web
from tests.web.events import T0, email
from tests.web.test_pages import contact

NUMBER = "+4930123456"  # the customer's number in tests.web.test_pages.contact


async def classified(store: EventStore, position: int, label: str, contact_id: str) -> int:
    """Appends the classifier policy's MessageClassified for the event at `position`, as
    policies/classifier/policy.py records it; the classification's stream position."""
    [r] = await store.read_all(position - 1, 1)
    assert r.position == position
    event = MessageClassified(
        message_position=r.position,
        message_stream=r.stream,
        message_type=r.type_name,
        label=label,
        confidence=0.91,
        model="test",
        model_version="1",
        contact_id=contact_id,
        scores={label: 0.91},
        message_at=_when(r),
    )
    meta = Metadata(source="classifier", causation_id=str(r.position))
    key = f"classifier:1:{r.position}"
    await store.append(f"classification-{r.position}", None, [NewEvent(event, key, meta)])
    return r.position


def _when(r: Recorded) -> datetime:
    at = getattr(r.event, "date", None) or getattr(r.event, "received_at", None)
    return at or r.recorded_at


async def notes(
    http: httpx.AsyncClient, csrf: str, cid: str, texts: list[str], store: EventStore
) -> list[int]:
    """Notes staff wrote on the card; their positions in the log."""
    for text in texts:
        done = await http.post(f"/contacts/{cid}/notes", data={"text": text, "csrf": csrf})
        assert done.status_code == 303
    found = await store.read_all(0, 1000, types=("NoteAdded",))
    return [r.position for r in found]


async def fax_read_later(store: EventStore) -> tuple[str, int]:
    """A fax without text, then its OCR text (the text the classifier reads)."""
    now = datetime.now(UTC)
    fax = FaxReceived(sender=NUMBER, sender_raw="030 123456", pages=1, received_at=now)
    stream = "fax-spaet"
    await store.append(stream, 0, [NewEvent(fax)])
    text = FaxTextRecognized(fax_stream=stream, sender=NUMBER, text="Reklamation", received_at=now)
    done = await store.append(stream, None, [NewEvent(text)])
    return stream, done.positions[-1]


def positions(html: str) -> list[int]:
    return sorted(int(p) for p in re.findall(r'data-position="(\d+)"', html))


def card_labels(html: str) -> dict[str, int]:
    """How many entries of each kind carry each badge on the card."""
    counts: dict[str, int] = {}
    for kind, label in re.findall(r'<li class="entry kind-(\w+) label-(\w+)', html):
        counts[f"{kind}:{label}"] = counts.get(f"{kind}:{label}", 0) + 1
    return counts


def this_week(html: str) -> tuple[int, int]:
    """The dashboard chart's complaints and praise of the current week (its last bar)."""
    weeks = re.findall(
        r'class="bar complaint" data-n="(\d+)".*?class="bar praise" data-n="(\d+)"', html, re.S
    )
    complaint, praise = weeks[-1]
    return int(complaint), int(praise)


async def test_labels_of_every_message_kind_are_shown_and_corrected(
    web: Web, store: EventStore, admin
) -> None:
    http, csrf = admin
    cid = await contact(store)
    said = ["Die Lieferung kam schon wieder zu spät.", "Falsche Ware!", "Niemand ruft zurück."]
    complaints = [
        await classified(store, p, "complaint", cid)
        for p in await notes(http, csrf, cid, said, store)
    ]
    _, mail = await email(store, "erika@kunde.example", "Danke!", minutes=_minutes_ago())
    praise = await classified(store, mail, "praise", cid)
    _, ocr = await fax_read_later(store)
    complaints.append(await classified(store, ocr, "complaint", cid))
    await web.settle()

    listed = await http.get("/classifications", params={"label": "complaint"})
    assert listed.status_code == 200
    assert "Nichts gefunden" not in listed.text
    assert positions(listed.text) == sorted(complaints)
    assert "Niemand ruft zurück." in listed.text and "Notiz" in listed.text
    everything = await http.get("/classifications", params={"label": "all"})
    assert positions(everything.text) == sorted([*complaints, praise])
    card = (await http.get(f"/contacts/{cid}")).text
    assert card_labels(card) == {"note:complaint": 3, "email:praise": 1, "fax:complaint": 1}
    assert this_week((await http.get("/")).text) == (4, 1)

    # Staff correct a note and the fax's text: list, badges and counts follow.
    for position in (complaints[1], ocr):
        done = await http.post(
            f"/classifications/{position}/correct", data={"label": "neutral", "csrf": csrf}
        )
        assert done.status_code == 303, done.text
    await web.settle()
    listed = await http.get("/classifications", params={"label": "complaint"})
    assert positions(listed.text) == [complaints[0], complaints[2]]
    neutral = await http.get("/classifications", params={"label": "neutral"})
    assert positions(neutral.text) == sorted([complaints[1], ocr])
    card = (await http.get(f"/contacts/{cid}")).text
    assert card_labels(card) == {
        "note:complaint": 2,
        "note:neutral": 1,
        "email:praise": 1,
        "fax:neutral": 1,
    }
    assert this_week((await http.get("/")).text) == (2, 1)


def _minutes_ago() -> int:
    """tests.web.events.email dates mail relative to its T0: this makes it now."""
    return int((datetime.now(UTC) - T0).total_seconds() // 60)
