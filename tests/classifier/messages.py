"""Realistic customer messages written for the tests (not in the evaluation set)."""

from __future__ import annotations

COMPLAINTS = [
    "Die bestellten Ersatzteile sind immer noch nicht da, obwohl Sie letzte Woche "
    "zugesagt hatten, dass sie am Dienstag kommen. Wir stehen mit der Baustelle still.",
    "Schon wieder eine falsche Rechnung! Bitte korrigieren Sie das endlich.",
    "Ich bin wirklich verärgert: Der Kundendienst hat zweimal den Termin verpasst.",
    "Das Gerät ist nach drei Tagen kaputt gegangen. So eine schlechte Qualität.",
    "Your engineer did not turn up and nobody bothered to call us. Very poor.",
    "We are extremely unhappy with the delays and will look for another supplier.",
    "The replacement is broken too. This is ridiculous.",
    "Unfreundlicher Mitarbeiter am Telefon, Problem nicht gelöst, Zeit verschwendet.",
    "Wir haben zu viel bezahlt und warten seit Wochen auf die Erstattung. Eine Zumutung.",
    "Terrible experience, the order arrived damaged and incomplete.",
]
PRAISE = [
    "Vielen herzlichen Dank für die schnelle Hilfe gestern, Sie haben uns den Tag gerettet!",
    "Ihr Team hat hervorragende Arbeit geleistet, wir sind rundum zufrieden.",
    "Die neue Anlage läuft wunderbar. Danke für die tolle Betreuung!",
    "Many thanks for the excellent service, your technician was brilliant.",
    "We love the new design, thank you so much for your great work!",
    "Großes Kompliment an Herrn Krüger, sehr freundlich und kompetent.",
    "Everything arrived on time and in perfect shape. Fantastic, thanks!",
    "Wir sind begeistert von der Qualität und empfehlen Sie gerne weiter.",
    "Thank you for the wonderful cooperation this year, it was a pleasure.",
    "Super schnell geliefert, alles perfekt. Danke!",
]
NEUTRAL = [
    "Bitte schicken Sie uns ein Angebot über 12 Rollen Klebeband, Artikel 5520.",
    "Der Termin am Mittwoch um 10 Uhr passt uns.",
    "Anbei die Bestellung für das zweite Quartal.",
    "Could you send the delivery note for order 77812 again?",
    "Our office will be closed on Friday.",
    "Wie ist Ihre Faxnummer für die Auftragsbestätigung?",
    "Please invoice this to our Hamburg branch.",
    "Ich melde mich nächste Woche wegen der Details.",
    "Which colours is the model available in?",
    "Die neue Ansprechpartnerin in unserer Buchhaltung ist Frau Öztürk.",
]
