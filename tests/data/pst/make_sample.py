"""Writes tests/data/pst/sample.pst, the fixture of tests/mail/test_pst_import.py.

NOT part of Kartei and not run by the tests: a one-off generator, kept so the fixture can
be made again. It needs Aspose.Email (proprietary, used here in its free evaluation mode
as an independent PST writer) in a scratch virtual environment outside the repository:

    python3 -m venv /tmp/pstgen
    /tmp/pstgen/bin/pip install aspose-email-for-python-via-net==26.10
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 /tmp/pstgen/bin/python tests/data/pst/make_sample.py
    ... make_sample.py forwarded       # forwarded.pst

(The .NET runtime inside the package wants ICU; the variable runs it without.) The
evaluation mode adds "(Aspose.Email Evaluation)" to each subject and an "EVALUATION ONLY"
paragraph to each body: that text is part of the fixture, and the tests expect it.

Each message is written as RFC 5322 bytes first (the standard library's email package),
loaded by Aspose and stored as a MAPI message, as Outlook stores received mail (with its
transport headers). The sent ones have their transport headers removed afterwards, as
Outlook keeps sent mail: a PST importer has to rebuild their header from MAPI properties.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from aspose.email import MailMessage
from aspose.email.mapi import MapiCalendar, MapiContact, MapiMessage, MapiPropertyTag
from aspose.email.storage.pst import FileFormatVersion, PersonalStorage, StandardIpmFolder

HERE = Path(__file__).parent
CET = timezone(timedelta(hours=1))
START = datetime(2026, 11, 2, 9, 15, tzinfo=CET)

ANNA = "Anna Schmidt <anna@firma.example>"
INFO = "Kartei Firma <info@firma.example>"
MEYER = "Jürgen Meyer <meyer@kunde.example>"
SCHROEDER = "Käthe Schröder <k.schroeder@baeckerei-schroeder.example>"
YILMAZ = "Özlem Yılmaz <yilmaz@moebel-yilmaz.example>"

# A one-page PDF, written by hand (about the smallest file PDF readers accept).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def mail(n: int, sender: str, to: str, subject: str, body: str, **extra: object) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(START + timedelta(hours=5 * n))
    msg["Message-ID"] = f"<pst-{n:02d}@{sender.rpartition('@')[2].rstrip('>')}>"
    if extra.get("in_reply_to"):
        msg["In-Reply-To"] = str(extra["in_reply_to"])
    msg.set_content(body)
    if extra.get("html"):
        msg.add_alternative(str(extra["html"]), subtype="html")
    for name, kind, data in extra.get("files", ()):  # type: ignore[attr-defined]
        maintype, subtype = kind.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def latin1_mail(n: int) -> bytes:
    """Header fields as an older mail program writes them: ISO-8859-1 encoded words, and
    an ISO-8859-1 body."""
    body = "Sehr geehrte Frau Schmidt,\n\nbitte prüfen Sie die Rechnung Nr. 815: "
    body += "die Maße der Tür stimmen nicht.\n\nMit freundlichen Grüßen\nJörg Weiß\n"
    head = (
        "From: =?ISO-8859-1?Q?J=F6rg_Wei=DF?= <weiss@weiss-gmbh.example>\r\n"
        "To: Anna Schmidt <anna@firma.example>\r\n"
        "Subject: =?ISO-8859-1?Q?R=FCckfrage_zur_Rechnung_=96_T=FCrma=DFe?=\r\n"
        f"Date: {format_datetime(START + timedelta(hours=5 * n))}\r\n"
        f"Message-ID: <pst-{n:02d}@weiss-gmbh.example>\r\n"
        "X-Mailer: Microsoft Outlook Express 6.00.2900.5512\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body.replace("\n", "\r\n").encode("latin-1")


HTML = (
    "<html><body><p>Guten Tag,</p><p>wir hätten gern <b>5.000 Brötchentüten</b> "
    "mit Aufdruck „Schröders Backstube“.</p><p>Viele Grüße<br>Käthe Schröder<br>"
    "Tel. 0221 4711-0</p></body></html>"
)

INBOX = [
    mail(
        1,
        MEYER,
        INFO,
        "Reklamation: Lieferung beschädigt",
        "Sehr geehrte Damen und Herren,\n\ndie Lieferung vom Freitag kam beschädigt an. "
        "Der Lieferschein liegt bei.\n\nMit freundlichen Grüßen\nJürgen Meyer\nTel. 0221 123456\n",
        files=[("Lieferschein 4711.pdf", "application/pdf", PDF)],
    ),
    mail(
        2,
        SCHROEDER,
        INFO,
        "Anfrage Brötchentüten",
        "Guten Tag,\n\nwir hätten gern 5.000 Brötchentüten.\n\nViele Grüße\nKäthe Schröder\n",
        html=HTML,
    ),
    mail(
        3,
        YILMAZ,
        ANNA,
        "Größenänderung der Bestellung",
        "Hallo Frau Schmidt,\n\nanbei die neuen Maße für die Küche.\n\nÖzlem Yılmaz\n",
        files=[
            (
                "Maße Küche – Übersicht.csv",
                "text/csv",
                "Wand;Breite\nFensterwand;3,40 m\nTürwand;2,85 m\n".encode(),
            )
        ],
    ),
    latin1_mail(4),
    mail(
        5,
        MEYER,
        ANNA,
        "Re: Ihre Reklamation – Gutschrift",
        "Danke, die Gutschrift ist angekommen.\n\nJürgen Meyer\n",
        in_reply_to="<pst-06@firma.example>",
    ),
]
SENT = [
    mail(
        6,
        ANNA,
        MEYER,
        "Ihre Reklamation – Gutschrift",
        "Sehr geehrter Herr Meyer,\n\nwir schreiben Ihnen 120,00 € gut.\n\n"
        "Mit freundlichen Grüßen\nAnna Schmidt\n",
    ),
    mail(
        7,
        ANNA,
        SCHROEDER,
        "Angebot Brötchentüten",
        "Sehr geehrte Frau Schröder,\n\nanbei unser Angebot.\n\nAnna Schmidt\n",
        files=[("Angebot 2026-118.pdf", "application/pdf", PDF)],
    ),
    mail(
        8,
        ANNA,
        YILMAZ,
        "Termin für das Aufmaß",
        "Hallo Frau Yılmaz,\n\npasst Ihnen Donnerstag, 10 Uhr?\n\nAnna Schmidt\n",
    ),
]
MEYER_FOLDER = [
    mail(
        9,
        MEYER,
        INFO,
        "Bestellung Nr. 4711",
        "Hiermit bestelle ich 20 Kartons Größe L.\n\nJürgen Meyer\n",
    ),
    mail(
        10,
        INFO,
        MEYER,
        "Auftragsbestätigung Nr. 4711",
        "Sehr geehrter Herr Meyer,\n\nwir bestätigen Ihre Bestellung.\n\nIhre Kartei Firma\n",
    ),
    mail(
        11,
        MEYER,
        INFO,
        "Lieferung Donnerstag möglich?",
        "Geht die Lieferung auch am Donnerstag? Grüße aus Köln\n\nJürgen Meyer\n",
    ),
]
KUNDEN = [
    mail(
        12,
        SCHROEDER,
        ANNA,
        "Zahlungsavis März",
        "Guten Tag,\n\ndie Zahlung für März ist unterwegs.\n\nKäthe Schröder\n",
    ),
]


def mapi(raw: bytes, *, sent: bool = False) -> MapiMessage:
    message = MapiMessage.from_mail_message(MailMessage.load(io.BytesIO(raw)))
    if sent:  # Outlook's sent items carry no transport headers
        message.remove_property(MapiPropertyTag.TRANSPORT_MESSAGE_HEADERS_W)
    return message


def main(target: Path) -> None:
    target.unlink(missing_ok=True)
    with PersonalStorage.create(str(target), FileFormatVersion.UNICODE) as pst:
        root = pst.root_folder
        inbox = root.add_sub_folder("Posteingang")
        sent = root.add_sub_folder("Gesendete Elemente")
        kunden = root.add_sub_folder("Kunden")
        meyer = kunden.add_sub_folder("Meyer")
        for raw in INBOX:
            inbox.add_message(mapi(raw))
        for raw in SENT:
            sent.add_message(mapi(raw, sent=True))
        for raw in MEYER_FOLDER:
            meyer.add_message(mapi(raw, sent=b"From: Kartei Firma" in raw))
        for raw in KUNDEN:
            kunden.add_message(mapi(raw))


RTF = (
    r"{\rtf1\ansi\ansicpg1252\deff0 {\fonttbl {\f0 Arial;}}\f0 Hallo Frau Y\u305?lmaz,"
    r"\par pa\'dft Ihnen Donnerstag, 10 Uhr? Gr\'fc\'dfe\par}"
)


def forwarded(target: Path) -> None:
    """forwarded.pst: one mail with an Outlook item attached (Outlook's "forward as
    attachment"), which libpff's Python binding cannot open as a message; a sent mail
    whose only body is RTF; and an appointment and a contact, which are no mail."""
    target.unlink(missing_ok=True)
    outer = mapi(INBOX[4])
    outer.attachments.add("Ihre Reklamation", mapi(SENT[0], sent=True))
    start = START.replace(tzinfo=None)
    appointment = MapiCalendar(
        "Köln", "Aufmaß bei Meyer", "Küche ausmessen", start, start + timedelta(hours=1)
    )
    contact = MapiContact("Jürgen Meyer", "meyer@kunde.example", "Meyer Küchen GmbH")
    rtf_only = mapi(SENT[2], sent=True)  # Outlook's own mail, its body only in RTF
    rtf_only.set_body_rtf(RTF, True)
    for tag in (MapiPropertyTag.BODY_W, MapiPropertyTag.BODY_HTML):
        rtf_only.remove_property(tag)
    with PersonalStorage.create(str(target), FileFormatVersion.UNICODE) as pst:
        pst.root_folder.add_sub_folder("Posteingang").add_message(outer)
        pst.root_folder.add_sub_folder("Gesendete Elemente").add_message(rtf_only)
        calendar = pst.create_predefined_folder("Kalender", StandardIpmFolder.APPOINTMENTS)
        calendar.add_mapi_message_item(appointment)
        contacts = pst.create_predefined_folder("Kontakte", StandardIpmFolder.CONTACTS)
        contacts.add_mapi_message_item(contact)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "sample"
    (forwarded if which == "forwarded" else main)(HERE / f"{which}.pst")
