"""Cloud PBX webhooks in the web server: sipgate.io, Placetel and Zammad-style CTI.

Each URL carries the secret token (``/telephony/<provider>/<token>``); a wrong token is a
404, checked before the body is read, and appends nothing. A request is answered only
after its events are committed, so a provider's retry after an error is safe (keys).
Calls whose hang-up never came are closed as "unknown" by a timer after the ring timeout.
Requests are limited per client address, under a cap for all clients together.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from adapters.telephony.connection import check_interval
from adapters.telephony.model import CallTracker, Signal
from adapters.telephony.ratelimit import ClientRateLimit
from adapters.telephony.recording import record_calls
from adapters.telephony.webhook_parsing import (
    MAX_BODY_BYTES,
    Fields,
    WebhookBodyError,
    placetel_signal,
    read_body,
    sipgate_number,
    sipgate_reply,
    sipgate_signal,
)
from hub.capture import Capture

log = logging.getLogger(__name__)

WEBHOOK_SOURCE = "telephony-webhooks"

Parser = Callable[[Fields, datetime], Signal | None]
PROVIDERS: dict[str, Parser] = {
    "sipgate": sipgate_signal,
    "placetel": placetel_signal,
    "cti": sipgate_signal,  # Zammad's generic CTI follows sipgate's fields
}
# How a provider writes numbers, where its documentation leaves no doubt; the others are
# read as phone systems send them (hub.phone.readings: Zammad documents both forms).
NUMBER_FORMATS: dict[str, Callable[[str], str]] = {"sipgate": sipgate_number}


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an unset token never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class WebhookIntake:
    """Turns provider webhooks into call events, one call tracker per provider.

    It is also the adapter of the webhooks: `run` is the timer that closes calls whose
    hang-up never came, as the TCP drivers do, whether or not another request arrives.
    """

    name = WEBHOOK_SOURCE
    lease_scope = None  # runs wherever the web app takes the providers' requests

    def __init__(
        self,
        token: str,
        normalize: Callable[[str], str | None],
        *,
        ring_timeout: float = 300.0,
        base_url: str | None = None,
        limit: ClientRateLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.limit = limit or ClientRateLimit()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.trackers = {
            name: CallTracker(
                name, _in_format(normalize, name), ring_timeout=ring_timeout, clock=clock
            )
            for name in PROVIDERS
        }

    def router(self, capture: Capture) -> APIRouter:
        """The webhook endpoint, recording through `capture`."""
        router = APIRouter(prefix="/telephony", tags=["telephony"])

        @router.post("/{provider}/{token}", include_in_schema=False)
        async def webhook(provider: str, token: str, request: Request) -> Response:
            self.limit.check(request.client.host if request.client else None)
            if provider not in PROVIDERS or not token_matches(token, self.token):
                raise HTTPException(status_code=404)
            return await self.receive(capture, provider, request)

        return router

    async def run(self, capture: Capture) -> None:
        """Closes calls left ringing (or running) past the timeout, until cancelled."""
        interval = check_interval(next(iter(self.trackers.values())))
        # Ready as soon as the web serves the endpoints, not only after a first request.
        capture.health.set("ok", providers=", ".join(self.trackers))
        while True:
            await asyncio.sleep(interval)
            await self.expire(capture)

    async def expire(self, capture: Capture) -> int:
        """One turn of the timer: records overdue calls as ended "unknown"."""
        overdue = [c for tracker in self.trackers.values() for c in tracker.expire()]
        return await record_calls(capture, overdue)

    async def receive(self, capture: Capture, provider: str, request: Request) -> Response:
        """Parses, records, and answers in the provider's format."""
        try:
            body = await _limited_body(request)
            fields = read_body(body, request.headers.get("content-type", ""))
            signal = PROVIDERS[provider](fields, datetime.now(UTC))
        except WebhookBodyError as err:
            log.warning("%s webhook refused: %s", provider, err)
            capture.health.set("ok", last_refused=f"{provider}: {err}")
            return PlainTextResponse(f"bad request: {err}\n", status_code=400)
        tracker = self.trackers[provider]
        await record_calls(capture, tracker.feed(signal) if signal else [])
        capture.health.set("ok", open_calls=tracker.open_calls)
        if provider == "sipgate" and fields.get("event") == ["newCall"]:
            url = f"{self.base_url or str(request.base_url).rstrip('/')}{request.url.path}"
            return Response(sipgate_reply(url), media_type="application/xml")
        if provider == "cti":
            return JSONResponse({})
        return Response(status_code=200)


def _in_format(
    normalize: Callable[[str], str | None], provider: str
) -> Callable[[str], str | None]:
    """`normalize` after the provider's own number format is made explicit."""
    explicit = NUMBER_FORMATS.get(provider)
    if explicit is None:
        return normalize
    return lambda raw: normalize(explicit(raw))


async def _limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise WebhookBodyError(f"body over {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise WebhookBodyError(f"body over {MAX_BODY_BYTES} bytes")
    return bytes(body)
