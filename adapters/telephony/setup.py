"""Builds the telephony parts from the `[telephony]` settings (called by hub.bootstrap)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from adapters.telephony.ami import AsteriskMonitor
from adapters.telephony.ami_calls import PbxLayout
from adapters.telephony.fritzbox import FritzBoxMonitor
from adapters.telephony.lookup import NumberIndex, lookup_router
from adapters.telephony.model import CallTracker
from adapters.telephony.webhooks import WebhookIntake
from hub.capture import Adapter, Capture
from hub.health import HealthRegistry
from hub.phone import normalize, split_extension
from hub.settings import Settings
from hub.store import EventStore


def number_normalizer(settings: Settings) -> Callable[[str], str | None]:
    """E.164 for a number as phone systems send it, with the firm's region and area code."""
    region = settings.contacts.default_region
    area = settings.contacts.own_area_code or None

    def to_e164(raw: str) -> str | None:
        return normalize(split_extension(raw)[0], region, area)

    return to_e164


def telephony_adapters(settings: Settings) -> list[Adapter]:
    """One adapter per configured FRITZ!Box and Asterisk server, and the webhook intake
    (its timer; its endpoint comes from `telephony_routers`) when it has a token."""
    section = settings.telephony
    tz = ZoneInfo(settings.kartei.timezone)
    to_e164 = number_normalizer(settings)
    adapters: list[Adapter] = []
    for box in section.fritzbox:
        tracker = CallTracker(
            box.name, to_e164, ids_reused=True, ring_timeout=section.ring_timeout_seconds
        )
        adapters.append(FritzBoxMonitor(box.name, box.host, box.port, tracker, tz))
    for pbx in section.asterisk:
        tracker = CallTracker(pbx.name, to_e164, ring_timeout=section.ring_timeout_seconds)
        layout = PbxLayout.of(pbx.trunks, pbx.inbound_contexts)
        adapters.append(
            AsteriskMonitor(
                pbx.name, pbx.host, pbx.port, pbx.username, pbx.secret, tracker, layout=layout
            )
        )
    if section.webhook_token:
        adapters.append(
            WebhookIntake(
                section.webhook_token,
                to_e164,
                ring_timeout=section.ring_timeout_seconds,
                base_url=settings.web.base_url,
            )
        )
    return adapters


def telephony_routers(
    settings: Settings,
    store: EventStore,
    health: HealthRegistry,
    index: NumberIndex | None,
    adapters: Sequence[Adapter] = (),
) -> list[APIRouter]:
    """The endpoints of the webhook intake among `adapters`, and the caller lookup when it
    has a token."""
    section = settings.telephony
    routers: list[APIRouter] = []
    for intake in adapters:
        if isinstance(intake, WebhookIntake):
            health_of = health.component(f"adapter:{intake.name}")
            routers.append(intake.router(Capture(store, intake.name, health_of)))
    if section.lookup_token and index is not None:
        base_url = settings.web.base_url or ""
        routers.append(lookup_router(store.db, index, section.lookup_token, base_url))
    return routers
