"""STARTTLS and AUTH for the SMTP intake: an encrypted channel and a login for the sender.

Passwords are only ever accepted over TLS (aiosmtpd answers 538 to AUTH before
STARTTLS), so AUTH needs a certificate. The users and their passwords come from the
configuration, where `${ENV}` keeps the passwords out of the file.
"""

from __future__ import annotations

import hmac
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from hub.settings import ConfigError, SmtpIntake

MECHANISMS = ("LOGIN", "PLAIN")  # aiosmtpd's own; both carry a login and a password


@dataclass(frozen=True, slots=True)
class SmtpSecurity:
    """STARTTLS (with `tls_context`) and AUTH (with `users`), each optional."""

    tls_context: ssl.SSLContext | None = None
    require_tls: bool = False  # refuse everything but EHLO/STARTTLS/QUIT before STARTTLS
    users: Mapping[str, str] = field(default_factory=dict)  # login -> password
    auth_required: bool = False  # refuse MAIL before a successful AUTH

    def __post_init__(self) -> None:
        if self.require_tls and self.tls_context is None:
            raise ValueError("require_tls needs a TLS certificate")
        if self.users and self.tls_context is None:
            raise ValueError("AUTH needs STARTTLS: passwords are never taken in the clear")
        if self.auth_required and not self.users:
            raise ValueError("auth_required needs at least one user")

    def server_options(self) -> dict[str, Any]:
        """Keyword arguments for aiosmtpd's SMTP class."""
        return {
            "tls_context": self.tls_context,
            "require_starttls": self.require_tls,
            "auth_required": self.auth_required,
            "auth_require_tls": True,
            "authenticator": self.authenticate if self.users else None,
            # Without users nothing could log in: do not offer AUTH at all.
            "auth_exclude_mechanism": () if self.users else MECHANISMS,
        }

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """AUTH PLAIN/LOGIN against the configured users (535 on a wrong password)."""
        if mechanism not in MECHANISMS or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        expected = self.users.get(login, "")
        # Compared in constant time, also for an unknown login.
        matches = hmac.compare_digest(expected.encode(), data.password)
        ok = matches and login in self.users
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


def smtp_security(section: SmtpIntake, where: str = "mail.smtp") -> SmtpSecurity:
    """The `[mail.smtp]` TLS and AUTH settings, checked; raises ConfigError naming the key."""
    context = None
    if bool(section.tls_cert) != bool(section.tls_key):
        raise ConfigError(f"{where}.tls_cert, tls_key: give both (PEM files) or neither")
    if section.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(section.tls_cert, section.tls_key)
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(
                f"{where}.tls_cert: cannot load {section.tls_cert} with {section.tls_key}: {err}"
            ) from None
    try:
        return SmtpSecurity(context, section.require_tls, section.users, section.auth_required)
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None
