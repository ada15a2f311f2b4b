"""The SMTP journal intake: the firm's mail server BCCs or journals mail to Kartei.

A message is answered 250 only after its event is committed (invariant 3); a storage
problem is answered 451 so the sender keeps the message and retries; a permanent refusal
(client network, recipient, size) is a 5xx. Concurrent deliveries share one commit
(group commit), which is what makes several connections fast on SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

from adapters.mail.pipeline import MailIntake, Prepared
from adapters.mail.smtp_auth import SmtpSecurity
from adapters.mail.smtp_commit import GroupCommit
from adapters.mail.smtp_data import JournalSMTP
from hub.capture import Capture

log = logging.getLogger(__name__)
# aiosmtpd's logger: at INFO it writes every command line, every sender and every
# recipient, five records per delivery (docs/mail.md, SMTP).
_AIOSMTPD_LOG = logging.getLogger("mail.log")

MAILBOX = "smtp:journal"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """Who may deliver, to which recipients, how large."""

    accept_recipients: frozenset[str] = frozenset()  # empty: any
    client_networks: tuple[_Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),)
    max_message_bytes: int = 50 * 1024 * 1024

    @classmethod
    def of(cls, recipients: Sequence[str], networks: Sequence[str], size: int) -> IntakeRules:
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        return cls(frozenset(r.lower() for r in recipients), nets, size)

    def client_allowed(self, peer: Any) -> bool:
        try:
            address = ipaddress.ip_address(peer[0] if isinstance(peer, tuple) else peer)
        except (ValueError, TypeError, IndexError):
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in net for net in self.client_networks)


class Preparer(Protocol):
    """What a route's intake does: raw messages in, prepared events out (off the loop)."""

    async def prepare_many(self, raws: Sequence[tuple[bytes, str]]) -> list[Prepared]: ...


@dataclass(frozen=True, slots=True)
class Route:
    """Deliveries to these recipients go to another intake (the fax intake) on this listener."""

    recipients: frozenset[str]  # lower-case addresses
    intake: Preparer
    mailbox: str

    def takes(self, rcpt_tos: Sequence[str]) -> bool:
        return any(r.lower() in self.recipients for r in rcpt_tos)


class JournalHandler:
    """aiosmtpd hooks: refuse early, store on DATA, answer after commit."""

    def __init__(
        self,
        rules: IntakeRules,
        intake: MailIntake,
        capture: Capture,
        routes: Sequence[Route] = (),
    ) -> None:
        self.rules = rules
        self.intake = intake
        self.capture = capture
        self.routes = tuple(routes)
        self.accepted = 0
        # A MailIntake's deliveries are prepared in batches; another intake (the fax
        # listener's) prepares each delivery itself.
        batched = intake if isinstance(intake, MailIntake) else None
        self.deliveries = GroupCommit(batched, capture)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.rules.client_allowed(session.peer):
            return "554 5.7.1 Client host not allowed to deliver here"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.rules.client_allowed(session.peer):
            return "554 5.7.1 Client host not allowed to deliver here"
        accepted = self.rules.accept_recipients
        routed = any(route.takes([address]) for route in self.routes)
        if accepted and not routed and address.lower() not in accepted:
            return "550 5.1.1 Recipient not accepted by this journal intake"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self.rules.max_message_bytes:
            return "552 5.3.4 Message too big"
        try:
            route = self.route(envelope.rcpt_tos)
            if route is None and self.deliveries.intake is not None:
                await self.deliveries.store(raw, MAILBOX)
            else:
                intake, mailbox = (route.intake, route.mailbox) if route else (self.intake, MAILBOX)
                [item] = await intake.prepare_many([(raw, mailbox)])
                if item.event is not None:
                    await self.deliveries.commit(item)
        except Exception as err:  # storage trouble: the sender keeps the mail and retries
            trouble = storage_trouble(err)
            log.warning("journal intake could not store a message: %s", trouble)
            self.capture.health.set("degraded", f"storage: {trouble}")
            return "451 4.3.0 Temporary storage problem, try again later"
        self.accepted += 1
        health = self.capture.health
        if health.state == "degraded" and (health.error or "").startswith("storage:"):
            health.set("ok")  # storage works again (room was made); other warnings stay
        return "250 2.0.0 OK: stored"

    def route(self, rcpt_tos: Sequence[str]) -> Route | None:
        """The first route that any recipient matches takes the whole message; else None
        (the journal)."""
        return next((route for route in self.routes if route.takes(rcpt_tos)), None)


def _quiet_aiosmtpd() -> None:
    """aiosmtpd logs to warnings only, unless Kartei logs at DEBUG or someone set its level.

    Its INFO records cost the event loop five formatted log lines per delivery, and the
    addresses in them are personal data in a log, which erasure cannot reach (invariant
    8). Kartei's own records (storage trouble, 451) are not affected."""
    if _AIOSMTPD_LOG.level == logging.NOTSET and not log.isEnabledFor(logging.DEBUG):
        _AIOSMTPD_LOG.setLevel(logging.WARNING)


def storage_trouble(err: Exception) -> str:
    """What went wrong, in a line: SQLAlchemy's message for a failed statement carries the
    statement and its parameters (the event's columns), which belong neither in the log,
    once per refused delivery, nor on the health page, which is public."""
    cause = getattr(err, "orig", None) or err  # SQLAlchemy's: the driver's own error
    first = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {first[:200]}"


class SmtpJournalIntake:
    """The adapter: an aiosmtpd server inside Kartei's own event loop."""

    name = "smtp"
    lease_scope = "host"  # its port: one listener per machine

    def __init__(
        self,
        host: str,
        port: int,
        rules: IntakeRules,
        intake: MailIntake,
        routes: Sequence[Route] = (),
        *,
        security: SmtpSecurity | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.rules = rules
        self.intake = intake
        self.security = security or SmtpSecurity()
        self.routes = list(routes)  # the fax build adds its route before run()
        self.bound_port: int | None = None
        self.ready = asyncio.Event()
        self.handler: JournalHandler | None = None

    async def run(self, capture: Capture) -> None:
        async with self.intake.in_use():
            await self._serve(capture)

    async def _serve(self, capture: Capture) -> None:
        _quiet_aiosmtpd()
        handler = self.handler = JournalHandler(self.rules, self.intake, capture, self.routes)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: JournalSMTP(
                handler,
                data_size_limit=self.rules.max_message_bytes,
                enable_SMTPUTF8=True,
                decode_data=False,
                hostname="kartei",
                ident="Kartei journal intake",
                **self.security.server_options(),
            ),
            self.host,
            self.port,
        )
        self.bound_port = server.sockets[0].getsockname()[1]
        capture.health.set("ok", listening=f"{self.host}:{self.bound_port}")
        self.ready.set()
        committer = asyncio.create_task(handler.deliveries.run(), name="smtp-commit")
        try:
            async with server:
                await asyncio.gather(server.serve_forever(), committer)
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
            self.ready.clear()
