"""Sends alert messages to staff chats through the Telegram Bot API.

python-telegram-bot's `Bot` is used with its manual lifecycle (initialize/shutdown) so it
shares Kartei's event loop; `base_url` points it at another Bot API server (tests use a
local one). Errors are translated at this boundary: a 429 becomes `RateLimited` with the
server's retry_after, transport failures `ConnectionError` (both retried by the caller),
a refused chat or bad request `PermanentSendError` (retrying will not help).
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

MAX_TEXT = 4096  # Telegram's limit for one message


class RateLimited(ConnectionError):
    """The server asked us to wait before sending again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited: retry after {retry_after:g}s")
        self.retry_after = retry_after


class PermanentSendError(ValueError):
    """The alert cannot be delivered this way (unknown chat, blocked bot, bad token)."""


class TelegramChannel:
    """Alerts by Telegram, to each staff member's chat id."""

    name = "telegram"

    def __init__(self, token: str, base_url: str = "https://api.telegram.org/bot") -> None:
        request = HTTPXRequest(connect_timeout=5.0, read_timeout=10.0, write_timeout=10.0)
        self._bot = Bot(token, base_url=base_url, request=request)
        self._ready = False

    def address(self, staff: Any) -> str | None:
        chat = getattr(staff, "telegram_chat_id", None)
        return str(chat) if chat is not None else None

    async def send(self, address: str, subject: str, text: str) -> None:
        """Sends one message; raises RateLimited, ConnectionError or PermanentSendError."""
        message = f"{subject}\n\n{text}"[:MAX_TEXT]
        try:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True
            await self._bot.send_message(chat_id=int(address), text=message)
        except RetryAfter as err:
            raise RateLimited(_retry_after(err)) from err
        except (BadRequest, Forbidden, InvalidToken) as err:
            raise PermanentSendError(f"telegram refused chat {address}: {err}") from err
        except NetworkError as err:  # includes TimedOut
            raise ConnectionError(f"telegram unreachable: {err}") from err

    async def close(self) -> None:
        if self._ready:
            await self._bot.shutdown()
            self._ready = False


def _retry_after(err: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that int periods become timedeltas
        warnings.simplefilter("ignore")
        value = err.retry_after
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
