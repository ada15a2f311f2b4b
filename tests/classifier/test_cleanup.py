"""Only the customer's own words reach the model (German and English mail conventions)."""

from __future__ import annotations

from policies.classifier.cleanup import MAX_CHARS, customer_words, own_part


def test_german_outlook_reply_signature_and_footer_are_stripped() -> None:
    body = """Guten Tag Frau Weber,

die Lieferung ist schon wieder zu spät. Das ist inakzeptabel.

Mit freundlichen Grüßen
Klaus Meier
Meier Bau GmbH | Tel. 030 123456

Sitz der Gesellschaft: Berlin, Amtsgericht Charlottenburg HRB 12345
Geschäftsführer: Klaus Meier

-----Ursprüngliche Nachricht-----
Von: Weber, Anna
Gesendet: Montag, 3. März 2026 09:12
Betreff: Ihre Bestellung
Vielen Dank für Ihre Bestellung, wir freuen uns sehr!"""
    assert own_part(body) == (
        "Guten Tag Frau Weber,\n\ndie Lieferung ist schon wieder zu spät. Das ist inakzeptabel."
    )


def test_english_quoted_reply_and_mobile_footer_are_stripped() -> None:
    body = (
        "Thanks, that fixed it. Great work!\n\nSent from my iPhone\n\n"
        "On Mon, 3 Mar 2026 at 09:12, Support <support@firm.de> wrote:\n"
        "> We are sorry for the trouble.\n> Please restart the device."
    )
    assert own_part(body) == "Thanks, that fixed it. Great work!"


def test_inline_quotes_and_am_schrieb_header() -> None:
    body = (
        "> Können Sie morgen liefern?\nJa, gerne.\n\n"
        "Am 03.03.2026 um 10:00 schrieb Anna Weber <a@firm.de>:\n> Alte Nachricht"
    )
    assert own_part(body) == "Ja, gerne."


def test_signature_separator_and_confidentiality_notice() -> None:
    body = (
        "The invoice is wrong again.\n\n"
        "This e-mail is confidential and intended only for the named recipient.\n"
        "-- \nJohn Smith\nSmith Ltd"
    )
    assert own_part(body) == "The invoice is wrong again."


def test_subject_prefixes_dropped_and_length_capped() -> None:
    text = customer_words("AW: Re: WG: Reklamation", "x" * 5000)
    assert text.startswith("Reklamation\nxxx") and len(text) == MAX_CHARS


def test_empty_and_hostile_input() -> None:
    assert customer_words("", "") == ""
    assert own_part("\r\n\r\n>>>\x00\n-- ") == ""
    assert own_part("Fehler\x00\ufeff in der Rechnung") == "Fehler\x00\ufeff in der Rechnung"
    assert customer_words("Re:", "> only a quote") == ""


def test_messages_without_customer_words_are_not_classified() -> None:
    from hub.events.mail import EmailReceived
    from hub.events.notes import NoteAdded
    from policies.classifier.policy import message_of

    only_quote = EmailReceived(sender="a@b.example", subject="AW:", text="> Ihr Angebot\n-- \nX")
    assert message_of(only_quote) is None
    note = NoteAdded(note_id="n1", contact_id="c-1", text="Kunde sehr verärgert: Lieferung fehlt")
    assert message_of(note) is not None and message_of(note).contact_id == "c-1"  # type: ignore[union-attr]
    huge = EmailReceived(sender="a@b.example", subject="x", text="ä" * 1_000_000)
    assert len(message_of(huge).text) <= 2000  # type: ignore[union-attr]
    assert message_of(object()) is None
