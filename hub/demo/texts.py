"""What the demo firm's customers write and say, and what its staff answer (German).

Each customer text is a (subject, body) pair whose mood the classifier reads as its list
says (tests/demo/test_seeding.py checks the shipped model's label of every one sent).
"""

from __future__ import annotations

Text = tuple[str, str]

NEUTRAL: tuple[Text, ...] = (
    (
        "Anfrage Toner",
        "bitte schicken Sie uns ein Angebot über vier Tonerkartuschen für unseren "
        "Kyocera TASKalfa 2553ci.",
    ),
    (
        "Wartungstermin",
        "wann könnte Ihr Techniker für die jährliche Wartung des Kopierers vorbeikommen? "
        "Vormittags passt es uns am besten.",
    ),
    (
        "Bestellung Kopierpapier",
        "hiermit bestellen wir 20 Kartons Kopierpapier A4, 80 g, Lieferung an die bekannte "
        "Adresse.",
    ),
    (
        "Auftragsbestätigung",
        "anbei die unterschriebene Auftragsbestätigung zurück. Die Rechnung bitte wieder per "
        "E-Mail.",
    ),
    (
        "Leasingvertrag Drucker",
        "unser Leasingvertrag für den Drucker läuft im Herbst aus. Welche Möglichkeiten gibt "
        "es für eine Verlängerung?",
    ),
    (
        "Neue Lieferadresse",
        "ab dem nächsten Monat liefern Sie bitte an unser neues Lager in der Hafenstraße 12.",
    ),
    (
        "Angebot Bürostühle",
        "können Sie uns ein Angebot für sechs ergonomische Bürostühle mit Armlehnen machen?",
    ),
    (
        "Zählerstand Kopierer",
        "wie gewünscht der aktuelle Zählerstand unseres Kopierers: 48.213 Seiten schwarz-weiß, "
        "5.120 Seiten farbig.",
    ),
    (
        "Beratungstermin",
        "wir richten im Frühjahr ein zweites Büro ein und möchten uns zu Druckern und Möbeln "
        "beraten lassen. Wann hätten Sie Zeit?",
    ),
    (
        "Rechnungsanschrift",
        "bitte stellen Sie Rechnungen künftig an unsere Buchhaltung, z. Hd. Frau Brandt.",
    ),
)

COMPLAINT: tuple[Text, ...] = (
    (
        "Kopierer schon wieder defekt",
        "unser Kopierer meldet schon wieder Papierstau, zum dritten Mal in diesem Monat. "
        "Das ist wirklich ärgerlich, so können wir nicht arbeiten.",
    ),
    (
        "Falsche Lieferung",
        "statt der bestellten schwarzen Toner wurden uns schon wieder Farbtoner geliefert. "
        "Langsam reicht es uns, das kostet uns jedes Mal Zeit.",
    ),
    (
        "Rechnung fehlerhaft",
        "Ihre Rechnung enthält Positionen, die wir nie bestellt haben. Wir sind sehr "
        "unzufrieden und erwarten eine Korrektur.",
    ),
    (
        "Techniker nicht erschienen",
        "der für heute zugesagte Techniker ist nicht gekommen, und niemand hat abgesagt. "
        "Wir haben den ganzen Vormittag umsonst gewartet. Sehr enttäuschend.",
    ),
    (
        "Reklamation Bürostuhl",
        "der gelieferte Bürostuhl ist beschädigt, die Armlehne ist gebrochen. Das ist "
        "inakzeptabel, wir erwarten umgehend Ersatz.",
    ),
)

PRAISE: tuple[Text, ...] = (
    (
        "Danke für den schnellen Service",
        "vielen Dank, Ihr Techniker war schon nach einer Stunde da und der Drucker läuft "
        "wieder einwandfrei. Super Service!",
    ),
    (
        "Die neuen Stühle",
        "die neuen Bürostühle sind großartig, alle Kolleginnen sind begeistert. Herzlichen "
        "Dank für die gute Beratung!",
    ),
    (
        "Lieferung angekommen",
        "die Lieferung kam pünktlich und vollständig. Vielen Dank für die zuverlässige "
        "Zusammenarbeit, wir sind sehr zufrieden!",
    ),
    (
        "Dankeschön",
        "ein großes Dankeschön an Ihr Team für die freundliche und kompetente Hilfe. "
        "Wir fühlen uns bei Ihnen bestens aufgehoben.",
    ),
)

# The customer at risk: three complaints within the churn window (two emails, one fax).
AT_RISK_MAILS: tuple[Text, ...] = (
    (
        "Drucker fällt ständig aus",
        "der im Frühjahr gelieferte Drucker fällt ständig aus, inzwischen jede Woche. Wir sind "
        "mit diesem Gerät und Ihrem Service äußerst unzufrieden.",
    ),
    (
        "Letzte Beschwerde",
        "zum wiederholten Mal funktioniert nichts: der Drucker steht, der Techniker kommt nicht "
        "und auf unsere Mails antwortet niemand. Wir überlegen ernsthaft, den Anbieter zu "
        "wechseln.",
    ),
)
AT_RISK_FAX = (
    "Reklamation Lieferung",
    "Reklamation zur Lieferung vom Montag: zwei Kartons Toner fehlen, ein Karton war "
    "beschädigt. Das ist nun schon das zweite Mal. So geht es nicht weiter, wir erwarten "
    "eine sofortige Klärung.",
)
FAX_ORDERS: tuple[Text, ...] = (
    (
        "Bestellung",
        "Bestellung: 10 Kartons Kopierpapier A4, 5 Ordner breit, 2 Tonerkartuschen schwarz. "
        "Lieferung bitte bis Freitag an die bekannte Anschrift.",
    ),
    (
        "Auftrag Wartung",
        "Hiermit beauftragen wir die Wartung unserer zwei Drucker im Erdgeschoss. Termin "
        "bitte nach telefonischer Absprache.",
    ),
    (
        "Lieferschein",
        "Anbei der unterschriebene Lieferschein Nr. 2291 zur Lieferung der Aktenschränke.",
    ),
)

# Staff answers, by what the customer wrote.
REPLIES = {
    "complaint": (
        "das tut uns sehr leid. Wir kümmern uns sofort darum und melden uns spätestens "
        "morgen bei Ihnen.",
        "bitte entschuldigen Sie den Ärger. Ich habe den Vorgang an unseren Service "
        "gegeben, Sie hören noch heute von uns.",
    ),
    "praise": (
        "herzlichen Dank für Ihre freundlichen Worte, das geben wir gern an das Team weiter.",
    ),
    "neutral": (
        "anbei wie besprochen unser Angebot. Bei Fragen rufen Sie mich gern an.",
        "der Termin ist eingetragen, unser Techniker kommt wie vereinbart.",
        "die Bestellung ist bei uns eingegangen und geht morgen in den Versand.",
        "vielen Dank für Ihre Nachricht, wir haben alles so notiert.",
    ),
}
OFFERS = (
    ("Ihr Angebot Wartungsvertrag", "anbei unser Angebot für den Wartungsvertrag 2026."),
    ("Herbstaktion Toner", "bis Ende des Monats erhalten Stammkunden 10 % auf alle Toner."),
    ("Terminbestätigung", "hiermit bestätigen wir den Beratungstermin bei Ihnen vor Ort."),
)

# What staff write on a card after a call today (some are the customer's own words).
CALL_NOTES = (
    "Kunde möchte ein Angebot für einen Wartungsvertrag, Rückruf am Donnerstag vereinbart.",
    "Toner telefonisch bestellt, Lieferung am Freitag.",
    "Interessiert sich für ein Leasingangebot für einen Farbdrucker, bitte Angebot schicken.",
    "Termin für die Beratung vor Ort am Montag um 10 Uhr bestätigt.",
    "Kunde ist mit der Reparatur sehr zufrieden und bedankt sich ausdrücklich beim Techniker.",
    "Beschwert sich über die lange Wartezeit in der Hotline, war sehr verärgert.",
)
# (title, days until due, assignee: None for the user who types it)
TASKS = (
    ("Angebot Wartungsvertrag schicken", 2, None),
    ("Leasingangebot Farbdrucker erstellen", 5, None),
    ("Techniker-Termin bestätigen", 0, "jb"),
    ("Gutschrift prüfen", 1, "sw"),
    ("Nachfassen: Angebot Bürostühle", 7, None),
)
SIGN_OFF = "Mit freundlichen Grüßen"


def mood_of(text: Text) -> str:
    """What the classifier reads in a customer's text: complaint, praise or neutral."""
    if text in COMPLAINT or text in AT_RISK_MAILS or text == AT_RISK_FAX:
        return "complaint"
    return "praise" if text in PRAISE else "neutral"
