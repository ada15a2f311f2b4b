"""The alert channels the settings ask for: Telegram and/or email."""

from __future__ import annotations

from typing import Any

from adapters.alert_email.sender import EmailChannel
from adapters.telegram.client import TelegramChannel
from hub.settings import Settings


def alert_channels(settings: Settings) -> list[Any]:
    """A Telegram channel when a bot token is set, an email channel when an SMTP host is."""
    section = settings.alerts
    if not section.enabled:
        return []
    channels: list[Any] = []
    if section.telegram.bot_token:
        channels.append(TelegramChannel(section.telegram.bot_token, section.telegram.base_url))
    mail = section.email
    if mail.host:
        channels.append(
            EmailChannel(
                mail.host,
                mail.port,
                sender=mail.sender,
                username=mail.username,
                password=mail.password,
                starttls=mail.starttls,
            )
        )
    return channels
