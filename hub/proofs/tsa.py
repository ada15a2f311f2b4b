"""RFC 3161 timestamps on tree heads: ask a timestamp authority (TSA), check its tokens.

A token is checked as of its own time (genTime): the TSA's certificate chain must have
been valid then, up to a root the firm trusts (``[archive] tsa_ca_file``). Tokens keep the
TSA's certificates (we ask for them with certReq), so a token stays checkable after the
TSA's certificate expires or the TSA closes: the failure piler's users reported.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from asn1crypto import cms, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

MAX_RESPONSE = 1_048_576
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


class TimestampError(Exception):
    """The TSA did not answer with a usable token, or a token does not check out."""


def request_for(data: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq over SHA-256(data), asking for the TSA's certificate."""
    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


def fetch(url: str, data: bytes, timeout: float) -> bytes:
    """Asks the TSA at `url` to stamp `data`; its token (DER), checked against the request
    (blocking: call through a thread)."""
    nonce = int.from_bytes(os.urandom(8), "big")
    req = urllib.request.Request(
        url,
        data=request_for(data, nonce),
        headers={"Content-Type": "application/timestamp-query"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            body = answer.read(MAX_RESPONSE + 1)
    except OSError as err:
        raise TimestampError(f"TSA {url} unreachable: {err}") from None
    if len(body) > MAX_RESPONSE:
        raise TimestampError(f"TSA {url}: answer too large")
    try:
        response = tsp.TimeStampResp.load(body)
        status = response["status"]["status"].native
        token = response["time_stamp_token"]
        if status not in ("granted", "granted_with_mods") or token.native is None:
            text = response["status"]["status_string"].native
            raise TimestampError(f"TSA {url} refused: {status} {text or ''}".strip())
        info = _tst_info(token)
    except (ValueError, TypeError, KeyError) as err:
        raise TimestampError(f"TSA {url}: not a timestamp response ({err})") from None
    if info["nonce"].native != nonce:
        raise TimestampError(f"TSA {url}: the answer is not to our request (nonce)")
    _check_imprint(info, data)
    return bytes(token.dump())


def gen_time(token: bytes) -> datetime:
    return _tst_info(cms.ContentInfo.load(token))["gen_time"].native  # type: ignore[no-any-return]


def load_roots(path: Path) -> list[cx509.Certificate]:
    try:
        return cx509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as err:
        raise TimestampError(f"{path}: cannot read the TSA certificates: {err}") from None


def check(token: bytes, data: bytes, roots: Sequence[cx509.Certificate]) -> str | None:
    """Why `token` is no valid timestamp of `data` by a TSA under `roots`; None if it is."""
    try:
        when = _check(cms.ContentInfo.load(token), data, roots)
    except TimestampError as err:
        return str(err)
    except (ValueError, TypeError, KeyError) as err:
        return f"is not a readable RFC 3161 token ({type(err).__name__}: {err})"
    return None if when else "has no time"


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    signed = token["content"]
    if signed["encap_content_info"]["content_type"].native != "tst_info":
        raise TimestampError("the token holds no TSTInfo")
    return signed["encap_content_info"]["content"].parsed


def _check_imprint(info: tsp.TSTInfo, data: bytes) -> None:
    imprint = info["message_imprint"]
    name = imprint["hash_algorithm"]["algorithm"].native
    if name not in _HASHES:
        raise TimestampError(f"uses an unsupported hash ({name})")
    if imprint["hashed_message"].native != hashlib.new(name, data).digest():
        raise TimestampError("is over other data than this tree head")


def _check(token: cms.ContentInfo, data: bytes, roots: Sequence[cx509.Certificate]) -> datetime:
    info = _tst_info(token)
    _check_imprint(info, data)
    when: datetime = info["gen_time"].native
    signed = token["content"]
    [signer] = signed["signer_infos"]
    certs = [cx509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"]]
    cert = _signer_cert(signer, signed["certificates"], certs)
    _check_signed_attrs(signer, signed, cert)
    _check_signature(signer, cert)
    _check_chain(cert, certs, roots, when)
    return when


def _signer_cert(
    signer: cms.SignerInfo, raw: cms.CertificateSet, certs: list[cx509.Certificate]
) -> cx509.Certificate:
    sid = signer["sid"]
    for asn, cert in zip(raw, certs, strict=True):
        c: x509.Certificate = asn.chosen
        if sid.name == "issuer_and_serial_number":
            if (
                c.issuer == sid.chosen["issuer"]
                and c.serial_number == sid.chosen["serial_number"].native
            ):
                return cert
        elif c.key_identifier == sid.chosen.native:
            return cert
    raise TimestampError("does not carry the TSA's certificate")


def _check_signed_attrs(
    signer: cms.SignerInfo, signed: cms.SignedData, cert: cx509.Certificate
) -> None:
    attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    digest = signer["digest_algorithm"]["algorithm"].native
    content = signed["encap_content_info"]["content"].contents
    if attrs.get("content_type") is None or attrs["content_type"].native != "tst_info":
        raise TimestampError("is signed over another content type")
    if attrs.get("message_digest") is None or (
        attrs["message_digest"].native != hashlib.new(digest, content).digest()
    ):
        raise TimestampError("was altered after the TSA signed it")
    der = cert.public_bytes(Encoding.DER)
    if (v2 := attrs.get("signing_certificate_v2")) is not None:
        cert_id = v2["certs"][0]
        name = cert_id["hash_algorithm"]["algorithm"].native
        if cert_id["cert_hash"].native != hashlib.new(name, der).digest():
            raise TimestampError("names another TSA certificate than it carries")
    elif (v1 := attrs.get("signing_certificate")) is not None:
        if v1["certs"][0]["cert_hash"].native != hashlib.sha1(der).digest():
            raise TimestampError("names another TSA certificate than it carries")
    else:
        raise TimestampError("does not name its TSA certificate (RFC 5035)")


def _check_signature(signer: cms.SignerInfo, cert: cx509.Certificate) -> None:
    attrs = signer["signed_attrs"].dump()
    signed_bytes = b"\x31" + attrs[1:]  # signed over as a SET OF, not as [0] IMPLICIT
    name = signer["digest_algorithm"]["algorithm"].native
    if name not in _HASHES:
        raise TimestampError(f"uses an unsupported hash ({name})")
    algorithm = _HASHES[name]
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signer["signature"].native, signed_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signer["signature"].native, signed_bytes, ec.ECDSA(algorithm))
        else:
            raise TimestampError(f"is signed with an unsupported key ({type(key).__name__})")
    except InvalidSignature:
        raise TimestampError("has a signature that does not match") from None


def _check_chain(
    cert: cx509.Certificate,
    certs: list[cx509.Certificate],
    roots: Sequence[cx509.Certificate],
    when: datetime,
) -> None:
    """From the TSA's certificate up to a trusted root, every link valid at `when`."""
    try:
        usage = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value
    except cx509.ExtensionNotFound:
        usage = None
    if usage is None or cx509.oid.ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise TimestampError("is signed by a certificate not meant for timestamps")
    trusted = {r.fingerprint(hashes.SHA256()) for r in roots}
    pool = [*certs, *roots]
    current = cert
    for _ in range(10):
        if not current.not_valid_before_utc <= when <= current.not_valid_after_utc:
            raise TimestampError(
                f"was issued at {when:%Y-%m-%d %H:%M:%S}Z, outside the validity of "
                f"{current.subject.rfc4514_string()}"
            )
        if current.fingerprint(hashes.SHA256()) in trusted:
            return
        issuer = next((c for c in pool if _issued(current, c)), None)
        if issuer is None:
            raise TimestampError(
                f"leads to no trusted root ({current.issuer.rfc4514_string()} unknown)"
            )
        current = issuer
    raise TimestampError("has a certificate chain that is too long")


def _issued(cert: cx509.Certificate, issuer: cx509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
