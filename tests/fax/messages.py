"""Provider-style fax emails (FRITZ!Box, sipgate, Placetel, HylaFAX, anything else)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def fax_email(
    sender: str,
    subject: str,
    body: str,
    document: bytes,
    name: str,
    content_type: str = "application/pdf",
    *,
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "fax@firma.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 12, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="fax.example")
    msg.set_content(body)
    maintype, subtype = content_type.split("/")
    msg.add_attachment(document, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # SMTP wants CRLF


def fritzbox(
    document: bytes, name: str = "Fax-Eingang.pdf", ctype: str = "application/pdf"
) -> bytes:
    return fax_email(
        "FRITZ!Box <fritzbox@firma.example>",
        "Fax von 0221 987654 an 030 5550 99",
        "Ihre FRITZ!Box hat ein Fax empfangen.\nAbsender: 0221 987654\n"
        "Empfänger: 030 5550 99\n2 Seiten\n\nAVM FRITZ!Box 7590",
        document,
        name,
        ctype,
    )


def sipgate(document: bytes) -> bytes:
    return fax_email(
        "sipgate <noreply@sipgate.de>",
        "Fax von +49 89 1234560",
        "Hallo,\nSie haben ein Fax von +49 89 1234560 an Ihre Faxnummer +49 30 555099 "
        "erhalten.\nSeiten: 2\nIhr sipgate Team",
        document,
        "fax-20260312.pdf",
    )


def placetel(document: bytes) -> bytes:
    return fax_email(
        "Placetel <fax@placetel.de>",
        "Neues Fax von 040 7654321",
        "Von: 040 7654321\nAn: 030 555099\nSeiten: 2\n",
        document,
        "Fax_040_7654321.pdf",
    )


def hylafax(document: bytes, name: str = "fax000000123.tif") -> bytes:
    """Laid out as faxrcvd's English template (tests/fax/faxrcvd.py runs the real one)."""
    queued = "recvq/fax000000123.tif"
    return fax_email(
        "HylaFAX Agent <fax@hylafax.firma.example>",
        'Fax received from "+44 20 79460000"',
        f"{queued} (ftp://hylafax.firma.example:4559/{queued}):\n"
        "          Sender: +44 20 79460000\n           Pages: 1\n         Quality: Normal\n"
        "         CallID1: +44 20 79460000\n         CallID2: 030555099\n"
        "     Received On: ttyS0\n",
        document,
        name,
        "image/tiff",
    )


def generic(document: bytes, name: str, ctype: str = "application/pdf") -> bytes:
    return fax_email(
        "Faxdienst <service@faxanbieter.example>",
        "Eingegangenes Telefax",
        "Telefax von 0221 987654 empfangen.",
        document,
        name,
        ctype,
    )
