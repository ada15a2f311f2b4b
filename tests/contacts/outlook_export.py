"""A messy contact export as German Outlook and Excel write them: semicolons, quoted
cells over several lines, a row cut short, a row split by a bare semicolon, placeholders."""

from __future__ import annotations

HEADER = (
    "Anrede;Vorname;Weitere Vornamen;Nachname;Firma;Position;Straße geschäftlich;"
    "Postleitzahl geschäftlich;Ort geschäftlich;Telefon geschäftlich;Telefon Firma;"
    "Mobiltelefon;Fax geschäftlich;E-Mail-Adresse;Notizen"
)
ROWS = (
    # line 2-3: a note over two lines
    "Herr;Hans;;Kühn;Dachdecker Kühn GmbH;Inhaber;Gartenweg 3;14467;Potsdam;0331 2345-12;"
    '0331 2345-0;0171 2345678;0331 2345-99;hans@kuehn.example;"Rückruf erbeten\r\nnur vormittags"',
    # line 4
    "Frau;Erika;;Muster;Muster GmbH;;Hauptstr. 1;10115;Berlin;030 123456;;;;erika@muster.example;",
    # line 5: a row cut short (the user's "zu;wenig")
    "zu;wenig",
    # line 6: an address that is none
    "Frau;Anna;;Schulz;Bäckerei Schulz;;;;Berlin;030 7654321;;;;kaputt;",
    # line 7: nothing that identifies anyone
    ";;;;;;;;Berlin;n/a;;;;;",
    # line 8, 9: clean rows
    "Herr;Jörg;;Meier;;;;;;030 99887766;;;;joerg@meier.example;",
    "Frau;Petra;;Lange;Lange & Co. KG;;;;;040 5556677;;;;petra@lange.example;",
    # line 10: a firm name with a bare semicolon: every later cell moved one to the right
    "Herr;Otto;;Krämer;Krämer; Söhne GmbH;;;;;089 1234567;;;;otto@kraemer.example;",
    # line 11-12: a street over two lines
    'Frau;Lea;;Wolf;;;"Am Markt 5\r\nHinterhaus";50667;Köln;0221 445566;;;;lea@wolf.example;',
    # line 13: Erika again, with her mobile
    "Frau;Erika;;Muster;Muster GmbH;;;;;;;0172 9998887;;ERIKA@muster.example;",
)
# The line each record starts on, in file order.
LINES = [2, 4, 5, 6, 7, 8, 9, 10, 11, 13]


def outlook_export(encoding: str = "cp1252") -> bytes:
    """The export as Outlook writes it (cp1252) or Excel's "CSV UTF-8" (with BOM)."""
    text = "\r\n".join((HEADER, *ROWS)) + "\r\n"
    return text.encode(encoding)
