"""Numbers from a known contact's email signature: offered once, resolved with care, removable."""

from __future__ import annotations

import pytest

from hub.contacts import ContactError
from hub.events import NewEvent, Recorded
from hub.events.contacts import SignatureNumberFound
from hub.events.mail import EmailReceived, EmailSent
from hub.policy import PolicyRunner
from hub.store import ANY
from policies.signature_numbers import SignatureNumbersPolicy, offer_key
from tests.contacts.conftest import Directory, phone

ANNA_DIRECT = "+49305550156"
ANNA_FAX = "+49305550199"


class Firm:
    """The contact parts plus the policy under test, run the way Kartei runs them."""

    def __init__(self, contacts: Directory) -> None:
        self.contacts = contacts
        self.policy = PolicyRunner(
            contacts.store, SignatureNumbersPolicy(contacts.store, contacts.identity)
        )
        self.mails = 0

    async def mail(self, sender: str, *numbers: str, sent: bool = False) -> None:
        self.mails += 1
        cls = EmailSent if sent else EmailReceived
        event = cls(message_id=f"<m{self.mails}@test>", sender=sender, signature_phones=numbers)
        await self.contacts.store.append(
            f"email-{self.mails}", ANY, [NewEvent(event, f"email:m{self.mails}")]
        )

    async def sync(self) -> None:
        """Projections, then the policy, then the projections again (its reactions)."""
        await self.contacts.sync()
        await self.policy.catch_up()
        await self.contacts.sync()

    async def found(self) -> list[Recorded]:
        return await self.contacts.store.read_all(0, 1000, types=["SignatureNumberFound"])

    async def who(self, number: str) -> tuple[str, str] | None:
        async with self.contacts.store.db.read() as conn:
            match = await self.contacts.identity.lookup_number(conn, number)
        return None if match is None else (match.contact_id, match.how)


@pytest.fixture
async def firm(contacts: Directory) -> Firm:
    firm = Firm(contacts)
    await firm.policy.prepare()
    return firm


async def person(firm: Firm, name: str, email: str, *phones: str) -> str:
    return await firm.contacts.service.create(
        {"given_name": name, "emails": (email,), "phones": tuple(phone(p) for p in phones)}
    )


async def test_a_known_senders_new_numbers_are_offered_exactly_once(firm: Firm) -> None:
    anna = await person(firm, "Anna", "anna@kunde.example", "030 5550-123")
    await firm.sync()
    await firm.mail("anna@kunde.example", f"phone:{ANNA_DIRECT}", f"fax:{ANNA_FAX}")
    await firm.mail("ANNA@kunde.example", f"phone:{ANNA_DIRECT}", "phone:+49305550123")
    await firm.mail("fremd@unbekannt.example", "phone:+49891111111")
    await firm.mail("anna@kunde.example", "phone:+49892222222", sent=True)  # our own mail
    await firm.sync()
    found = await firm.found()
    assert [(r.stream, r.event.number, r.event.label) for r in found] == [  # type: ignore[attr-defined]
        (f"contact-{anna}", ANNA_DIRECT, "landline"),
        (f"contact-{anna}", ANNA_FAX, "fax"),
    ]
    assert found[0].idempotency_key == offer_key(anna, ANNA_DIRECT)
    assert found[0].event.source == "signature"  # type: ignore[attr-defined]
    async with firm.contacts.store.db.read() as conn:
        card = await firm.contacts.directory.get(conn, anna)
    assert card is not None
    assert [(p.number, p.label) for p in card.offered_phones] == [
        (ANNA_DIRECT, "landline"),
        (ANNA_FAX, "fax"),
    ]
    assert [p.number for p in card.phones] == ["+49305550123"]  # the staff-entered one
    # A replay of the whole log (as after a crash before the checkpoint) adds nothing.
    replay = PolicyRunner(
        firm.contacts.store, SignatureNumbersPolicy(firm.contacts.store, firm.contacts.identity)
    )
    await replay.rebuild()
    assert len(await firm.found()) == 2


async def test_a_signature_number_resolves_to_its_contact(firm: Firm) -> None:
    anna = await person(firm, "Anna", "anna@kunde.example")
    await firm.sync()
    assert await firm.who("030 5550156") is None
    await firm.mail("anna@kunde.example", f"phone:{ANNA_DIRECT}")
    await firm.sync()
    assert await firm.who("030 5550156") == (anna, "signature")
    assert await firm.who("+49 30 5550156") == (anna, "signature")


async def test_a_staff_entered_number_wins_over_a_signature(firm: Firm) -> None:
    anna = await person(firm, "Anna", "anna@kunde.example")
    bernd = await person(firm, "Bernd", "bernd@kunde.example")
    await firm.sync()
    await firm.mail("anna@kunde.example", f"phone:{ANNA_DIRECT}")
    await firm.sync()
    assert await firm.who(ANNA_DIRECT) == (anna, "signature")
    await firm.contacts.service.change(bernd, {"phones": (phone("030 5550156"),)})
    await firm.sync()
    assert await firm.who(ANNA_DIRECT) == (bernd, "exact")


async def test_a_number_in_several_contacts_signatures_names_no_one(firm: Firm) -> None:
    anna = await person(firm, "Anna", "anna@kunde.example")
    bernd = await person(firm, "Bernd", "bernd@kunde.example")
    await firm.sync()
    shared = "+49305550100"  # the firm's switchboard, in both signatures
    await firm.mail("anna@kunde.example", f"phone:{shared}", f"phone:{ANNA_DIRECT}")
    await firm.mail("bernd@kunde.example", f"phone:{shared}")
    await firm.sync()
    assert await firm.who(shared) is None
    assert await firm.who(ANNA_DIRECT) == (anna, "signature")
    # Once the two turn out to be one person, the number is theirs.
    await firm.contacts.service.merge(anna, bernd)
    await firm.sync()
    assert await firm.who(shared) == (anna, "signature")


async def test_staff_remove_a_signature_number_and_it_is_not_offered_again(firm: Firm) -> None:
    anna = await person(firm, "Anna", "anna@kunde.example")
    await firm.sync()
    await firm.mail("anna@kunde.example", f"phone:{ANNA_DIRECT}")
    await firm.sync()
    await firm.contacts.service.remove_signature_number(anna, ANNA_DIRECT, actor="mk")
    await firm.mail("anna@kunde.example", f"phone:{ANNA_DIRECT}")
    await firm.sync()
    assert await firm.who(ANNA_DIRECT) is None
    async with firm.contacts.store.db.read() as conn:
        card = await firm.contacts.directory.get(conn, anna)
    assert card is not None and card.signature_phones == ()
    assert len(await firm.found()) == 1
    with pytest.raises(ContactError, match="no signature number"):
        await firm.contacts.service.remove_signature_number(anna, ANNA_DIRECT)


async def test_an_edit_of_the_card_keeps_signature_numbers(firm: Firm) -> None:
    anna = await person(firm, "Anna", "anna@kunde.example")
    await firm.sync()
    await firm.mail("anna@kunde.example", f"phone:{ANNA_DIRECT}")
    await firm.sync()
    await firm.contacts.service.change(anna, {"family_name": "Schulz", "phones": ()})
    await firm.sync()
    assert await firm.who(ANNA_DIRECT) == (anna, "signature")
    # Staff typing the number in adopts it: shown once, as a staff number.
    await firm.contacts.service.change(anna, {"phones": (phone("030 5550156"),)})
    await firm.sync()
    async with firm.contacts.store.db.read() as conn:
        card = await firm.contacts.directory.get(conn, anna)
    assert card is not None and card.offered_phones == ()
    assert await firm.who(ANNA_DIRECT) == (anna, "exact")


async def test_the_found_event_is_personal_data_of_the_contact(firm: Firm) -> None:
    event = SignatureNumberFound(contact_id="c1", number=ANNA_DIRECT)
    assert event.data_subject() == "contact:c1" and "number" in event.personal_fields
