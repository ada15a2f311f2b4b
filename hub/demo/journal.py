"""The firm's mail server journaling every mail in and out (and the FRITZ!Box's fax mails)
to Kartei's SMTP intake, over one connection with the standard library's smtplib.

Blocking: the seeding runs it in a worker thread while Kartei's event loop serves the
intake. Each message is sent only after the previous one was answered 250, which the
intake says only once the message is committed.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence

from hub.demo.messages import Delivery

TIMEOUT = 60.0


def journal(host: str, port: int, deliveries: Sequence[Delivery]) -> int:
    """Delivers the messages in order; returns how many the intake accepted."""
    with smtplib.SMTP(host, port, local_hostname="mail.hansen-buero.de", timeout=TIMEOUT) as smtp:
        for item in deliveries:
            smtp.sendmail(item.mail_from, [item.rcpt_to], item.data)
    return len(deliveries)
