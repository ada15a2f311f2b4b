"""Sends alert mails through an SMTP server (stdlib smtplib, in a worker thread).

Temporary failures (connection refused, 4xx answers) raise `ConnectionError` so the caller
retries with backoff; permanent ones (5xx, refused recipient) raise `PermanentSendError`.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from adapters.telegram.client import PermanentSendError


class EmailChannel:
    """Alerts by email, to each staff member's address."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str = "kartei@localhost",
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._login = (username, password) if username else None
        self._starttls = starttls
        self._timeout = timeout

    def address(self, staff: Any) -> str | None:
        return getattr(staff, "email", None) or None

    async def send(self, address: str, subject: str, text: str) -> None:
        """Sends one mail; raises ConnectionError (retry) or PermanentSendError."""
        message = EmailMessage()
        # Names in the subject come from strangers' mail: no line breaks into the header.
        subject = " ".join(subject.split())[:200]
        message["From"], message["To"], message["Subject"] = self.sender, address, subject
        message["Message-ID"] = make_msgid(domain="kartei.local")
        message.set_content(text)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as smtp:
                smtp.ehlo()
                if self._starttls and smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                if self._login:
                    smtp.login(*self._login)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as err:
            raise PermanentSendError(f"mail server refused {message['To']}: {err}") from err
        except smtplib.SMTPResponseException as err:
            if 400 <= err.smtp_code < 500:
                raise ConnectionError(f"mail server deferred: {err.smtp_code}") from err
            raise PermanentSendError(f"mail server refused: {err.smtp_code} {err}") from err
        except (OSError, smtplib.SMTPException) as err:
            raise ConnectionError(f"mail server unreachable: {err}") from err

    async def close(self) -> None:
        return None
