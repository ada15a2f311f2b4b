"""The demo firm's customers: a generated, realistic German small-business customer base.

Deterministic for a seed, so demos, tests and benchmarks see the same firms and people.
`adapters.importers.samples` writes the same cards as an Outlook CSV export or a vCard file.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from hub.events.contacts import Address, Phone
from hub.phone import normalize

Card = dict[str, Any]

GIVEN = [
    "Anna",
    "Julia",
    "Lena",
    "Katrin",
    "Sabine",
    "Petra",
    "Monika",
    "Claudia",
    "Sandra",
    "Nicole",
    "Birgit",
    "Ute",
    "Jana",
    "Thomas",
    "Michael",
    "Andreas",
    "Stefan",
    "Frank",
    "Jürgen",
    "Klaus",
    "Peter",
    "Markus",
    "Christian",
    "Uwe",
    "Jörg",
    "Sven",
    "Tobias",
    "Lukas",
    "Jonas",
    "Özlem",
    "Mehmet",
    "Agnieszka",
    "Björn",
    "Søren",
    "Renée",
]
FAMILY = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Köhler",
    "Jäger",
    "Yılmaz",
    "Kowalski",
    "Groß",
    "Weiß",
    "Fuchs",
    "Vogel",
    "Roth",
    "Peters",
]
TRADES = [
    "Bäckerei",
    "Autohaus",
    "Zahnarztpraxis",
    "Steuerkanzlei",
    "Elektro",
    "Sanitär",
    "Malerbetrieb",
    "Blumenhaus",
    "Hotel",
    "Restaurant",
    "Schreinerei",
    "Apotheke",
    "Optik",
    "Reisebüro",
    "Druckerei",
    "Gartenbau",
    "Dachdeckerei",
    "Immobilien",
    "Fahrschule",
    "Physiotherapie",
]
MAILERS = ("web.de", "gmx.de", "t-online.de", "posteo.de")
FORMS = ("GmbH", "GmbH & Co. KG", "e.K.", "OHG", "KG", "AG", "")
# City, postcode, area code (without 0), streets.
CITIES = (
    ("Berlin", "10115", "30", ("Invalidenstraße", "Chausseestraße", "Torstraße")),
    ("Hamburg", "20095", "40", ("Mönckebergstraße", "Spitalerstraße", "Steinstraße")),
    ("München", "80331", "89", ("Sendlinger Straße", "Kaufingerstraße", "Marienplatz")),
    ("Köln", "50667", "221", ("Hohe Straße", "Schildergasse", "Breite Straße")),
    ("Leipzig", "04109", "341", ("Grimmaische Straße", "Petersstraße", "Hainstraße")),
    ("Freiburg im Breisgau", "79098", "761", ("Kaiser-Joseph-Straße", "Salzstraße")),
    ("Görlitz", "02826", "3581", ("Berliner Straße", "Steinstraße", "Obermarkt")),
)
TAGS = ("Stammkunde", "Neukunde", "Großkunde", "Newsletter", "Reklamation 2024", "VIP")
STAFF = ("mk", "sw", "jb", "al")
NOTES = (
    "",
    "",
    "Bevorzugt Rückruf vormittags.",
    "Rechnung bitte per Post.",
    "Ansprechpartner wechselt zum Jahresende.",
    "Zahlt immer pünktlich.",
    "Hat sich 2024 über Lieferverzug beschwert.",
)


def demo_id(seed: int, n: int) -> str:
    return hashlib.sha256(f"demo:{seed}:{n}".encode()).hexdigest()[:16]


def customers(count: int = 300, seed: int = 7) -> list[tuple[str, Card]]:
    """About `count` contacts: firms with their staff, and private customers."""
    rng = random.Random(seed)
    out: list[tuple[str, Card]] = []
    while len(out) < count:
        n = len(out)
        city, postcode, area, streets = rng.choice(CITIES)
        address = Address(
            street=f"{rng.choice(streets)} {rng.randint(1, 120)}",
            postcode=postcode,
            city=city,
            country="Deutschland",
        )
        base = f"{rng.randint(2, 9)}{rng.randint(1000, 99999)}"
        common: Card = {
            "address": address,
            "owner": rng.choice(STAFF),
            "tags": tuple(rng.sample(TAGS, rng.randint(0, 2))),
            "customer_number": f"K-{10001 + n}",
        }
        if rng.random() < 0.35:
            family, given = rng.choice(FAMILY), rng.choice(GIVEN)
            out.append(
                (
                    demo_id(seed, n),
                    {
                        **common,
                        "given_name": given,
                        "family_name": family,
                        "emails": (f"{_mail(given)}.{_mail(family)}@{rng.choice(MAILERS)}",),
                        "phones": (_phone(f"0{area} {base}", "home"), _mobile(rng)),
                        "notes": rng.choice(NOTES),
                    },
                )
            )
            continue
        owner = rng.choice(FAMILY)
        trade = rng.choice(TRADES)
        company = f"{trade} {owner} {rng.choice(FORMS)}".strip()
        domain = f"{_mail(trade)}-{_mail(owner)}.de"
        company_id = demo_id(seed, n)
        out.append(
            (
                company_id,
                {
                    **common,
                    "kind": "company",
                    "company": company,
                    "emails": (f"info@{domain}",),
                    "phones": (
                        _phone(f"0{area} {base}-0", "switchboard"),
                        _phone(f"0{area} {base}-99", "fax"),
                    ),
                    "notes": rng.choice(NOTES),
                },
            )
        )
        for k in range(rng.randint(0, 3)):
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            out.append(
                (
                    demo_id(seed, len(out)),
                    {
                        "given_name": given,
                        "family_name": family,
                        "company": company,
                        "company_id": company_id,
                        "address": address,
                        "owner": common["owner"],
                        "emails": (f"{_mail(given)[0]}.{_mail(family)}@{domain}",),
                        "phones": (_phone(f"0{area} {base}-{11 + k}"),)
                        + ((_mobile(rng),) if rng.random() < 0.5 else ()),
                    },
                )
            )
    return out[:count]


def _mail(text: str) -> str:
    table = str.maketrans(
        {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "é": "e", "ı": "i", " ": "-"}
    )
    return text.lower().translate(table)


def _phone(raw: str, label: str = "landline") -> Phone:
    return Phone(number=normalize(raw) or "", label=label, raw=raw)


def _mobile(rng: random.Random) -> Phone:
    prefix = rng.choice(("0151", "0152", "0160", "0170", "0171", "0172", "0176"))
    number = str(rng.randint(1000000, 9999999))
    # The 015x blocks have eight digits after the prefix, the older ones seven or eight.
    # The eighth is a fixed "2" rather than another draw, so every later card of a seed
    # stays as it was.
    return _phone(f"{prefix} {'2' if prefix.startswith('015') else ''}{number}", "mobile")
