"""A local Telegram Bot API server for the methods Kartei uses (getMe, sendMessage).

Written from the published Bot API: requests are ``POST /bot<token>/<method>`` with
form-encoded parameters; answers are JSON ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": 429, "description": ..., "parameters": {"retry_after": n}}``.
Scripted failures: ``"429"`` answers Too Many Requests, ``"drop"`` closes the connection
without an answer (a network error as the client sees it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from urllib.parse import parse_qs


class BotApiPeer:
    """Speaks HTTP/1.1 on loopback; records every message sent to a chat."""

    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.sent: list[dict[str, str]] = []
        self.script: list[str] = []  # what to do with the next sendMessage calls
        self.calls: list[str] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections):  # keep-alive connections outlive close()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while request := await self._request(reader):
                method, params = request
                answer = self._answer(method, params)
                if answer is None:
                    return  # "drop": close without answering
                status, body = answer
                data = json.dumps(body).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
        line = await reader.readline()
        if not line:
            return None
        _verb, path, _version = line.decode().split(" ", 2)
        length = 0
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = (await reader.readexactly(length)).decode() if length else ""
        token_part, _, method = path.removeprefix("/bot").partition("/")
        assert token_part == self.token, f"wrong token in {path}"
        params = {k: v[0] for k, v in parse_qs(body).items()}
        return method, params

    def _answer(self, method: str, params: dict[str, str]) -> tuple[int, object] | None:
        self.calls.append(method)
        if method == "getMe":
            me = {"id": 123, "is_bot": True, "first_name": "Kartei", "username": "kartei_bot"}
            return 200, {"ok": True, "result": me}
        if method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        action = self.script.pop(0) if self.script else "ok"
        if action == "drop":
            return None
        if action == "429":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        if action == "403":
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        self.sent.append(params)
        chat = {"id": int(params["chat_id"]), "type": "private"}
        message = {
            "message_id": len(self.sent),
            "date": int(time.time()),
            "chat": chat,
            "text": params.get("text", ""),
        }
        return 200, {"ok": True, "result": message}
