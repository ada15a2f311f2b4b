"""A real Dovecot IMAP server with its own configuration in a temporary directory."""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{ssl}
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_max_userip_connections = 100
imap_idle_notify_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
{namespace}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


# How the server shows its folders (`Dovecot(layout=...)`).
NAMESPACES = {
    # "Gesendete Objekte" exists for every user and is flagged SPECIAL-USE \Sent.
    "special-use": """\
namespace inbox {
  inbox = yes
  separator = /
  mailbox "Gesendete Objekte" {
    special_use = \\Sent
    auto = create
  }
}""",
    # No folder is flagged: a client finds the Sent folder by its name or not at all.
    "plain": """\
namespace inbox {
  inbox = yes
  separator = /
}""",
    # Courier's layout: every folder under "INBOX." with "." as the separator.
    "courier": """\
namespace inbox {
  inbox = yes
  separator = .
  prefix = INBOX.
}""",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SSL_ON = """\
ssl = yes
ssl_cert = <{root}/tls/server.pem
ssl_key = <{root}/tls/server.key
"""


def write_certificates(folder: Path) -> None:
    """A test CA, a server certificate it signed for 127.0.0.1/localhost, and a second CA
    that signed nothing (the "wrong CA" of the tests): ca.pem, server.pem/.key, other-ca.pem."""

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def certificate(
        subject: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: str,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        return builder.sign(signer, hashes.SHA256())

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    folder.mkdir(mode=0o755, exist_ok=True)
    ca_key, server_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    (folder / "ca.pem").write_bytes(
        pem(certificate("Kartei Test CA", ca_key, "Kartei Test CA", ca_key, True))
    )
    (folder / "other-ca.pem").write_bytes(
        pem(certificate("Someone Else's CA", other_key, "Someone Else's CA", other_key, True))
    )
    (folder / "server.pem").write_bytes(
        pem(certificate("127.0.0.1", server_key, "Kartei Test CA", ca_key, False))
    )
    key = folder / "server.key"
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)


class Dovecot:
    """Starts, restarts and stops one Dovecot; users are `anna`, `bernd` (password "geheim").

    With `tls=True` it also serves implicit TLS on `tls_port` and STARTTLS on `port`, with a
    certificate signed by the test CA in `ca_file` (`wrong_ca_file`: a CA that signed nothing).
    `layout` is one of NAMESPACES: SPECIAL-USE \\Sent on "Gesendete Objekte" (the default),
    no special-use at all, or Courier's "INBOX." prefix with "." as the separator.
    """

    # Users exist from the start: Dovecot notices passwd-file changes only by mtime.
    USERS = ("anna", "bernd", "bench", *(f"user{n}" for n in range(60)))
    PASSWORD = "geheim"

    def __init__(self, *, tls: bool = False, layout: str = "special-use") -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("Dovecot is not installed (Debian package dovecot-imapd)")
        self.binary = binary
        # Not under pytest's tmp_path: Dovecot's unprivileged processes must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="kartei-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.ca_file = self.root / "tls" / "ca.pem"
        self.wrong_ca_file = self.root / "tls" / "other-ca.pem"
        if tls:
            write_certificates(self.root / "tls")
        if os.geteuid() == 0:
            user = pwd.getpwnam("dovecot")
            internal, login, uid, gid = "dovecot", "dovenull", user.pw_uid, user.pw_gid
        else:
            me = getpass.getuser()
            internal = login = me
            uid, gid = os.getuid(), os.getgid()
        (self.root / "home").mkdir()
        for sub in ("run", "state"):
            (self.root / sub).mkdir()
        if os.geteuid() == 0:
            os.chown(self.root / "home", uid, gid)
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{self.PASSWORD}\n" for u in self.USERS)
        )
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            CONFIG.format(
                root=self.root,
                internal=internal,
                login=login,
                uid=uid,
                gid=gid,
                port=self.port,
                tls_port=self.tls_port,
                ssl=SSL_ON.format(root=self.root) if tls else "ssl = no",
                namespace=NAMESPACES[layout],
            )
        )

    def start(self) -> None:
        subprocess.run([self.binary, "-c", str(self.config)], check=True)
        deadline = time.monotonic() + 60  # a loaded CI machine can be that slow
        while True:  # ready when it answers with its greeting
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start: {self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stops it as a service manager does: SIGTERM to the master and every process it
        started, so open client sessions drop at once (`dovecot stop` alone leaves the imap
        processes serving their clients until they log out)."""
        pid_file = self.root / "run" / "master.pid"
        group = int(pid_file.read_text().strip() or 0) if pid_file.exists() else 0
        if group > 1:  # the master leads its own process group (it daemonizes with setsid)
            self._signal(group, signal.SIGTERM)
        else:
            subprocess.run([self.binary, "-c", str(self.config), "stop"], check=False)
        deadline = time.monotonic() + 15
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if group > 1:
            self._signal(group, signal.SIGKILL)  # whatever did not exit on SIGTERM

    @staticmethod
    def _signal(group: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)

    def restart(self) -> None:
        self.stop()
        self.start()

    def take_user(self) -> str:
        """A user no other test has used yet."""
        self._taken = getattr(self, "_taken", 0) + 1
        return f"user{self._taken - 1}"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
