"""Blocking IMAP calls (imapclient), run through asyncio.to_thread; read-only by design.

Folders are selected read-only and bodies fetched with BODY.PEEK[], so Kartei never sets
\\Seen, never changes flags, never deletes anything.

`fetch` reads the FETCH responses itself (the literal's byte count, then the bytes), on
imapclient's connection: imapclient's general response parser spent 0.4 ms of CPU per
42 KB message, 20 times the reading itself, and a first sync fetches every message.
A response it does not plainly understand (a body sent as a quoted string) is fetched
again through imapclient.
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import re
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from adapters.imap.folders import SentFolders, find_sent
from hub.settings import ImapAccount

# Errors of the connection (retry with backoff); anything else is a bug or a refusal.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    socket.timeout,
    ssl.SSLError,
    imaplib.IMAP4.abort,
    IMAPClientError,
)


@dataclass(frozen=True, slots=True)
class FolderState:
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    raw: bytes
    flags: tuple[str, ...]


class UntrustedCertificate(ssl.SSLError):
    """The server's TLS certificate does not verify against the configured CAs (or its CA
    file cannot be read); a transport error, so capture retries and health shows why."""

    def __str__(self) -> str:  # SSLError's own str() shows the args tuple
        return str(self.args[0]) if self.args else ""


def tls_context(account: ImapAccount) -> ssl.SSLContext:
    """Verifies the server (name and chain) against `ca_file`, else the system's CAs."""
    try:
        context = ssl.create_default_context(cafile=account.ca_file or None)
    except (OSError, ValueError) as err:
        raise UntrustedCertificate(f"cannot read ca_file {account.ca_file}: {err}") from err
    if not account.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(account: ImapAccount, timeout: float = 60.0) -> IMAPClient:
    """Opens and logs in (TLS, STARTTLS or plain as configured)."""
    context = tls_context(account) if account.security != "none" else None
    try:
        client = IMAPClient(
            account.host,
            port=account.port,
            ssl=account.security == "tls",
            ssl_context=context,
            timeout=timeout,
        )
    except ssl.SSLCertVerificationError as err:
        raise _untrusted(account, err) from err
    try:
        if account.security == "starttls":
            client.starttls(context)
        client.login(account.username, account.password)
    except ssl.SSLCertVerificationError as err:
        _close(client)
        raise _untrusted(account, err) from err
    except BaseException:
        _close(client)
        raise
    return client


def _untrusted(account: ImapAccount, err: ssl.SSLCertVerificationError) -> UntrustedCertificate:
    why = getattr(err, "verify_message", None) or str(err)
    trusted = f"ca_file {account.ca_file}" if account.ca_file else "the system's CAs"
    return UntrustedCertificate(
        f"{account.host}:{account.port}: the server's TLS certificate is not trusted ({why}); "
        f"checked against {trusted}"
    )


@dataclass(frozen=True, slots=True)
class MailboxFolders:
    """The folders to capture, and how the Sent folder was found (or why it was not)."""

    names: list[str]
    sent: SentFolders
    missing: list[str]  # configured `folders` the server does not have


def folders(client: IMAPClient, account: ImapAccount) -> MailboxFolders:
    """INBOX, the Sent folder(s) (see adapters.imap.folders) and configured folders."""
    listed = client.list_folders()
    names = [name for _, _, name in listed]
    sent = find_sent(listed, account.sent_folder)
    if sent.found_by != "special-use" and client.has_capability("XLIST"):  # older Gmail
        sent = find_sent(listed, account.sent_folder, client.xlist_folders())
    wanted = ["INBOX", *sent.names, *(f for f in account.folders if f in names)]
    excluded = set(account.exclude_folders)
    missing = [f for f in account.folders if f not in names]
    return MailboxFolders([f for f in dict.fromkeys(wanted) if f not in excluded], sent, missing)


def select(client: IMAPClient, folder: str) -> FolderState:
    info = client.select_folder(folder, readonly=True)
    uidnext = info.get(b"UIDNEXT")
    return FolderState(
        int(info[b"UIDVALIDITY"]), int(uidnext) if uidnext else None, int(info.get(b"EXISTS", 0))
    )


def new_uids(client: IMAPClient, after: int, since: date | None) -> list[int]:
    """UIDs above `after` (the selected folder), ascending."""
    criteria: list[object] = ["UID", f"{after + 1}:*"]
    if since is not None:
        criteria += ["SINCE", since]
    uids = client.search(criteria)
    return sorted(u for u in uids if u > after)


def fetch(client: IMAPClient, uids: Iterable[int]) -> list[Fetched]:
    """Raw bytes and flags of the given UIDs (ascending), without marking anything as read;
    a UID expunged meanwhile is left out."""
    wanted = set(uids)
    if not wanted:
        return []
    # imaplib's documented send/readline/read, on the connection imapclient logged in
    # (its buffered reader: nothing may be read past it).
    imap = client._imap
    tag = b"x%d" % next(_TAGS)  # "x" never starts one of imaplib's tags (letters A-P)
    imap.send(b"%s UID FETCH %s (UID FLAGS BODY.PEEK[])\r\n" % (tag, _uid_set(wanted)))
    found: dict[int, Fetched] = {}
    unread: set[int] = set()  # answered without a literal body: asked again via imapclient
    while True:
        line = _line(imap)
        if line.startswith(tag + b" "):
            if line[len(tag) + 1 : len(tag) + 4].upper() != b"OK ":
                raise IMAPClientError(f"fetch failed: {line.decode('ascii', 'replace').strip()}")
            break
        texts, literals = [line], []
        while announced := _LITERAL.search(texts[-1]):
            literals.append(_exactly(imap, int(announced.group(1))))
            texts.append(_line(imap))
        if line.startswith(b"* BYE"):
            raise imaplib.IMAP4.abort(line.decode("ascii", "replace").strip())
        uid, item = read_fetch_response(texts, literals)
        if uid in wanted:
            if item is None:
                unread.add(uid)
            else:
                found[uid] = item
    if unread - found.keys():
        found.update((f.uid, f) for f in _fetch_parsed(client, unread - found.keys()))
    return [found[uid] for uid in sorted(found)]


_TAGS = itertools.count(1)
_LITERAL = re.compile(rb"\{(\d+)\}\r?\n\Z")  # a line that announces a literal
_FETCH_START = re.compile(rb"\* \d+ FETCH \(", re.IGNORECASE)
_UID = re.compile(rb"[( ]UID (\d+)", re.IGNORECASE)
_FLAGS = re.compile(rb"[( ]FLAGS \(([^)]*)\)", re.IGNORECASE)
_BODY = re.compile(rb"[( ]BODY\[\] \{\d+\}\r?\n\Z", re.IGNORECASE)


def read_fetch_response(
    texts: Sequence[bytes], literals: Sequence[bytes]
) -> tuple[int | None, Fetched | None]:
    """One untagged response, as its text pieces and the literals between them: the UID
    of a FETCH response (else None) and the message, where its BODY[] came as a literal.
    Only the text pieces are searched, so nothing inside a message can pass for an item."""
    if not _FETCH_START.match(texts[0]):
        return None, None  # EXISTS, EXPUNGE, OK [...]: nothing to take
    uid = flags = body = None
    for index, text in enumerate(texts):
        if uid is None and (found := _UID.search(text)):
            uid = int(found.group(1))
        if flags is None and (found := _FLAGS.search(text)):
            flags = tuple(f.decode("utf-8", "replace") for f in found.group(1).split())
        if body is None and index < len(literals) and _BODY.search(text):
            body = literals[index]
    if uid is None or body is None:
        return uid, None
    return uid, Fetched(uid, body, flags or ())


def _uid_set(uids: set[int]) -> bytes:
    """1,2,3,7,9,10 as b"1:3,7,9:10" (a slice of a first sync is one range)."""
    ranges = []
    for _, run in itertools.groupby(enumerate(sorted(uids)), lambda pair: pair[1] - pair[0]):
        numbers = [uid for _, uid in run]
        ranges.append(
            b"%d" % numbers[0] if len(numbers) == 1 else b"%d:%d" % (numbers[0], numbers[-1])
        )
    return b",".join(ranges)


def _line(imap: imaplib.IMAP4) -> bytes:
    line = imap.readline()
    if not line.endswith(b"\n"):
        raise imaplib.IMAP4.abort("connection closed in the middle of a response")
    return line


def _exactly(imap: imaplib.IMAP4, size: int) -> bytes:
    data = imap.read(size)
    if len(data) != size:
        raise imaplib.IMAP4.abort("connection closed in the middle of a message")
    return data


def _fetch_parsed(client: IMAPClient, uids: Iterable[int]) -> list[Fetched]:
    """`fetch` through imapclient's general parser."""
    response = client.fetch(sorted(uids), ["BODY.PEEK[]", "FLAGS"])
    found = []
    for uid, data in sorted(response.items()):
        raw = data.get(b"BODY[]")
        if raw is None:
            continue  # expunged meanwhile
        flags = tuple(
            f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f)
            for f in data.get(b"FLAGS", ())
        )
        found.append(Fetched(int(uid), bytes(raw), flags))
    return found


def without_keywords(fetched: list[Fetched], keywords: frozenset[str]) -> list[Fetched]:
    """The messages that carry none of `keywords` (staff mark private mail with one)."""
    return [f for f in fetched if not keywords.intersection(f.flags)]


def has_idle(client: IMAPClient) -> bool:
    return client.has_capability("IDLE")


def idle_wait(client: IMAPClient, seconds: float) -> bool:
    """IDLE on the selected folder until something changes or `seconds` pass."""
    client.idle()
    try:
        responses = client.idle_check(timeout=seconds)
    finally:
        client.idle_done()
    return bool(responses)


def _close(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection: nothing more to do
        client.shutdown()


def logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the server may be gone already
        _close(client)
