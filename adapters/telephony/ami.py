"""The Asterisk driver: a small, strict AMI client that logs in and follows call events.

A maintained asyncio AMI library (panoramisk) exists, but it reconnects and re-logs in on
its own schedule and reports a refused login through callbacks; Kartei needs both under
its own backoff and health, so this client is the ~100 lines the protocol actually takes.
"""

from __future__ import annotations

import asyncio
import logging

from adapters.telephony.ami_calls import AmiCallMapper, PbxLayout
from adapters.telephony.ami_parsing import AmiFramer, AmiProtocolError, Message, action
from adapters.telephony.connection import (
    RETRYABLE,
    Backoff,
    check_interval,
    close_quietly,
    expire_calls,
    keep_alive,
    received_before_stop,
)
from adapters.telephony.model import CallTracker
from adapters.telephony.recording import HeldCalls
from hub.capture import Capture

log = logging.getLogger(__name__)

LOGIN_TIMEOUT = 10.0
LOGIN_ID = "kartei-login"


class AmiLoginError(Exception):
    """Asterisk refused the login (wrong user or secret, or not permitted from here)."""


class AsteriskMonitor:
    """Follows one Asterisk server's call events; reconnects and re-logs in with backoff."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        username: str,
        secret: str,
        tracker: CallTracker,
        backoff: Backoff | None = None,
        layout: PbxLayout | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.tracker = tracker
        self.backoff = backoff or Backoff()
        # Only call events ("Events: call"): the AMI's own filter, so the PBX sends less.
        self._login = action("Login", LOGIN_ID, Username=username, Secret=secret, Events="call")
        self.logins = 0
        self.login_failures = 0
        # Kept across reconnects: a call that rang before a drop can end after it.
        self.mapper = AmiCallMapper(layout)
        self.calls = HeldCalls(f"Asterisk {host}")  # held when the store refuses them

    async def run(self, capture: Capture) -> None:
        async with asyncio.TaskGroup() as tasks:
            interval = check_interval(self.tracker)
            tasks.create_task(expire_calls(capture, self.tracker, interval, self.calls.record))
            tasks.create_task(self._connect_forever(capture))
            tasks.create_task(self.calls.retry(capture))

    async def _connect_forever(self, capture: Capture) -> None:
        where = f"{self.host}:{self.port}"
        while True:
            try:
                await self._session(capture)
                problem = "connection closed by Asterisk"
            except AmiLoginError as err:
                self.login_failures += 1
                problem = f"login to {where} refused: {err}"
                log.error("Asterisk %s", problem)
            except (*RETRYABLE, AmiProtocolError) as err:
                problem = f"connection to {where} failed: {err!r}"
                log.warning("Asterisk %s", problem)
            capture.health.set("degraded", problem)
            await asyncio.sleep(self.backoff.next())

    async def _session(self, capture: Capture) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), LOGIN_TIMEOUT
        )
        try:
            keep_alive(writer)
            framer = AmiFramer()
            pending = await asyncio.wait_for(self._log_in(reader, writer, framer), LOGIN_TIMEOUT)
            self.logins += 1
            self.backoff.reset()
            capture.health.set("ok", connected=f"{self.host}:{self.port}")
            await self._follow(capture, pending)
            try:
                while data := await reader.read(65536):
                    await self._follow(capture, framer.feed(data))
            except asyncio.CancelledError:
                await self._keep_the_rest(reader, framer, capture)
                raise
        finally:
            await close_quietly(writer)

    async def _keep_the_rest(
        self, reader: asyncio.StreamReader, framer: AmiFramer, capture: Capture
    ) -> None:
        """Kartei stops: Asterisk does not send its events again, so those it has sent are
        recorded. The stop goes on whatever happens here (it must not become a restart)."""
        try:
            await self._follow(capture, framer.feed(await received_before_stop(reader)))
        except Exception:
            log.exception("Asterisk %s: events received at the stop were not recorded", self.host)

    async def _log_in(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framer: AmiFramer
    ) -> list[Message]:
        """Sends Login after the greeting; returns messages that came after the answer."""
        sent = False
        while data := await reader.read(65536):
            messages = framer.feed(data)
            for i, m in enumerate(messages):
                if "greeting" in m and not sent:
                    writer.write(self._login)
                    await writer.drain()
                    sent = True
                elif m.get("actionid") == LOGIN_ID and "response" in m:
                    if m["response"].lower() != "success":
                        raise AmiLoginError(m.get("message") or m["response"])
                    return messages[i + 1 :]
        raise EOFError("Asterisk closed the connection during login")

    async def _follow(self, capture: Capture, messages: list[Message]) -> None:
        captured = [
            c
            for m in messages
            if "event" in m
            for signal in self.mapper.feed(m)
            for c in self.tracker.feed(signal)
        ]
        await self.calls.record(capture, captured)
        if self.calls.holding:
            return  # health says what is held
        # Calls that reached only phones are not recorded; a count that grows while no
        # inbound call appears means the trunks or inbound contexts are not configured.
        capture.health.set(
            "ok", open_calls=self.mapper.open_calls, internal_calls=self.mapper.internal_calls
        )
