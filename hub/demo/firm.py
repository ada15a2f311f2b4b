"""The demo firm: who it is, its staff, its numbers and addresses, and its kartei.toml."""

from __future__ import annotations

from dataclasses import dataclass

NAME = "Hansen Bürotechnik GmbH"
DOMAIN = "hansen-buero.de"
INFO = f"info@{DOMAIN}"
FAX_ADDRESS = f"fax@{DOMAIN}"
AREA_CODE = "30"  # Berlin
LINE = "4400770"  # the number customers call, as the FRITZ!Box names it (no area code)
FAX_LINE = "030 4400 77-99"
BOX = "fritzbox"  # the [[telephony.fritzbox]] name, so calls land in call-fritzbox-<id>
# The secret part of the demo's webhook URL (/telephony/sipgate/<token>); a demo, not a secret.
WEBHOOK_TOKEN = "demo-webhook-kartei-2026"
LOOKUP_TOKEN = "demo-lookup-kartei-2026"
SMTP_PORT = 2525
USER = "demo"
PASSWORD = "kartei-demo"  # README shows it next to `scripts/demo`


@dataclass(frozen=True, slots=True)
class Staff:
    """A member of the firm: the owner code on customer cards is their user name."""

    username: str
    name: str
    email: str
    extension: str  # the handset that answers their calls (CONNECT's extension field)


STAFF = (
    Staff("mk", "Maria Kühn", f"kuehn@{DOMAIN}", "11"),
    Staff("sw", "Stefan Wolf", f"wolf@{DOMAIN}", "12"),
    Staff("jb", "Jana Berger", f"berger@{DOMAIN}", "13"),
    Staff("al", "Ali Lorenz", f"lorenz@{DOMAIN}", "14"),
)
STAFF_BY_NAME = {s.username: s for s in STAFF}

CONFIG = f"""\
# Kartei's demo firm, {NAME} (written by `kartei init --demo`).
# Every key is optional; `kartei init DIR` writes the full, commented example.

[kartei]
firm = "{NAME}"
data_dir = "."
language = "de"
timezone = "Europe/Berlin"

[web]
host = "127.0.0.1"
port = 8080

[contacts]
default_region = "DE"
own_area_code = "{AREA_CODE}"

[mail]
own_domains = ["{DOMAIN}"]

# The firm's mail server journals every mail in and out to this port (try: swaks --server
# 127.0.0.1:{SMTP_PORT} --from kunde@example.de --to {INFO} --body "Der Drucker ist kaputt").
[mail.smtp]
enabled = true
host = "127.0.0.1"
port = {SMTP_PORT}

[telephony]
# sipgate.io pushes to http://127.0.0.1:8080/telephony/sipgate/{WEBHOOK_TOKEN}; a PBX
# looks up callers at /telephony/lookup/{LOOKUP_TOKEN}?number=...
webhook_token = "${{KARTEI_TELEPHONY_WEBHOOK_TOKEN:-{WEBHOOK_TOKEN}}}"
lookup_token = "${{KARTEI_TELEPHONY_LOOKUP_TOKEN:-{LOOKUP_TOKEN}}}"

[fax]
# The FRITZ!Box mails each fax to {FAX_ADDRESS}; the mail listener above takes it.
enabled = true
smtp_listener = "mail"
accept_recipients = ["{FAX_ADDRESS}"]

[churn]
default_owner = "{USER}"
"""
