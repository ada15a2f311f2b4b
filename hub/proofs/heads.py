"""Signed tree heads: the tree's size and root, signed with the installation's Ed25519 key.

The signed bytes are a short text (kept verbatim in `merkle_heads.head`), so a third party
checks a head with OpenSSL alone::

    openssl pkeyutl -verify -pubin -inkey archive-signing.pub.pem -rawin \\
        -in head-7.txt -sigfile head-7.sig

The private key lies in ``<data_dir>/archive-signing.key`` (PKCS#8 PEM, mode 0600), made
by `kartei init` or on first use; the public key beside it (``archive-signing.pub.pem``)
is what the firm hands its auditor, and what every export carries.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "archive-signing.key"
PUBLIC_FILE = "archive-signing.pub.pem"
HEAD_LINE = "kartei-tree-head/1"


class HeadError(Exception):
    """A head or key that cannot be read or does not verify."""


@dataclass(frozen=True, slots=True)
class TreeHead:
    size: int
    root: bytes
    signed_at: datetime
    key_id: str

    def text(self) -> str:
        when = self.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"{HEAD_LINE}\nsize: {self.size}\nroot: {self.root.hex()}\n"
            f"time: {when}\nkey: {self.key_id}\n"
        )


def parse(text: str) -> TreeHead:
    """The head a signed text states; raises HeadError when it is not one."""
    lines = text.split("\n")
    if lines[0] != HEAD_LINE or len(lines) != 6 or lines[5] != "":
        raise HeadError("not a kartei-tree-head/1 text")
    try:
        fields = dict(line.split(": ", 1) for line in lines[1:5])
        when = datetime.strptime(fields["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return TreeHead(int(fields["size"]), bytes.fromhex(fields["root"]), when, fields["key"])
    except (ValueError, KeyError) as err:
        raise HeadError(f"malformed tree head: {err}") from None


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def ensure_key(data_dir: Path) -> Ed25519PrivateKey:
    """The signing key, made (with its public half exported) where there is none."""
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return load_key(data_dir)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    (path.parent / PUBLIC_FILE).write_bytes(public_pem(key.public_key()))
    return key


def load_key(data_dir: Path) -> Ed25519PrivateKey:
    path = Path(data_dir) / KEY_FILE
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as err:
        raise HeadError(f"{path}: cannot read the signing key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise HeadError(f"{path}: not an Ed25519 key")
    return key


def load_public(data_dir: Path) -> Ed25519PublicKey:
    """The public key: from the exported file, else from the private key."""
    path = Path(data_dir) / PUBLIC_FILE
    if not path.exists():
        return load_key(data_dir).public_key()
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise HeadError(f"{path}: not an Ed25519 public key")
    return key


def sign(key: Ed25519PrivateKey, size: int, root: bytes) -> tuple[TreeHead, bytes]:
    head = TreeHead(size, root, datetime.now(UTC).replace(microsecond=0), key_id(key.public_key()))
    return head, key.sign(head.text().encode())


def verify(public: Ed25519PublicKey, text: str, signature: bytes) -> TreeHead:
    """The head, if `signature` is the key's signature over `text`; raises HeadError."""
    try:
        public.verify(signature, text.encode())
    except InvalidSignature:
        raise HeadError("signature does not match the head") from None
    head = parse(text)
    if head.key_id != key_id(public):
        raise HeadError(f"signed by key {head.key_id}, not by {key_id(public)}")
    return head
