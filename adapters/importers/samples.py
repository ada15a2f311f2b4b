"""Sample import files, written as German Outlook and address-book exports write them."""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.events.contacts import Address

# A contact's fields as `hub.contacts.decisions.create` takes them (the demo's cards are
# such dicts; the samples do not need to know where the cards come from).
Card = dict[str, Any]

OUTLOOK_HEADER = [
    "Anrede",
    "Vorname",
    "Weitere Vornamen",
    "Nachname",
    "Firma",
    "Abteilung",
    "Position",
    "Straße geschäftlich",
    "Ort geschäftlich",
    "Postleitzahl geschäftlich",
    "Land/Region geschäftlich",
    "Fax geschäftlich",
    "Telefon geschäftlich",
    "Telefon privat",
    "Mobiltelefon",
    "Telefon Firma",
    "E-Mail-Adresse",
    "E-Mail-Typ",
    "E-Mail: angezeigter Name",
    "Kategorien",
    "Notizen",
]


def outlook_csv(cards: list[tuple[str, Card]], encoding: str = "cp1252") -> bytes:
    """The cards as a German Outlook export ("Kommagetrennte Werte (Windows)", `;`)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(OUTLOOK_HEADER)
    for _, c in cards:
        phones = {p.label: p.raw for p in c.get("phones", ())}  # type: ignore[attr-defined]
        a: Address = c.get("address") or Address()  # type: ignore[assignment]
        email = (c.get("emails") or ("",))[0]  # type: ignore[index]
        writer.writerow(
            [
                "",
                c.get("given_name", ""),
                "",
                c.get("family_name", ""),
                c.get("company", ""),
                "",
                "",
                a.street,
                a.city,
                a.postcode,
                a.country,
                phones.get("fax", ""),
                phones.get("landline", ""),
                phones.get("home", ""),
                phones.get("mobile", ""),
                phones.get("switchboard", ""),
                email,
                "SMTP",
                email,
                ";".join(c.get("tags", ())),
                c.get("notes", ""),  # type: ignore[arg-type]
            ]
        )
    return out.getvalue().encode(encoding, errors="replace")


def vcards(cards: list[tuple[str, Card]]) -> bytes:
    """The cards as a vCard 3.0 file (long lines folded, as address books write them)."""
    kinds = {
        "landline": "WORK,VOICE",
        "switchboard": "WORK,VOICE",
        "home": "HOME,VOICE",
        "mobile": "CELL",
        "fax": "WORK,FAX",
    }
    lines: list[str] = []
    for _, c in cards:
        given, family = c.get("given_name", ""), c.get("family_name", "")
        a: Address = c.get("address") or Address()  # type: ignore[assignment]
        lines += [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"N:{family};{given};;;",
            f"FN:{' '.join(filter(None, (given, family))) or c.get('company', '')}",
        ]
        if c.get("company"):
            lines.append(f"ORG:{_vtext(str(c['company']))}")
        lines += [f"EMAIL;TYPE=INTERNET:{e}" for e in c.get("emails", ())]  # type: ignore[attr-defined]
        lines += [f"TEL;TYPE={kinds[p.label]}:{p.raw}" for p in c.get("phones", ())]  # type: ignore[attr-defined]
        lines.append(f"ADR;TYPE=WORK:;;{a.street};{a.city};;{a.postcode};{a.country}")
        if c.get("notes"):
            lines.append(f"NOTE:{_vtext(str(c['notes']))}")
        lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines).encode()


def _vtext(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


def _fold(line: str, width: int = 60) -> str:
    return "\r\n ".join(line[i : i + width] for i in range(0, len(line), width)) or line
