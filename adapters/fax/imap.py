"""Faxes from an IMAP folder (e.g. "Fax", where the mail server files fax-to-email).

Reuses the email capture's folder sync (UID checkpoint committed with the events, exactly
once), with the fax intake behind it. Only the one folder is read; its checkpoint is kept
under ``fax-<account>`` so the email capture of the same account is unaffected.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from adapters.fax.intake import FaxIntake
from adapters.imap import client
from adapters.imap.adapter import PASSING_OR_GROUP, passing_error
from adapters.imap.sync import sync_folder
from hub.capture import Capture
from hub.settings import ImapAccount

log = logging.getLogger(__name__)
MAX_BACKOFF = 300.0


class FaxImapFolder:
    """Polls one folder of one account and captures each message there as a fax."""

    def __init__(
        self, account: ImapAccount, folder: str, intake: FaxIntake, poll_seconds: float = 60
    ) -> None:
        self.account = account
        self.folder = folder
        self.intake = intake
        self.poll_seconds = poll_seconds
        self.name = f"fax-imap:{account.name}"
        self.passes = 0
        self.synced = asyncio.Event()  # set after each pass

    async def run(self, capture: Capture) -> None:
        backoff = 1.0
        while True:
            try:
                await self._session(capture)
            except PASSING_OR_GROUP as caught:
                # A dropped connection or a full archive disk: wait, then go on from the
                # checkpoint (see adapters/imap/adapter.py); anything else is the supervisor's.
                err = passing_error(caught)
                if err is None:
                    raise
                message = f"{type(err).__name__}: {err}"
                log.warning("%s: %s; retrying in %.0f s", self.name, message, backoff)
                capture.health.set("degraded", message, reconnect_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _session(self, capture: Capture) -> None:
        imap = await asyncio.to_thread(client.connect, self.account)
        try:
            while True:
                intake: Any = self.intake  # the mail intake's interface (prepare_many)
                account = f"fax-{self.account.name}"
                result = await sync_folder(imap, account, self.folder, intake, capture)
                self.passes += 1
                capture.health.set("ok", folder=self.folder, captured=result.captured)
                self.synced.set()
                await asyncio.sleep(self.poll_seconds)  # polling: fax folders are quiet
        finally:
            await asyncio.to_thread(client.logout, imap)
