"""STARTTLS and AUTH on the SMTP intake, with smtplib and a self-signed certificate."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import smtplib
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.mail.build import mail_adapters
from adapters.mail.pipeline import MailIntake
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from adapters.mail.smtp_auth import SmtpSecurity, smtp_security
from hub.capture import Capture
from hub.health import ComponentHealth
from hub.settings import ConfigError, SmtpIntake, load_settings
from hub.store import EventStore
from tests.mail import messages

JOURNAL = "journal@kartei.example"
USERS = {"mx": "richtig-geheim", "mx2": "auch-geheim"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (PEM certificate and key files)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kartei test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client that trusts exactly the test certificate (and checks the host name)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


def section(certificate: tuple[Path, Path], **values: object) -> SmtpIntake:
    cert, key = certificate
    return SmtpIntake.model_validate({"tls_cert": str(cert), "tls_key": str(key), **values})


Start = Callable[[SmtpSecurity], "asyncio.Future[SmtpJournalIntake]"]


@pytest.fixture
async def serve(store: EventStore, intake: MailIntake) -> AsyncIterator[Start]:
    """Starts intakes with the given security; stops them after the test."""
    tasks: list[asyncio.Task[None]] = []

    async def start(security: SmtpSecurity) -> SmtpJournalIntake:
        rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 2_000_000)
        adapter = SmtpJournalIntake("127.0.0.1", 0, rules, intake, security=security)
        capture = Capture(store, "smtp", ComponentHealth("adapter:smtp"))
        tasks.append(asyncio.create_task(adapter.run(capture)))
        async with asyncio.timeout(10):
            await adapter.ready.wait()
        return adapter

    yield start  # type: ignore[misc]
    for task in tasks:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def plain(login: str, password: str) -> str:
    return base64.b64encode(f"\0{login}\0{password}".encode()).decode()


async def test_starttls_then_auth_plain_and_login_deliver(
    store: EventStore, serve: Start, certificate: tuple[Path, Path]
) -> None:
    security = smtp_security(section(certificate, users=USERS, auth_required=True))
    server = await serve(security)

    def deliver(n: int, mechanism: str) -> tuple[int, str, dict[str, object]]:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            client.starttls(context=client_context(certificate))
            client.ehlo("mx.firma.example")
            offered = client.esmtp_features["auth"]
            client.user, client.password = "mx", USERS["mx"]
            authenticator = client.auth_plain if mechanism == "PLAIN" else client.auth_login
            code, _ = client.auth(mechanism, authenticator, initial_response_ok=False)
            refused = client.sendmail("mx@firma.example", [JOURNAL], messages.simple(n))
            return code, offered, refused

    for n, mechanism in enumerate(("PLAIN", "LOGIN"), start=1):
        code, offered, refused = await asyncio.to_thread(deliver, n, mechanism)
        assert code == 235 and refused == {}
        assert set(offered.split()) == {"LOGIN", "PLAIN"}
    assert len(await store.read_all(0, 10)) == 2


async def test_wrong_password_and_unknown_user_are_refused(
    store: EventStore, serve: Start, certificate: tuple[Path, Path]
) -> None:
    server = await serve(smtp_security(section(certificate, users=USERS, auth_required=True)))

    def login(user: str, password: str) -> int:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            client.starttls(context=client_context(certificate))
            try:
                client.login(user, password)
            except smtplib.SMTPAuthenticationError as err:
                return err.smtp_code
            return 235

    assert await asyncio.to_thread(login, "mx", "falsch") == 535
    assert await asyncio.to_thread(login, "mx", USERS["mx2"]) == 535  # another user's password
    assert await asyncio.to_thread(login, "niemand", USERS["mx"]) == 535
    assert await asyncio.to_thread(login, "mx2", USERS["mx2"]) == 235
    assert await store.read_all(0, 10) == []


async def test_auth_in_the_clear_is_refused_when_tls_is_configured(
    store: EventStore, serve: Start, certificate: tuple[Path, Path]
) -> None:
    server = await serve(smtp_security(section(certificate, users=USERS)))

    def auth_without_starttls() -> tuple[int, bool, int]:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            client.ehlo("mx.firma.example")
            offered = client.has_extn("auth")
            code, _ = client.docmd("AUTH", "PLAIN " + plain("mx", USERS["mx"]))
            # Not required here: without AUTH the mail is still taken (client networks).
            refused = client.sendmail("mx@firma.example", [JOURNAL], messages.simple(7))
            return code, offered, len(refused)

    code, offered, refused = await asyncio.to_thread(auth_without_starttls)
    assert code == 538 and not offered and refused == 0
    assert len(await store.read_all(0, 10)) == 1


async def test_auth_required_refuses_mail_without_auth(
    store: EventStore, serve: Start, certificate: tuple[Path, Path]
) -> None:
    server = await serve(smtp_security(section(certificate, users=USERS, auth_required=True)))

    def mail_without_auth() -> int:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            client.starttls(context=client_context(certificate))
            client.ehlo("mx.firma.example")
            code, _ = client.mail("mx@firma.example")
            return code

    assert await asyncio.to_thread(mail_without_auth) == 530
    assert await store.read_all(0, 10) == []


async def test_require_tls_refuses_mail_before_starttls(
    store: EventStore, serve: Start, certificate: tuple[Path, Path]
) -> None:
    server = await serve(smtp_security(section(certificate, require_tls=True)))

    def deliver(starttls: bool) -> tuple[int, bool]:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            client.ehlo("mx.firma.example")
            offered = client.has_extn("starttls")
            if starttls:
                client.starttls(context=client_context(certificate))
                client.ehlo("mx.firma.example")
            code, _ = client.mail("mx@firma.example")
            if code == 250:
                client.rcpt(JOURNAL)
                code, _ = client.data(messages.simple(9))
            return code, offered

    assert await asyncio.to_thread(deliver, False) == (530, True)
    assert await store.read_all(0, 10) == []
    assert await asyncio.to_thread(deliver, True) == (250, True)
    assert len(await store.read_all(0, 10)) == 1


async def test_plain_intake_offers_neither_starttls_nor_auth(
    store: EventStore, serve: Start
) -> None:
    server = await serve(SmtpSecurity())

    def features() -> tuple[bool, bool]:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            client.ehlo("mx.firma.example")
            return client.has_extn("starttls"), client.has_extn("auth")

    assert await asyncio.to_thread(features) == (False, False)


def test_settings_are_checked(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = certificate
    with pytest.raises(ConfigError, match="AUTH needs STARTTLS"):
        smtp_security(SmtpIntake(users=USERS))
    with pytest.raises(ConfigError, match="tls_cert, tls_key: give both"):
        smtp_security(SmtpIntake(tls_cert=str(cert)))
    with pytest.raises(ConfigError, match="auth_required needs at least one user"):
        smtp_security(section(certificate, auth_required=True))
    with pytest.raises(ConfigError, match="require_tls needs"):
        smtp_security(SmtpIntake(require_tls=True))
    with pytest.raises(ConfigError, match=r"mail\.smtp\.tls_cert: cannot load"):
        smtp_security(SmtpIntake(tls_cert=str(key), tls_key=str(cert)))  # swapped
    with pytest.raises(ConfigError, match=r"mail\.smtp\.tls_cert: cannot load"):
        smtp_security(SmtpIntake(tls_cert=str(tmp_path / "missing.pem"), tls_key=str(key)))


def test_passwords_come_from_the_environment(
    certificate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    config = tmp_path / "kartei.toml"
    config.write_text(
        f'[kartei]\ndata_dir = "{tmp_path / "data"}"\n\n'
        f'[mail.smtp]\nenabled = true\nport = 0\ntls_cert = "{cert}"\ntls_key = "{key}"\n'
        'auth_required = true\nusers = { mx = "${KARTEI_TEST_SMTP_PASSWORD}" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="KARTEI_TEST_SMTP_PASSWORD is not set"):
        load_settings(config)
    monkeypatch.setenv("KARTEI_TEST_SMTP_PASSWORD", "aus-der-umgebung")
    [adapter] = mail_adapters(load_settings(config))
    assert isinstance(adapter, SmtpJournalIntake)
    assert adapter.security.users == {"mx": "aus-der-umgebung"}
    assert adapter.security.auth_required and adapter.security.tls_context is not None
    adapter.intake.close()
