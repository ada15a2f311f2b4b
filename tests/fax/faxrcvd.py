"""HylaFAX's own `faxrcvd` (Debian's hylafax-server) writing its mail for a received fax.

HylaFAX's faxgetty starts the shell script `bin/faxrcvd` in its spool directory after a fax
came in. Here it runs the same way in a private spool: `bin/` is the package's, so are the
templates; `etc/setup.cache` is the package's with SENDMAIL pointing at a stand-in that
writes each mail to a file (the mail, byte for byte, as the MTA would get it);
`etc/FaxDispatch` picks the language, the recipient and the attachment type as an admin
does; `recvq/` holds the fax as a TIFF carrying the sender's station id (TSI) where
HylaFAX writes it (ImageDescription). Nothing is faked but the MTA.

Run by itself, it writes one such mail: `python -m tests.fax.faxrcvd de fax.eml`.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL.TiffImagePlugin import ImageFileDirectory_v2

from tests.fax import documents

SPOOL_BIN = Path("/var/spool/hylafax/bin")
SETUP_CACHE = Path("/etc/hylafax/setup.cache")
TEMPLATES = Path("/etc/hylafax/templates")
# The template languages of Debian 12's hylafax-server (6.0.7); a test checks the list.
LANGUAGES = ("de", "en", "es", "fr", "it", "pl", "pt", "pt_BR", "ro")
QUEUE_FILE = "recvq/fax00000042.tif"  # faxgetty's name for the 42nd fax received
RECIPIENT = "fax@firma.example"
MISSING = "HylaFAX's faxrcvd is not installed: apt-get install hylafax-server"

SENDMAIL = """#!/bin/sh
# faxrcvd calls: sendmail -f<from> -oi <recipient>; keep each mail under its recipient
n=$(ls "$(dirname "$0")/outbox" | wc -l)
cat > "$(dirname "$0")/outbox/$n-$3"
"""


@dataclass(frozen=True, slots=True)
class Reception:
    """What the modem learnt of one received fax."""

    tsi: str = "+49 221 987654"  # the station id the sending machine announced
    caller_id: str = "+49221987654"  # CallID1: the number the phone network reported
    caller_name: str = "ACME GMBH"  # CallID2
    error: str = ""  # faxgetty's reason when the fax came in only partly
    lines: tuple[str, ...] = tuple(documents.GERMAN)


def installed() -> bool:
    return (SPOOL_BIN / "faxrcvd").is_file() and SETUP_CACHE.is_file()


def fax_tiff(reception: Reception) -> bytes:
    """One G4 page with the TSI and a receive time in the tags faxinfo reads."""
    tags = ImageFileDirectory_v2()
    if reception.tsi:
        tags[270] = reception.tsi  # ImageDescription: HylaFAX keeps the TSI here
    tags[306] = "2026:03:12 10:30:00"  # DateTime: when it was received
    out = io.BytesIO()
    page = documents.render(list(reception.lines), 1)
    page.save(out, format="TIFF", compression="group4", dpi=(204, 196), tiffinfo=tags)
    return out.getvalue()


def faxrcvd(
    spool: Path, reception: Reception, *, language: str = "de", filetype: str = "pdf"
) -> dict[str, bytes]:
    """Runs faxrcvd once; the mails it sent, by recipient (FaxMaster and RECIPIENT)."""
    assert installed(), MISSING
    _lay_out(spool, language, filetype)
    (spool / QUEUE_FILE).write_bytes(fax_tiff(reception))
    call_ids = [reception.caller_id, reception.caller_name]
    args = [QUEUE_FILE, "ttyACM0", "000000042", reception.error, *call_ids]
    env = {**os.environ, "TMPDIR": str(spool / "tmp")}
    run = subprocess.run(
        ["/bin/bash", "bin/faxrcvd", *args], cwd=spool, env=env, capture_output=True, timeout=60
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    outbox = spool / "outbox"
    return {p.name.split("-", 1)[1]: p.read_bytes() for p in sorted(outbox.iterdir())}


def _lay_out(spool: Path, language: str, filetype: str) -> None:
    for folder in ("etc", "recvq", "tmp", "outbox"):
        (spool / folder).mkdir(parents=True, exist_ok=True)
    for old in (spool / "outbox").iterdir():
        old.unlink()
    for link, target in (("bin", SPOOL_BIN), ("etc/templates", TEMPLATES)):
        if not (spool / link).exists():
            (spool / link).symlink_to(target)
    sendmail = spool / "sendmail"
    sendmail.write_text(SENDMAIL)
    sendmail.chmod(0o755)
    setup = [
        f"SENDMAIL='{sendmail}'" if line.startswith("SENDMAIL=") else line
        for line in SETUP_CACHE.read_text().splitlines()
    ]
    (spool / "etc/setup.cache").write_text("\n".join(setup) + "\n")
    dispatch = f"TEMPLATE={language}\nSENDTO={RECIPIENT}\nFILETYPE={filetype}\n"
    (spool / "etc/FaxDispatch").write_text(dispatch)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        mails = faxrcvd(Path(tmp), Reception(), language=sys.argv[1])
    Path(sys.argv[2]).write_bytes(mails[RECIPIENT])
