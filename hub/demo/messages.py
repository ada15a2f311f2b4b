"""The demo's mail and faxes as the firm's mail server and FRITZ!Box would deliver them."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from hub.demo import firm
from hub.demo.fax_pdf import text_pdf
from hub.demo.script import Fax, Mail


@dataclass(frozen=True, slots=True)
class Delivery:
    """One SMTP transaction: envelope sender, recipient, and the message's bytes."""

    mail_from: str
    rcpt_to: str
    data: bytes


def delivery(item: Mail | Fax) -> Delivery:
    if isinstance(item, Fax):
        return Delivery(f"fritzbox@{firm.DOMAIN}", firm.FAX_ADDRESS, fax_message(item))
    return Delivery(item.sender, item.to, mail_message(item))


def mail_message(mail: Mail) -> bytes:
    msg = _headers(mail.message_id, mail.at, mail.subject)
    msg["From"] = _address(mail.sender_name, mail.sender)
    msg["To"] = _address(mail.to_name, mail.to)
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
        msg["References"] = mail.in_reply_to
    msg.set_content(mail.body)
    return _wire(msg)


def fax_message(fax: Fax) -> bytes:
    """A FRITZ!Box fax-to-mail: who sent it in subject and body, the fax as a PDF."""
    msg = _headers(fax.message_id, fax.at, f"Fax von {fax.number} an {firm.FAX_LINE}")
    msg["From"] = _address("FRITZ!Box", f"fritzbox@{firm.DOMAIN}")
    msg["To"] = firm.FAX_ADDRESS
    msg.set_content(
        "Ihre FRITZ!Box hat ein Fax empfangen.\n"
        f"Absender: {fax.number}\nEmpfänger: {firm.FAX_LINE}\n1 Seite\n\nAVM FRITZ!Box 7590\n"
    )
    document = text_pdf([fax.title, "", *_wrapped(fax.text)])
    name = f"Fax-{fax.at:%Y%m%d-%H%M}.pdf"
    msg.add_attachment(document, maintype="application", subtype="pdf", filename=name)
    return _wire(msg)


def _headers(message_id: str, at: object, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(at)  # type: ignore[arg-type]
    msg["Subject"] = subject
    return msg


def _address(name: str, address: str) -> Address:
    user, _, domain = address.partition("@")
    return Address(name, user, domain)


def _wire(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # SMTP speaks CRLF


def _wrapped(text: str, width: int = 70) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines
