"""What a command on a contact means, as events: pure decisions, no I/O."""

from __future__ import annotations

from datetime import date

from hub.contacts.model import CARD_FIELDS, Contact
from hub.events.contacts import (
    CONSENT_CHANNELS,
    CONSENT_STATES,
    Address,
    ConsentRecorded,
    ContactChanged,
    ContactCreated,
    ContactsMerged,
    Phone,
    SignatureNumberRemoved,
)


class ContactError(ValueError):
    """A command that cannot apply to the contact (unknown, merged, merging into itself)."""


def create(contact_id: str, card: dict[str, object]) -> ContactCreated:
    """A new contact from card fields (unknown keys are an error)."""
    unknown = set(card) - set(CARD_FIELDS)
    if unknown:
        raise ContactError(f"unknown contact fields: {', '.join(sorted(unknown))}")
    return ContactCreated(contact_id=contact_id, **card)  # type: ignore[arg-type]


def change(contact: Contact, changes: dict[str, object]) -> ContactChanged | None:
    """The change that makes the card say `changes`; None when it says so already."""
    _require_live(contact)
    unknown = set(changes) - set(CARD_FIELDS)
    if unknown:
        raise ContactError(f"unknown contact fields: {', '.join(sorted(unknown))}")
    differing = {k: v for k, v in changes.items() if v is not None and getattr(contact, k) != v}
    differing = {
        k: v for k, v in differing.items() if not (v == "" and getattr(contact, k) is None)
    }
    if not differing:
        return None
    return ContactChanged(contact_id=contact.contact_id, **differing)  # type: ignore[arg-type]


def absorb(contact: Contact, other: dict[str, object]) -> dict[str, object]:
    """What `contact` takes over from another card: new emails, phones and tags, and
    values for its empty fields. Never overwrites what it has."""
    taken: dict[str, object] = {}
    emails = _union(contact.emails, other.get("emails", ()), str.lower)  # type: ignore[arg-type]
    if emails != contact.emails:
        taken["emails"] = emails
    phones = _union(contact.phones, other.get("phones", ()), _phone_key)  # type: ignore[arg-type]
    if phones != contact.phones:
        taken["phones"] = phones
    tags = _union(contact.tags, other.get("tags", ()), str.lower)  # type: ignore[arg-type]
    if tags != contact.tags:
        taken["tags"] = tags
    for name in (
        "given_name",
        "family_name",
        "company",
        "notes",
        "customer_number",
        "owner",
        "language",
        "company_id",
    ):
        mine, theirs = getattr(contact, name), other.get(name)
        if not mine and theirs:
            taken[name] = theirs
    address = other.get("address")
    if isinstance(address, Address) and _empty(contact.address) and not _empty(address):
        taken["address"] = address
    return taken


def merge(
    survivor: Contact, merged: Contact, by: str | None = None
) -> tuple[ContactChanged | None, ContactsMerged]:
    """Merging `merged` into `survivor`: what the survivor takes over, and the merge."""
    _require_live(survivor)
    _require_live(merged)
    if survivor.contact_id == merged.contact_id:
        raise ContactError("a contact cannot be merged into itself")
    changed = change(survivor, absorb(survivor, merged.card()))
    return changed, ContactsMerged(
        survivor_id=survivor.contact_id, merged_id=merged.contact_id, by=by
    )


def remove_signature_number(
    contact: Contact, number: str, by: str | None = None
) -> SignatureNumberRemoved:
    """Staff taking back a number offered from a signature (it is not offered again)."""
    _require_live(contact)
    if number not in {p.number for p in contact.signature_phones}:
        raise ContactError(f"contact {contact.contact_id} has no signature number {number}")
    return SignatureNumberRemoved(contact_id=contact.contact_id, number=number, by=by)


def record_consent(
    contact: Contact,
    channel: str,
    state: str,
    *,
    source: str = "",
    given_on: date | None = None,
    today: date | None = None,
    by: str | None = None,
) -> ConsentRecorded | None:
    """What the contact said about a channel; None when the card says so already."""
    _require_live(contact)
    if channel not in CONSENT_CHANNELS:
        raise ContactError(f"channel {channel!r}: expected one of {', '.join(CONSENT_CHANNELS)}")
    if state not in CONSENT_STATES:
        raise ContactError(f"consent {state!r}: expected one of {', '.join(CONSENT_STATES)}")
    source = " ".join(source.split())
    if len(source) > 200:
        raise ContactError("the source is limited to 200 characters")
    today = today or date.today()
    given_on = given_on or today
    if given_on > today:
        raise ContactError(f"the consent date {given_on:%d.%m.%Y} lies in the future")
    current = contact.consent_for(channel)
    if (current.state, current.source, current.given_on) == (state, source, given_on.isoformat()):
        return None
    return ConsentRecorded(
        contact_id=contact.contact_id,
        channel=channel,
        state=state,
        source=source,
        given_on=given_on.isoformat(),
        by=by,
    )


class ChannelBlockedError(ContactError):
    """The contact asked not to be contacted on this channel."""


def require_not_blocked(contact: Contact, channel: str) -> None:
    """For anything that would write to, call or fax a contact: refuses a blocked channel
    (what the person said, where and when, in the message)."""
    said = contact.consent_for(channel)
    if said.blocked:
        where = ", ".join(part for part in (said.source, said.given_on) if part)
        raise ChannelBlockedError(
            f"contact {contact.contact_id} asked not to be contacted by {channel}"
            + (f" ({where})" if where else "")
        )


def consent_taken_over(
    survivor: Contact, merged: Contact, by: str | None = None
) -> list[ConsentRecorded]:
    """On a merge: the duplicate's consent where the survivor's is unknown, and its
    blocks always (someone who asked not to be written to stays so after a merge)."""
    taken = []
    for said in merged.consent:
        mine = survivor.consent_for(said.channel)
        if mine.state == "unknown" or (said.blocked and not mine.blocked):
            taken.append(
                ConsentRecorded(
                    contact_id=survivor.contact_id,
                    channel=said.channel,
                    state=said.state,
                    source=said.source,
                    given_on=said.given_on,
                    by=by,
                )
            )
    return taken


def _require_live(contact: Contact) -> None:
    if not contact.exists:
        raise ContactError(f"no contact {contact.contact_id}")
    if contact.merged_into:
        raise ContactError(f"contact {contact.contact_id} was merged into {contact.merged_into}")
    if contact.erased:  # a new change would start a new card under the erased id
        raise ContactError(f"contact {contact.contact_id} was erased")


def _union(mine, theirs, key):  # type: ignore[no-untyped-def]
    seen = {key(x) for x in mine}
    extra = []
    for item in theirs:
        if key(item) not in seen:
            seen.add(key(item))
            extra.append(item)
    return tuple(mine) + tuple(extra)


def _phone_key(phone: Phone) -> str:
    return phone.number


def _empty(address: Address | None) -> bool:
    return address is None or not any((address.street, address.postcode, address.city))
