"""Builds the fax intake, its SMTP listener and the OCR retry policy from the settings."""

from __future__ import annotations

from adapters.fax.intake import FaxIntake, FaxRules, FaxSmtpIntake
from adapters.fax.profiles import load_profiles
from adapters.fax.retry import FaxOcrPolicy
from adapters.mail.build import archive_of
from adapters.mail.smtp import IntakeRules
from hub.capture import Adapter
from hub.policy import Policy
from hub.settings import Settings


def fax_rules(settings: Settings) -> FaxRules:
    fax = settings.fax
    path = fax.providers_file
    if path is not None and not path.is_absolute() and settings.source is not None:
        path = settings.source.parent / path
    return FaxRules(
        profiles=load_profiles(path),
        languages=fax.ocr_languages,
        max_attachment_bytes=fax.max_attachment_bytes,
        ocr=fax.ocr,
        region=settings.contacts.default_region,
        own_area_code=settings.contacts.own_area_code or None,
    )


def fax_adapters(settings: Settings) -> list[Adapter]:
    """The fax SMTP listener, when [fax] is enabled."""
    fax = settings.fax
    if not fax.enabled:
        return []
    rules = IntakeRules.of(fax.accept_recipients, fax.client_networks, fax.max_message_bytes)
    intake = FaxIntake(archive_of(settings), fax_rules(settings))
    return [FaxSmtpIntake(fax.host, fax.port, rules, intake)]  # type: ignore[arg-type]


def fax_policies(settings: Settings) -> list[Policy]:
    """OCR for faxes captured with OCR pending, when [fax] is enabled."""
    if not settings.fax.enabled:
        return []
    return [FaxOcrPolicy(archive_of(settings), settings.fax.ocr_languages)]
