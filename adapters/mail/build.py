"""Email capture built from the `[mail]` settings (called by hub/bootstrap.py)."""

from __future__ import annotations

from adapters.mail.pipeline import MailIntake, MailRules
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from adapters.mail.smtp_auth import smtp_security
from hub.archive import Archive
from hub.capture import Adapter
from hub.settings import Settings


def archive_of(settings: Settings) -> Archive:
    return Archive(settings.data_dir / "archive")


def mail_rules(settings: Settings) -> MailRules:
    section = settings.mail
    return MailRules(
        own_addresses=frozenset(a.lower() for a in section.own_addresses),
        own_domains=frozenset(d.lower().lstrip("@") for d in section.own_domains),
        skip_internal=section.skip_internal,
        exclude_senders=frozenset(a.lower() for a in section.exclude_senders),
        exclude_domains=frozenset(d.lower().lstrip("@") for d in section.exclude_domains),
        region=settings.contacts.default_region,
        own_area_code=settings.contacts.own_area_code or None,
    )


def mail_intake(settings: Settings) -> MailIntake:
    return MailIntake(archive_of(settings), mail_rules(settings))


def mail_adapters(settings: Settings) -> list[Adapter]:
    """The SMTP intake (when enabled) and one IMAP adapter per configured account."""
    from adapters.imap.adapter import ImapAccountCapture

    intake = mail_intake(settings)
    adapters: list[Adapter] = []
    smtp = settings.mail.smtp
    if smtp.enabled:
        rules = IntakeRules.of(smtp.accept_recipients, smtp.client_networks, smtp.max_message_bytes)
        security = smtp_security(smtp)
        adapters.append(SmtpJournalIntake(smtp.host, smtp.port, rules, intake, security=security))
    adapters.extend(ImapAccountCapture(account, intake) for account in settings.mail.imap)
    return adapters
