"""Cloud PBX webhooks in the web server: sipgate.io, Placetel and Zammad-style CTI.

Each URL carries the secret token (``/telephony/<provider>/<token>``); a wrong token is a
404, checked before the body is read, and appends nothing. A request is answered only
after its events are committed, so a provider's retry after an error is safe (keys).
Calls whose hang-up never came are closed as "unknown" on the next request after the
ring timeout.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from adapters.telephony.model import CallTracker, Signal
from adapters.telephony.ratelimit import RateLimit
from adapters.telephony.recording import record_calls
from adapters.telephony.webhook_parsing import (
    MAX_BODY_BYTES,
    Fields,
    WebhookBodyError,
    placetel_signal,
    read_body,
    sipgate_reply,
    sipgate_signal,
)
from hub.capture import Capture

log = logging.getLogger(__name__)

Parser = Callable[[Fields, datetime], Signal | None]
PROVIDERS: dict[str, Parser] = {
    "sipgate": sipgate_signal,
    "placetel": placetel_signal,
    "cti": sipgate_signal,  # Zammad's generic CTI follows sipgate's fields
}


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an unset token never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class WebhookIntake:
    """Turns provider webhooks into call events, one call tracker per provider."""

    def __init__(
        self,
        capture: Capture,
        token: str,
        normalize: Callable[[str], str | None],
        *,
        ring_timeout: float = 300.0,
        base_url: str | None = None,
    ) -> None:
        self.capture = capture
        self.token = token
        self.limit = RateLimit()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.trackers = {
            name: CallTracker(name, normalize, ring_timeout=ring_timeout) for name in PROVIDERS
        }

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/telephony", tags=["telephony"])

        @router.post("/{provider}/{token}", include_in_schema=False)
        async def webhook(provider: str, token: str, request: Request) -> Response:
            self.limit.check()
            if provider not in PROVIDERS or not token_matches(token, self.token):
                raise HTTPException(status_code=404)
            return await self.receive(provider, request)

        return router

    async def receive(self, provider: str, request: Request) -> Response:
        """Parses, records, and answers in the provider's format."""
        try:
            body = await _limited_body(request)
            fields = read_body(body, request.headers.get("content-type", ""))
            signal = PROVIDERS[provider](fields, datetime.now(UTC))
        except WebhookBodyError as err:
            log.warning("%s webhook refused: %s", provider, err)
            self.capture.health.set("ok", last_refused=f"{provider}: {err}")
            return PlainTextResponse(f"bad request: {err}\n", status_code=400)
        tracker = self.trackers[provider]
        captured = tracker.expire() + (tracker.feed(signal) if signal else [])
        await record_calls(self.capture, captured)
        self.capture.health.set("ok", open_calls=tracker.open_calls)
        if provider == "sipgate" and fields.get("event") == ["newCall"]:
            url = f"{self.base_url or str(request.base_url).rstrip('/')}{request.url.path}"
            return Response(sipgate_reply(url), media_type="application/xml")
        if provider == "cti":
            return JSONResponse({})
        return Response(status_code=200)


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
