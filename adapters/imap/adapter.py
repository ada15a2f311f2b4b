"""One IMAP account's capture: first sync, then IDLE (or polling), reconnecting as needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import UTC, datetime

from imapclient import IMAPClient

from adapters.imap import checkpoints, client
from adapters.imap.folders import SentFolders
from adapters.imap.sync import sync_folder
from adapters.mail.pipeline import MailIntake
from hub.archive import ArchiveError
from hub.capture import Capture
from hub.settings import ImapAccount

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
# Passing troubles the account waits out: a dropped connection, or an archive that cannot
# store (its disk full): the pass stops, its checkpoint stays before what is not stored,
# and the next try after the back-off captures it.
_PASSING: tuple[type[BaseException], ...] = (*client.TRANSPORT_ERRORS, ArchiveError)
PASSING_OR_GROUP: tuple[type[BaseException], ...] = (*_PASSING, ExceptionGroup)


class ImapAccountCapture:
    """Captures INBOX, the Sent folder and configured folders of one account."""

    def __init__(self, account: ImapAccount, intake: MailIntake) -> None:
        self.account = account
        self.intake = intake
        self.name = f"imap:{account.name}"
        self.passes = 0  # completed sync passes over all folders
        self.synced = asyncio.Event()  # set after each pass (tests and `capture status`)
        self.folders: dict[str, dict[str, object]] = {}
        self.sent: SentFolders | None = None  # found on the last connection
        self.missing: list[str] = []  # configured folders the server lacked then

    async def run(self, capture: Capture) -> None:
        async with self.intake.in_use():
            await self._run(capture)

    async def _run(self, capture: Capture) -> None:
        backoff = 1.0
        while True:
            try:
                await self._session(capture)
            except PASSING_OR_GROUP as caught:
                err = passing_error(caught)
                if err is None:
                    raise
                message = f"{type(err).__name__}: {err}"
                log.warning("%s: paused (%s); retrying in %.0f s", self.name, message, backoff)
                capture.health.set("degraded", message, reconnect_in=backoff)
                await self._record_error(capture, message)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                if self.passes:
                    backoff = min(backoff, 30.0)

    async def _session(self, capture: Capture) -> None:
        imap = await asyncio.to_thread(client.connect, self.account)
        try:
            found = await asyncio.to_thread(client.folders, imap, self.account)
            self.missing = found.missing
            if found.missing:
                log.warning("%s: %s", self.name, self._missing_warning())
            await self._found_sent(capture, found.sent)
            folders = found.names
            idle = self.account.idle and await asyncio.to_thread(client.has_idle, imap)
            while True:
                await self._pass(imap, folders, capture)
                wait = min(self.account.idle_seconds, self.account.poll_seconds)
                if idle:
                    await asyncio.to_thread(client.select, imap, "INBOX")
                    await asyncio.to_thread(client.idle_wait, imap, wait)
                else:
                    await asyncio.sleep(self.account.poll_seconds)  # polling fallback
        finally:
            _interrupt(imap)  # wakes a thread blocked in IDLE, so stopping is prompt
            await asyncio.to_thread(client.logout, imap)

    async def _pass(self, imap: IMAPClient, folders: list[str], capture: Capture) -> None:
        keywords = frozenset(self.account.exclude_keywords)
        for folder in folders:
            state = self.folders.setdefault(folder, {})

            def progress(
                name: str, done: int, total: int, state: dict[str, object] = state
            ) -> None:
                state.update(progress=f"{done}/{total}")
                self._report(capture, folders=self.folders)

            result = await sync_folder(
                imap,
                self.account.name,
                folder,
                self.intake,
                capture,
                since=self.account.since,
                exclude_keywords=keywords,
                progress=progress,
                remote_account=self.account,
            )
            state.update(
                last_sync=datetime.now(UTC).isoformat(timespec="seconds"),
                captured=int(state.get("captured", 0)) + result.captured,  # type: ignore[call-overload]
                skipped=int(state.get("skipped", 0)) + result.skipped,  # type: ignore[call-overload]
                progress=None,
                error=None,
            )
        self.passes += 1
        self._report(capture, folders=self.folders, passes=self.passes)
        self.synced.set()

    async def _found_sent(self, capture: Capture, sent: SentFolders) -> None:
        """Keeps, shows and records which Sent folder was found; a missing one is a
        warning in the log, in health and in `kartei capture status`."""
        self.sent = sent
        if sent.warning:
            log.warning("%s: %s", self.name, sent.warning)
        self._report(capture, sent_folders=list(sent.names), sent_found_by=sent.found_by)
        async with capture.transaction() as tx:
            await checkpoints.ensure_table(tx.connection)
            await checkpoints.save_sent(tx.connection, self.account.name, sent)

    def _report(self, capture: Capture, **details: object) -> None:
        """Health while connected: ok, or degraded with the warnings (capture runs, but
        sent mail or a configured folder is missing)."""
        found = [self.sent.warning if self.sent else None, self._missing_warning()]
        warning = "; ".join(w for w in found if w) or None
        capture.health.set("degraded" if warning else "ok", warning, warning=warning, **details)

    def _missing_warning(self) -> str | None:
        if not self.missing:
            return None
        names = ", ".join(f'"{name}"' for name in self.missing)
        return f"configured folders not on the server, NOT captured: {names}"

    async def _record_error(self, capture: Capture, message: str) -> None:
        """Shows the error on every folder (health and `kartei capture status`)."""
        for state in self.folders.values():
            state["error"] = message
        try:
            async with capture.transaction() as tx:
                await checkpoints.ensure_table(tx.connection)
                for folder in self.folders:
                    await checkpoints.record_error(
                        tx.connection, self.account.name, folder, message
                    )
        except Exception as err:  # the store may be what failed; health still shows it
            log.warning("%s: cannot record the error: %s", self.name, err)


def passing_error(caught: BaseException) -> BaseException | None:
    """The dropped connection (or archive that cannot store) behind `caught` (sync_folder's
    task group wraps it in an ExceptionGroup); None when anything else went wrong too."""
    if not isinstance(caught, BaseExceptionGroup):
        return caught
    dropped, rest = caught.split(_PASSING)
    if dropped is None or rest is not None:
        return None
    first: BaseException = dropped
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


def _interrupt(imap: IMAPClient) -> None:
    with contextlib.suppress(OSError, AttributeError):
        imap.socket().shutdown(socket.SHUT_RDWR)
