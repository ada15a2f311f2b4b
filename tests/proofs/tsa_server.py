"""A local RFC 3161 timestamp authority for tests (no TSA is reachable from CI).

Written from RFC 3161 (TimeStampReq/TimeStampResp/TSTInfo), RFC 5652 (CMS SignedData) and
RFC 5035 (ESS signing-certificate-v2): a real HTTP server on loopback that answers
``application/timestamp-query`` with a token signed by a test CA made with `cryptography`.
OpenSSL's ``ts -verify`` accepts its tokens (tests/proofs/test_timestamps.py checks so).
Its clock can be set, to issue tokens at a chosen time (e.g. while a certificate that
has expired since was valid).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class LocalCA:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    tsa: x509.Certificate
    tsa_key: ec.EllipticCurvePrivateKey

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def tsa_pem(self) -> bytes:
        return self.tsa.public_bytes(serialization.Encoding.PEM)


def make_ca(tsa_from: datetime, tsa_until: datetime) -> LocalCA:
    """A root valid for years and a TSA certificate valid from `tsa_from` to `tsa_until`."""
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Kartei Test Root CA"))
        .issuer_name(_name("Kartei Test Root CA"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("Kartei Test TSA"))
        .issuer_name(root.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(tsa_from)
        .not_valid_after(tsa_until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    return LocalCA(root, root_key, tsa, tsa_key)


@dataclass
class LocalTSA:
    ca: LocalCA
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    requests: list[bytes] = field(default_factory=list)
    serial: int = 0
    url: str = ""
    available: bool = True  # False: answers 503, as a TSA that is down

    def respond(self, body: bytes) -> bytes:
        self.requests.append(body)
        req = tsp.TimeStampReq.load(body)
        self.serial += 1
        info = tsp.TSTInfo(
            {
                "version": 1,
                "policy": "1.3.6.1.4.1.99999.1",
                "message_imprint": req["message_imprint"],
                "serial_number": self.serial,
                "gen_time": self.clock().replace(microsecond=0),
                "nonce": req["nonce"].native,
            }
        )
        content = info.dump()
        tsa_der = self.ca.tsa.public_bytes(serialization.Encoding.DER)
        attrs = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [{"cert_hash": hashlib.sha256(tsa_der).digest()}]}],
                },
            ]
        )
        signature = self.ca.tsa_key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
        cert = cms.Certificate.load(tsa_der)
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": cert.issuer,
                            "serial_number": cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": attrs,
                "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                "signature": signature,
            }
        )
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [{"algorithm": "sha256"}],
                "encap_content_info": {"content_type": "tst_info", "content": info},
                "certificates": [cert] if req["cert_req"].native else [],
                "signer_infos": [signer],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": token}
        ).dump()


@contextmanager
def serve(tsa: LocalTSA) -> Iterator[LocalTSA]:
    """Runs the TSA on a free loopback port; `tsa.url` is where to ask it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not tsa.available:
                self.send_error(503)
                return
            if self.headers["Content-Type"] != "application/timestamp-query":
                self.send_error(415)
                return
            answer = tsa.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tsa.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
