"""Builds the fax intake, its SMTP listener and the OCR retry policy from the settings."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.fax.imap import FaxImapFolder
from adapters.fax.intake import FaxIntake, FaxRouteHealth, FaxRules, FaxSmtpIntake, fax_route
from adapters.fax.profiles import ProfileError, load_profiles
from adapters.fax.retry import FaxOcrPolicy
from adapters.mail.build import archive_of
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from hub.capture import Adapter
from hub.policy import Policy
from hub.settings import ConfigError, Settings


def fax_rules(settings: Settings) -> FaxRules:
    fax = settings.fax
    path = fax.providers_file
    if path is not None and not path.is_absolute() and settings.source is not None:
        path = settings.source.parent / path
    try:
        profiles = load_profiles(path)
    except ProfileError as err:
        raise ConfigError(f"[fax] providers_file: {err}") from err
    return FaxRules(
        profiles=profiles,
        languages=fax.ocr_languages,
        max_attachment_bytes=fax.max_attachment_bytes,
        ocr=fax.ocr,
        region=settings.contacts.default_region,
        own_area_code=settings.contacts.own_area_code or None,
    )


def fax_adapters(settings: Settings, mail: Sequence[Adapter] = ()) -> list[Adapter]:
    """The fax SMTP intake (own listener or a route on the mail listener in `mail`) and
    the IMAP fax folder, when [fax] is enabled."""
    fax = settings.fax
    if not fax.enabled:
        return []
    archive, read = archive_of(settings), fax_rules(settings)
    adapters: list[Adapter] = []
    if fax.smtp_listener == "own":
        rules = IntakeRules.of(fax.accept_recipients, fax.client_networks, fax.max_message_bytes)
        intake = FaxIntake(archive, read)
        adapters.append(FaxSmtpIntake(fax.host, fax.port, rules, intake))  # type: ignore[arg-type]
    elif fax.smtp_listener == "mail":
        _route_on_mail_listener(settings, mail, FaxIntake(archive, read))
        adapters.append(FaxRouteHealth(fax.accept_recipients, fax.ocr_languages))
    if fax.imap_folder:
        accounts = {a.name: a for a in settings.mail.imap}
        if fax.imap_account not in accounts:
            raise ConfigError(f"[fax] imap_account {fax.imap_account!r}: no such [[mail.imap]]")
        intake = FaxIntake(archive, read, mailbox=None)
        account = accounts[fax.imap_account]
        adapters.append(FaxImapFolder(account, fax.imap_folder, intake, fax.imap_poll_seconds))
    return adapters


def _route_on_mail_listener(settings: Settings, mail: Sequence[Adapter], intake: FaxIntake) -> None:
    listeners = [a for a in mail if isinstance(a, SmtpJournalIntake)]
    if not listeners:
        raise ConfigError('[fax] smtp_listener = "mail" needs [mail.smtp] enabled = true')
    if not settings.fax.accept_recipients:
        raise ConfigError(
            '[fax] smtp_listener = "mail" needs accept_recipients (the fax addresses)'
        )
    listeners[0].routes.append(fax_route(settings.fax.accept_recipients, intake))


def fax_policies(settings: Settings) -> list[Policy]:
    """OCR for faxes captured with OCR pending, when [fax] is enabled."""
    if not settings.fax.enabled:
        return []
    return [FaxOcrPolicy(archive_of(settings), settings.fax.ocr_languages)]
