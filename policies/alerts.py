"""Whenever a customer is at risk (or a key customer complains), tell the right person.

Each alert goes to the contact's owner (or the configured fallback staff) over every
channel that person has (Telegram chat, email). Every delivery is recorded as AlertSent
under a key made of the cause, channel and recipient, and checked before sending, so a
restart never sends an alert twice. A failed send is retried with exponential backoff
(honouring a server's retry-after) and shows in health; when the retries run out the
policy fails at its checkpoint and the supervisor restarts it later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hub.events import Metadata, NewEvent, Recorded
from hub.events.classification import AlertSent, CustomerAtRisk, MessageClassified
from hub.health import ComponentHealth
from hub.policy import Reaction
from hub.store import ANY, EventStore
from projections.risk_reason import reason_in

log = logging.getLogger(__name__)


class Channel(Protocol):
    """A way to reach staff. `send` raises ConnectionError to be retried (with an optional
    `retry_after` in seconds) and ValueError when retrying cannot help."""

    name: str

    def address(self, staff: Any) -> str | None: ...

    async def send(self, address: str, subject: str, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Card:
    """What an alert says about a customer."""

    contact_id: str
    name: str
    owner: str | None = None
    tags: tuple[str, ...] = ()
    # Channels the customer asked not to be contacted on (ConsentRecorded: blocked).
    blocked: tuple[str, ...] = ()


Describe = Callable[[str], Awaitable[Card]]


class Deliverer:
    """Sends alerts over channels exactly once each, retrying transient failures."""

    def __init__(
        self,
        store: EventStore,
        channels: Sequence[Channel],
        health: ComponentHealth,
        *,
        initial_delay: float = 5.0,
        max_delay: float = 900.0,
        attempts: int = 6,
    ) -> None:
        self.store = store
        self.channels = list(channels)
        self.health = health
        self.initial_delay, self.max_delay, self.attempts = initial_delay, max_delay, attempts
        self.sent = 0

    async def deliver(
        self,
        key: str,
        recipients: Sequence[Any],
        subject: str,
        text: str,
        *,
        contact_id: str | None = None,
        cause_position: int | None = None,
    ) -> int:
        """Sends to every recipient on every channel they have; returns how many went out."""
        count = 0
        for staff in recipients:
            for channel in self.channels:
                address = channel.address(staff)
                if not address:
                    continue
                alert_key = f"{key}:{channel.name}:{staff.name}"
                stream = f"alert-{alert_key}"
                if await self.store.read_stream(stream):
                    continue  # sent before a restart
                try:
                    await self._send(channel, address, subject, text)
                except ValueError as err:
                    log.error("alert %s not deliverable: %s", alert_key, err)
                    self.health.set("degraded", f"{channel.name}: {err}")
                    continue
                event = AlertSent(
                    alert_key=alert_key,
                    channel=channel.name,
                    recipient=staff.name,
                    contact_id=contact_id,
                    cause_position=cause_position,
                    subject=subject,
                )
                meta = Metadata(source="alerts", causation_id=str(cause_position))
                await self.store.append(stream, ANY, [NewEvent(event, f"alert:{alert_key}", meta)])
                count += 1
        self.sent += count
        return count

    async def _send(self, channel: Channel, address: str, subject: str, text: str) -> None:
        delay = self.initial_delay
        for attempt in range(1, self.attempts + 1):
            try:
                await channel.send(address, subject, text)
            except ConnectionError as err:
                if attempt == self.attempts:
                    self.health.set(
                        "degraded", f"{channel.name}: {err} (gave up after {attempt} attempts)"
                    )
                    raise
                wait = min(float(getattr(err, "retry_after", 0) or delay), self.max_delay)
                self.health.set(
                    "degraded",
                    f"{channel.name}: {err}; retry {attempt} in {wait:g}s",
                    retries=self.health.details.get("retries", 0) + 1,
                )
                await asyncio.sleep(wait)  # backoff before the next attempt, not a test wait
                delay = min(delay * 2, self.max_delay)
            else:
                self.health.set("ok", sent=self.sent + 1)
                return

    async def close(self) -> None:
        for channel in self.channels:
            close = getattr(channel, "close", None)
            if close is not None:
                await close()


TEXTS = {
    "de": {
        "risk": "Kunde gefährdet: {name}",
        "complaint": "Beschwerde von Schlüsselkunde {name}",
        "task": "Bitte einen freundlichen Brief schreiben oder persönlich anrufen.",
        "blocked": "Achtung, keine Kontaktaufnahme per {channels}: der Kunde hat widersprochen.",
        "email": "E-Mail",
        "phone": "Telefon",
        "fax": "Fax",
        "letter": "Brief",
    },
    "en": {
        "risk": "Customer at risk: {name}",
        "complaint": "Complaint from key customer {name}",
        "task": "Please write a kind letter or call personally.",
        "blocked": "Note: do not contact by {channels}; the customer objected.",
        "email": "email",
        "phone": "phone",
        "fax": "fax",
        "letter": "letter",
    },
}


class AlertPolicy:
    """Alerts the owner on CustomerAtRisk and, if configured, on key customers' complaints."""

    name = "alerts"
    version = 1
    event_types = ("CustomerAtRisk", "MessageClassified")

    def __init__(
        self,
        deliverer: Deliverer,
        describe: Describe,
        staff: Sequence[Any],
        *,
        fallback: Sequence[str] = (),
        key_customer_tag: str = "",
        card_url: Callable[[str], str] = lambda contact_id: f"/contacts/{contact_id}",
        language: str = "de",
    ) -> None:
        self.deliverer = deliverer
        self.describe = describe
        self.staff = {s.name: s for s in staff}
        self.fallback = [self.staff[n] for n in fallback if n in self.staff]
        self.key_customer_tag = key_customer_tag
        self.card_url = card_url
        self.texts = TEXTS.get(language, TEXTS["en"])
        self.language = language if language in TEXTS else "en"

    async def react(self, batch: Sequence[Recorded]) -> list[Reaction]:
        for r in batch:
            match r.event:
                case CustomerAtRisk(contact_id=contact_id, owner=owner) as at_risk:
                    card = await self.describe(contact_id)
                    subject = self.texts["risk"].format(name=card.name)
                    reason = reason_in(self.language, at_risk.reason_values, at_risk.reason)
                    task = self.texts["task"]
                    if card.blocked:
                        names = ", ".join(self.texts.get(c, c) for c in card.blocked)
                        task += "\n" + self.texts["blocked"].format(channels=names)
                    body = f"{card.name}: {reason}.\n{task}\n{self.card_url(contact_id)}"
                    await self._send(r, card, owner or card.owner, subject, body)
                case MessageClassified(label="complaint", contact_id=str() as contact_id) if (
                    self.key_customer_tag
                ):
                    card = await self.describe(contact_id)
                    if self.key_customer_tag in card.tags:
                        subject = self.texts["complaint"].format(name=card.name)
                        body = f"{subject}.\n{self.card_url(contact_id)}"
                        await self._send(r, card, card.owner, subject, body)
        return []

    async def _send(
        self, r: Recorded, card: Card, owner: str | None, subject: str, body: str
    ) -> None:
        recipients = [self.staff[owner]] if owner in self.staff else self.fallback
        if not recipients:
            log.warning("alert for %s: nobody to tell (no owner, no fallback)", card.contact_id)
            return
        await self.deliverer.deliver(
            str(r.position),
            recipients,
            subject,
            body,
            contact_id=card.contact_id,
            cause_position=r.position,
        )
