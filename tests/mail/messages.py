"""Test messages written for the suite (the real-world corpus is in shared/corpus)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime


def simple(
    n: int = 1,
    *,
    sender: str = "Kunde Müller <mueller@kunde.example>",
    to: str = "info@firma.example",
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = "default",
    attachment: bytes | None = None,
    html: str | None = None,
) -> bytes:
    """A plain message; `message_id="default"` gives a unique id per `n`."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject if subject is not None else f"Anfrage Nummer {n}"
    msg["Date"] = format_datetime(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    if message_id == "default":
        msg["Message-ID"] = f"<msg-{n}@kunde.example>"
    elif message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body if body is not None else f"Guten Tag,\nBitte um Rückruf ({n}).\n")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="Rechnung März.pdf"
        )
    return msg.as_bytes()


def html_only() -> bytes:
    msg = EmailMessage()
    msg["From"] = "shop@laden.example"
    msg["To"] = "info@firma.example"
    msg["Subject"] = "=?iso-8859-1?q?Bestellbest=E4tigung?="
    msg["Message-ID"] = "<html-only@laden.example>"
    msg.set_content(
        "<html><head><style>p{}</style></head><body><p>Ihre <b>Bestellung</b></p>"
        "<script>alert(1)</script><p>ist unterwegs</p></body></html>",
        subtype="html",
    )
    return msg.as_bytes()


CP1252 = (
    b"From: =?windows-1252?q?J=FCrgen_Wei=DF?= <jw@alt.example>\r\n"
    b"To: info@firma.example\r\n"
    b"Subject: Beschwerde =?x-unknown?q?=E4rger?=\r\n"
    b"Message-ID: <cp1252@alt.example>\r\n"
    b"Content-Type: text/plain; charset=x-mac-unknown\r\n"
    b"\r\n"
    b"Sehr geehrte Damen und Herren, \x93\xe4rgerlich\x94.\r\n"
    b"--\r\nJ\xfcrgen Wei\xdf\r\nTel.: 030 1234567\r\nFax: +49 (30) 1234568\r\n"
)

CALENDAR = (
    b"From: chef@partner.example\r\nTo: info@firma.example\r\nSubject: Termin\r\n"
    b"Message-ID: <cal@partner.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    b"--b1\r\nContent-Type: text/plain\r\n\r\nEinladung\r\n"
    b"--b1\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
    b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    b"--b1\r\nContent-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"eJ8+IgEAAA==\r\n--b1--\r\n"
)

BOUNCE = (
    b"From: MAILER-DAEMON@mx.example\r\nTo: info@firma.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce@mx.example>\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
    b"--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
    b"--r\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n"
    b"--r\r\nContent-Type: message/rfc822\r\n\r\n"
    b"From: info@firma.example\r\nSubject: x\r\n\r\nhi\r\n"
    b"--r--\r\n"
)


def huge_header() -> bytes:
    return (
        b"From: a@b.example\r\nTo: info@firma.example\r\nSubject: "
        + b"x" * 200_000
        + b"\r\nX-Long: "
        + b"y " * 100_000
        + b"\r\n\r\nbody\r\n"
    )
