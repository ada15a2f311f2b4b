"""A real Dovecot IMAP server with its own configuration in a temporary directory."""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
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
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "Gesendete Objekte" {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """Starts, restarts and stops one Dovecot; users are `anna`, `bernd` (password "geheim")."""

    # Users exist from the start: Dovecot notices passwd-file changes only by mtime.
    USERS = ("anna", "bernd", "bench", *(f"user{n}" for n in range(60)))
    PASSWORD = "geheim"

    def __init__(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("Dovecot is not installed (Debian package dovecot-imapd)")
        self.binary = binary
        # Not under pytest's tmp_path: Dovecot's unprivileged processes must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="kartei-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
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
                root=self.root, internal=internal, login=login, uid=uid, gid=gid, port=self.port
            )
        )

    def start(self) -> None:
        subprocess.run([self.binary, "-c", str(self.config)], check=True)
        deadline = time.monotonic() + 15
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
        subprocess.run([self.binary, "-c", str(self.config), "stop"], check=False)
        deadline = time.monotonic() + 15
        while (self.root / "run" / "master.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

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
