"""German (default) and English UI texts, and dates and numbers formatted per language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers

# English text -> German. English is the key, so a missing entry still reads sensibly.
GERMAN: dict[str, str] = {
    "Dashboard": "Übersicht",
    "Contacts": "Kontakte",
    "Tasks": "Aufgaben",
    "Settings": "Einstellungen",
    "Users": "Benutzer",
    "Log out": "Abmelden",
    "Log in": "Anmelden",
    "User name": "Benutzername",
    "Password": "Passwort",
    "Wrong user name or password, or the account is locked for a while.": (
        "Benutzername oder Passwort falsch, oder das Konto ist vorübergehend gesperrt."
    ),
    "Search": "Suchen",
    "Search contacts, numbers, subjects": "Kontakte, Nummern, Betreffe suchen",
    "Results": "Ergebnisse",
    "Nothing found.": "Nichts gefunden.",
    "Messages": "Nachrichten",
    # Contact card: threads, attachments, faxes (hub/web/templates/_entry.html)
    "outgoing": "ausgehend",
    "incoming": "eingehend",
    "Thread": "Verlauf",
    "pages": "Seiten",
    "Page 1": "Seite 1",
    "Download document": "Dokument herunterladen",
    "Document unreadable": "Dokument nicht lesbar",
    "Recognized text": "Erkannter Text",
    "Text recognition pending": "Texterkennung läuft noch",
    "Company": "Firma",
    "Customer number": "Kundennummer",
    "Email": "E-Mail",
    "Phone": "Telefon",
    "Notes": "Notizen",
    "Edit": "Bearbeiten",
    "Save": "Speichern",
    # Consent per channel on the card (hub/web/templates/_consent.html), and on tasks
    "Consent to be contacted": "Einwilligung zur Kontaktaufnahme",
    "Letter": "Brief",
    "allowed": "erlaubt",
    "blocked": "gesperrt",
    "Record consent": "Einwilligung erfassen",
    "Channel": "Kanal",
    "Consent": "Einwilligung",
    "Source (e.g. call on 07.12.)": "Quelle (z. B. Anruf 07.12.)",
    "Said on": "Erklärt am",
    "Invalid date.": "Ungültiges Datum.",
    "The date lies in the future.": "Das Datum liegt in der Zukunft.",
    "Do not contact by": "Keine Kontaktaufnahme per",
    "Add note": "Notiz speichern",
    "Note": "Notiz",
    "Open task": "Aufgabe anlegen",
    "Title": "Titel",
    "Due": "Fällig",
    "All": "Alle",
    "Calls": "Anrufe",
    "Emails": "E-Mails",
    "Risk": "Risiko",
    "At risk": "Abwanderungsgefahr",
    "Complaint": "Beschwerde",
    "Praise": "Lob",
    "Neutral": "Neutral",
    "Older": "Ältere",
    "Newer": "Neuere",
    "incoming call": "Eingehender Anruf",
    "outgoing call": "Ausgehender Anruf",
    "answered": "angenommen",
    "missed": "verpasst",
    "busy": "besetzt",
    "rejected": "abgewiesen",
    "voicemail": "Mailbox",
    "ringing": "klingelt",
    "unknown": "unbekannt",
    "by": "von",
    "from": "von",
    "to": "an",
    "Attachments": "Anhänge",
    "Show images": "Bilder anzeigen",
    "Remote images are blocked.": "Externe Bilder sind blockiert.",
    "My tasks": "Meine Aufgaben",
    "Team tasks": "Team-Aufgaben",
    "Complete": "Erledigt",
    "Snooze": "Zurückstellen",
    "Assign": "Zuweisen",
    "overdue": "überfällig",
    "today": "heute",
    "open": "offen",
    "snoozed": "zurückgestellt",
    "done": "erledigt",
    "No open tasks.": "Keine offenen Aufgaben.",
    "New contact": "Neuer Kontakt",
    "Create contact": "Kontakt anlegen",
    "Given name": "Vorname",
    "Family name": "Nachname",
    "Merge duplicate into this contact": "Dublette in diesen Kontakt zusammenführen",
    "Merge": "Zusammenführen",
    "Contact id of the duplicate": "Kontakt-ID der Dublette",
    "Assign to contact": "Kontakt zuordnen",
    "Language": "Sprache",
    "Lines and extensions for the call pop-up (comma-separated, empty: all)": (
        "Leitungen und Nebenstellen für das Anruf-Fenster (durch Komma getrennt, leer: alle)"
    ),
    "Change password": "Passwort ändern",
    "New password": "Neues Passwort",
    "Saved.": "Gespeichert.",
    "Role": "Rolle",
    "Add user": "Benutzer anlegen",
    "Display name": "Anzeigename",
    "Today's calls": "Heutige Anrufe",
    "Customers at risk": "Kunden mit Abwanderungsgefahr",
    "Complaints and praise": "Beschwerden und Lob",
    "Capture health": "Erfassung",
    "Open tasks": "Offene Aufgaben",
    "Last interactions": "Letzte Kontakte",
    "Unknown caller": "Unbekannter Anrufer",
    "Call ended": "Anruf beendet",
    "Outcome": "Ergebnis",
    "Save note": "Notiz speichern",
    "Follow-up task": "Folgeaufgabe",
    "Close": "Schließen",
    "Call": "Anruf",
    "week": "Woche",
    "API tokens": "API-Tokens",
    "New API token": "Neues API-Token",
    "Copy this token now; it is not shown again:": (
        "Dieses Token jetzt kopieren, es wird nicht wieder angezeigt:"
    ),
    "Label": "Bezeichnung",
    # Editing a contact: phone labels and refused values (hub/contacts/edits.py)
    "Landline": "Festnetz",
    "Switchboard": "Zentrale",
    "Mobile": "Mobil",
    "Home": "Privat",
    "Other": "Sonstige",
    "Not a phone number: {text}": "Keine Telefonnummer: {text}",
    "Not an email address: {text}": "Keine E-Mail-Adresse: {text}",
    "At most {count} numbers per contact.": "Höchstens {count} Nummern je Kontakt.",
    "At most {count} email addresses per contact.": (
        "Höchstens {count} E-Mail-Adressen je Kontakt."
    ),
    "Someone else changed this contact.": (
        "Jemand anderes hat diesen Kontakt inzwischen geändert. Bitte neu laden."
    ),
    "Unknown senders": "Unbekannte Absender",
    "Mark missed calls seen": "Verpasste Anrufe als gesehen markieren",
    "Not found.": "Nicht gefunden.",
    "Forbidden.": "Nicht erlaubt.",
    "Last complaint": "Letzte Beschwerde",
    # Numbers offered from email signatures (contact card)
    "from signature": "aus Signatur",
    "Fax": "Fax",
    "Remove": "Entfernen",
    # Unknown senders (hub/web/pages_senders.py)
    "Faxes": "Faxe",
    "Sender": "Absender",
    "Last": "Zuletzt",
    "Contact: name, number or ID": "Kontakt: Name, Nummer oder ID",
    "No single contact matches.": "Kein eindeutiger Kontakt gefunden.",
    # Call list, contact import, risk list, classification corrections (E1)
    "Today": "Heute",
    "days": "Tage",
    "Mark selected missed calls seen": "Ausgewählte verpasste Anrufe als gesehen markieren",
    "missed, not seen": "verpasst, nicht gesehen",
    "Mark seen": "Als gesehen markieren",
    "seen by": "gesehen von",
    "No calls.": "Keine Anrufe.",
    "Import contacts": "Kontakte importieren",
    "CSV or Excel export (e.g. from Outlook), or vCard file; at most": (
        "CSV- oder Excel-Export (z. B. aus Outlook) oder vCard-Datei; höchstens"
    ),
    "Duplicates": "Dubletten",
    "merge into the existing contact": "in den vorhandenen Kontakt übernehmen",
    "only report them": "nur melden",
    "Preview only (writes nothing)": "Nur Vorschau (speichert nichts)",
    "Import": "Importieren",
    "Preview": "Vorschau",
    "Imported": "Importiert",
    "created": "angelegt",
    "merged": "zusammengeführt",
    "unchanged": "unverändert",
    "duplicates": "Dubletten",
    "errors": "Fehler",
    "create": "anlegen",
    "merge": "zusammenführen",
    "duplicate": "Dublette",
    "error": "Fehler",
    "Line": "Zeile",
    "Result": "Ergebnis",
    "Name": "Name",
    "Why": "Grund",
    "more rows created without remarks": "weitere Zeilen ohne Anmerkung angelegt",
    # Import remarks: keys from adapters/importers/remarks.py, {placeholders} kept
    "more rows with remarks; kartei import --json lists every row": (
        "weitere Zeilen mit Anmerkungen; kartei import --json listet alle Zeilen"
    ),
    "only {found} of the header's {expected} fields; not imported "
    "(check the row's separators and quotes)": (
        "nur {found} von {expected} Feldern der Kopfzeile; nicht importiert "
        "(Trennzeichen und Anführungszeichen der Zeile prüfen)"
    ),
    "{found} fields, the header has {expected}; not imported "
    "(a separator inside a cell needs quotes)": (
        "{found} Felder, die Kopfzeile hat {expected}; nicht importiert "
        "(ein Trennzeichen in einem Feld braucht Anführungszeichen)"
    ),
    "no name, company, email or phone number": (
        "kein Name, keine Firma, E-Mail-Adresse oder Telefonnummer"
    ),
    "unreadable vCard: {detail}": "vCard nicht lesbar: {detail}",
    "the contact changed during the import; import again": (
        "der Kontakt wurde während des Imports geändert; bitte erneut importieren"
    ),
    "email '{text}' is not an address; left out": "E-Mail „{text}“ ist keine Adresse; weggelassen",
    "phone '{text}' is not a phone number; left out": (
        "Telefon „{text}“ ist keine Telefonnummer; weggelassen"
    ),
    "imported before": "bereits importiert",
    "same email {email} as {name}": "gleiche E-Mail-Adresse {email} wie {name}",
    "same phone {number} as {name}": "gleiche Telefonnummer {number} wie {name}",
    "similar name at {company} as {name}": "ähnlicher Name bei {company} wie {name}",
    "same email {email}: nothing new": "gleiche E-Mail-Adresse {email}: nichts Neues",
    "same phone {number}: nothing new": "gleiche Telefonnummer {number}: nichts Neues",
    "similar name at {company}: nothing new": "ähnlicher Name bei {company}: nichts Neues",
    "the file is empty": "die Datei ist leer",
    "the file has no rows": "die Datei enthält keine Zeilen",
    "no header row found (expected columns like Name, Vorname, Firma, E-Mail, Telefon); "
    "name the columns with --mapping COLUMN=FIELD": (
        "keine Kopfzeile gefunden (erwartet werden Spalten wie Name, Vorname, Firma, E-Mail, "
        "Telefon); Spalten so benennen oder mit kartei import --mapping SPALTE=FELD zuordnen"
    ),
    "line {line}: unreadable CSV ({detail})": "Zeile {line}: CSV nicht lesbar ({detail})",
    "not a readable .xlsx workbook: {detail}": "keine lesbare .xlsx-Arbeitsmappe: {detail}",
    "more than {count} rows; split the file": "mehr als {count} Zeilen; bitte die Datei aufteilen",
    "{size} bytes; files over {limit} bytes are refused": (
        "{size} Bytes; Dateien über {limit} Bytes werden abgelehnt"
    ),
    "no BEGIN:VCARD found; not a vCard file": "kein BEGIN:VCARD gefunden; keine vCard-Datei",
    "Contact import is not available.": "Der Kontaktimport ist nicht verfügbar.",
    "The file is too large.": "Die Datei ist zu groß.",
    "The file is empty.": "Die Datei ist leer.",
    "The file cannot be read.": "Die Datei kann nicht gelesen werden.",
    "Check the classifier's labels": "Einordnungen des Klassifikators prüfen",
    "No customer at risk.": "Kein Kunde mit Abwanderungsgefahr.",
    "Score": "Wert",
    "Last acknowledged": "Zuletzt erledigt",
    "What was done (call, letter, voucher)": "Was wurde getan (Anruf, Brief, Gutschein)",
    "Acknowledge": "Erledigt",
    "Classified messages": "Eingeordnete Nachrichten",
    "Last 30 days. A correction changes the risk list and trains the classifier.": (
        "Die letzten 30 Tage. Eine Korrektur ändert die Risikoliste und trainiert den "
        "Klassifikator."
    ),
    "Correct label": "Richtige Einordnung",
    "Correct": "Korrigieren",
    # Checking the classifier's labels, training it
    "Classified as": "Eingeordnet als",
    "checked": "geprüft",
    "The label is right": "Die Einordnung stimmt",
    "Right": "Stimmt",
    "Please check": "Bitte prüfen",
    "The messages the classifier is least sure of. Each click teaches it the firm's own words.": (
        "Die Nachrichten, bei denen der Klassifikator am unsichersten ist. Jeder Klick bringt "
        "ihm die Sprache der Firma bei."
    ),
    "Checked so far": "Bisher geprüft",
    "Nothing to check.": "Nichts zu prüfen.",
    # The queue's number is the margin between the two likeliest labels, not a probability.
    "margin over the runner-up: {count} percentage point": (
        "Abstand zur zweiten Wahl: {count} Prozentpunkt"
    ),
    "margin over the runner-up: {count} percentage points": (
        "Abstand zur zweiten Wahl: {count} Prozentpunkte"
    ),
    "How far the model put its label ahead of its second choice: the smaller, the less sure "
    "it is.": (
        "Wie weit das Modell seine Einordnung vor die zweite Wahl gestellt hat: je kleiner, "
        "desto unsicherer ist es."
    ),
    "All labels": "Alle Einordnungen",
    "Classification checks": "Prüfung der Einordnungen",
    "The classifier": "Der Klassifikator",
    "Model in use": "Verwendetes Modell",
    "as shipped (trained on English sentences only)": (
        "wie ausgeliefert (nur mit englischen Sätzen trainiert)"
    ),
    "Learned from": "Gelernt aus",
    "{count} correction": "{count} Korrektur",
    "{count} corrections": "{count} Korrekturen",
    "On corrections it did not learn from": "Auf Korrekturen, aus denen es nicht gelernt hat",
    "macro F1": "Makro-F1",
    "complaints F1": "F1 Beschwerden",
    "cross-validated on all corrections": "kreuzvalidiert auf allen Korrekturen",
    "Model": "Modell",
    "Date": "Datum",
    "Previous model": "Bisheriges Modell",
    "New model": "Neues Modell",
    "encoder fine-tuned": "Encoder nachtrainiert",
    "in use since": "verwendet seitdem",
    "not better: not used": "nicht besser: nicht verwendet",
    "Back to the previous model": "Zurück zum vorigen Modell",
    "Scores on the firm's own corrections, held back from training. Train: kartei classify "
    "train; back to the previous model: kartei classify rollback.": (
        "Werte auf den eigenen Korrekturen der Firma, die beim Training zurückgehalten wurden. "
        "Trainieren: kartei classify train; zurück zum vorigen Modell: kartei classify rollback."
    ),
    "CW": "KW",  # calendar week, on the dashboard's chart
    # Error pages (hub/web/errors.py)
    "Page not found": "Seite nicht gefunden",
    "There is no page at this address; the link may be out of date.": (
        "Unter dieser Adresse gibt es keine Seite; vielleicht ist der Link veraltet."
    ),
    "Action not possible": "Aktion nicht möglich",
    "This action is not possible here.": "Diese Aktion ist hier nicht möglich.",
    "Invalid request": "Ungültige Anfrage",
    "Access denied": "Kein Zugriff",
    "Your account may not open this page or carry out this action.": (
        "Ihr Zugang erlaubt diese Seite oder diese Aktion nicht."
    ),
    "The address contains values this page cannot read.": (
        "Die Adresse enthält Angaben, die diese Seite nicht lesen kann."
    ),
    "An error occurred": "Ein Fehler ist aufgetreten",
    "The error was logged. Please try again, or tell your administrator.": (
        "Der Fehler wurde protokolliert. Bitte versuchen Sie es noch einmal oder wenden Sie "
        "sich an Ihre Administration."
    ),
    "Temporarily unavailable": "Vorübergehend nicht erreichbar",
    "The database cannot be reached at the moment. Please try again in a few seconds.": (
        "Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen "
        "Sekunden noch einmal."
    ),
    "Request not processed": "Anfrage nicht bearbeitet",
    "The request could not be processed.": "Die Anfrage konnte nicht bearbeitet werden.",
    "Error": "Fehler",
    "Back to the dashboard": "Zurück zur Übersicht",
    # Dashboard: missed calls still owed a call back (hub/web/templates/dashboard.html)
    "No calls today.": "Heute noch keine Anrufe.",
    "Missed on earlier days, not called back": "An früheren Tagen verpasst, nicht zurückgerufen",
    "Calls of the last {days} days": "Anrufe der letzten {days} Tage",
    "None: every missed call of the last days was seen or called back.": (
        "Keine: Jeder verpasste Anruf der letzten Tage wurde gesehen oder zurückgerufen."
    ),
    # Counted things: singular and plural keys, chosen by `counted` (below)
    "{count} page": "{count} Seite",
    "{count} pages": "{count} Seiten",
    "{count} day": "{count} Tag",
    "{count} days": "{count} Tage",
    "{count} more row created without remarks": "{count} weitere Zeile ohne Anmerkung angelegt",
    "{count} more rows created without remarks": ("{count} weitere Zeilen ohne Anmerkung angelegt"),
    "{count} more row with remarks; kartei import --json lists every row": (
        "{count} weitere Zeile mit Anmerkungen; kartei import --json listet alle Zeilen"
    ),
    "{count} more rows with remarks; kartei import --json lists every row": (
        "{count} weitere Zeilen mit Anmerkungen; kartei import --json listet alle Zeilen"
    ),
    # Why a customer is at risk: keys from projections/risk_reason.py, {placeholders} kept
    "{count} complaint in {days} days": "{count} Beschwerde in {days} Tagen",
    "{count} complaints in {days} days": "{count} Beschwerden in {days} Tagen",
    "praised once": "einmal gelobt",
    "praised {count} times": "{count}-mal gelobt",
    # German throughout: codes named by hub/web/labels.py, snooze, units
    "Staff": "Mitarbeiter",
    "Administrator": "Administrator",
    "Tax auditor": "Betriebsprüfer",
    "starting": "startet",
    "running": "läuft",
    "degraded": "eingeschränkt",
    "failed": "Fehler",
    "restarting": "startet neu",
    "stopped": "angehalten",
    "off": "aus",
    "standby": "Bereitschaft",
    "Database": "Datenbank",
    "Web interface": "Weboberfläche",
    "Timed jobs": "Zeitgesteuerte Aufgaben",
    "Daily backup": "Tägliche Datensicherung",
    "Retention rules": "Aufbewahrungsregeln",
    "Archive proofs (Merkle log)": "Archivnachweise (Merkle-Log)",
    "Archive": "Archiv",
    "Every captured email and fax, unaltered, with the proof that it is.": (
        "Jede erfasste E-Mail und jedes Fax, unverändert, mit dem Nachweis dafür."
    ),
    "Access until": "Zugang bis",
    "Search sender, recipient, subject": "Absender, Empfänger, Betreff suchen",
    "A search covers the newest entries:": "Eine Suche umfasst die neuesten Einträge:",
    "Captured": "Erfasst",
    "Kind": "Art",
    "Recipients": "Empfänger",
    "Email received": "E-Mail empfangen",
    "Email sent": "E-Mail gesendet",
    "Unreadable input": "Nicht lesbarer Eingang",
    "Erased (kept as a hash)": "Gelöscht (als Hashwert erhalten)",
    "Subject": "Betreff",
    "Position in the log": "Position im Protokoll",
    "Content": "Inhalt",
    "Download the original": "Original herunterladen",
    "Proof": "Nachweis",
    "Contained in signed tree head": "Enthalten in der signierten Baumwurzel",
    "entries": "Einträge",
    "leaf": "Blatt",
    "Audit path": "Prüfpfad",
    "Root hash": "Wurzel-Hashwert",
    "Signed": "Signiert",
    "Not yet in a signed tree head.": "Noch in keiner signierten Baumwurzel.",
    "Classifier": "Klassifikator",
    "Alerts": "Benachrichtigungen",
    "Call list": "Anrufliste",
    "Contact directory": "Kontaktverzeichnis",
    "Statistics": "Statistik",
    "Numbers and addresses of contacts": "Nummern und Adressen der Kontakte",
    "Email threads": "E-Mail-Verläufe",
    "Risk list": "Risikoliste",
    "Task list": "Aufgabenliste",
    "Contact histories": "Kontaktverläufe",
    "Call-back tasks": "Rückrufaufgaben",
    "Risk detection": "Risikoerkennung",
    "Message classification": "Einordnung der Nachrichten",
    "Numbers from signatures": "Nummern aus Signaturen",
    "Email intake (SMTP)": "E-Mail-Eingang (SMTP)",
    "Fax intake": "Faxeingang",
    "Fax text recognition (catch-up)": "Fax-Texterkennung (Nachholen)",
    "Fax text recognition": "Fax-Texterkennung",
    "Telegram bot": "Telegram-Bot",
    "Phone system (webhooks)": "Telefonanlage (Webhooks)",
    "Mailbox {name}": "Postfach {name}",
    "Fax mailbox {name}": "Fax-Postfach {name}",
    "Read model {name}": "Ansicht {name}",
    "Automation {name}": "Automatik {name}",
    "Phone system {name}": "Telefonanlage {name}",
    "in 1 hour": "in 1 Stunde",
    "in 1 day": "in 1 Tag",
    "in 1 week": "in 1 Woche",
    "{size} MB": "{size} MB",
    "Contact ID": "Kontakt-ID",
    "Desktop notifications": "Desktop-Benachrichtigungen",
    "CSV file": "CSV-Datei",
    "Excel workbook": "Excel-Arbeitsmappe",
    "vCard file": "vCard-Datei",
    # One look for every page: navigation, card, dashboard, pop
    "Skip to content": "Zum Inhalt springen",
    "No unknown senders.": "Keine unbekannten Absender.",
    "No faxes from unknown numbers.": "Keine Faxe von unbekannten Nummern.",
    "Emails and faxes from addresses and numbers no contact has land here, to be made a "
    "contact or assigned to one. They arrive once the mailboxes (or the fax line) are "
    "connected in kartei.toml.": (
        "Hier landen E-Mails und Faxe von Adressen und Nummern, die kein Kontakt hat, um "
        "daraus einen Kontakt zu machen oder sie einem zuzuordnen. Sie kommen, sobald die "
        "Postfächer (oder die Faxleitung) in kartei.toml angebunden sind."
    ),
    "Search finds names, companies, numbers in any form (030 123456, +49 30 123456), email "
    "addresses and cities, and words in the subjects and texts of emails, faxes and notes.": (
        "Die Suche findet Namen, Firmen, Nummern in jeder Schreibweise (030 123456, "
        "+49 30 123456), E-Mail-Adressen und Orte, und Wörter in Betreff und Text von "
        "E-Mails, Faxen und Notizen."
    ),
    "File": "Datei",
    "Main": "Hauptmenü",
    "Name, number, subject …": "Name, Nummer, Betreff …",
    "Suggestions": "Vorschläge",
    "answered by": "angenommen von",
    "Enter opens the card, Esc closes": "Enter öffnet die Karte, Esc schließt",
    "Person": "Person",
    "Address": "Adresse",
    "Tags": "Schlagwörter",
    "Owner": "Betreuer",
    "People": "Ansprechpartner",
    "No people at this company yet.": "Noch keine Ansprechpartner bei dieser Firma.",
    "A contact whose company is this one appears here, with their history in this card's "
    "timeline.": (
        "Wer bei dieser Firma arbeitet, steht hier; sein Verlauf erscheint in dieser Karte."
    ),
    "History": "Verlauf",
    "Card created": "Karte angelegt",
    "Card changed": "Karte geändert",
    "Duplicate card merged": "Doppelte Karte zusammengeführt",
    "Number found in an email signature": "Nummer in einer E-Mail-Signatur gefunden",
    "Consent recorded": "Einwilligung vermerkt",
    "Email from you": "E-Mail von Ihnen",
    "Email to you": "E-Mail an Sie",
    "Phone call": "Telefonat",
    "Fax from you": "Fax von Ihnen",
    "Fax text recognised": "Fax-Text erkannt",
    "Message assessed as": "Nachricht eingeordnet als",
    "Assessment corrected to": "Einordnung korrigiert zu",
    "with its people": "mit den Ansprechpartnern",
    "Filter the history": "Verlauf filtern",
    "Nothing of this kind in this period.": "Nichts dieser Art in diesem Zeitraum.",
    "Choose “All” or a longer period above.": "Oben „Alle“ oder einen längeren Zeitraum wählen.",
    "Emails, calls, faxes and notes with this contact appear here.": (
        "Hier erscheinen E-Mails, Anrufe, Faxe und Notizen mit diesem Kontakt."
    ),
    "They arrive by themselves once the mailboxes and the phone system are connected "
    "(kartei.toml, see the README); a note written here shows at once.": (
        "Sie kommen von selbst, sobald Postfächer und Telefonanlage angebunden sind "
        "(kartei.toml, siehe README); eine Notiz von hier erscheint sofort."
    ),
    "Pages": "Seiten",
    "Entry": "Eintrag",
    "Task": "Aufgabe",
    "Yesterday": "Gestern",
    "Monday": "Montag",
    "Tuesday": "Dienstag",
    "Wednesday": "Mittwoch",
    "Thursday": "Donnerstag",
    "Friday": "Freitag",
    "Saturday": "Samstag",
    "Sunday": "Sonntag",
    "Good day, {name}": "Guten Tag, {name}",
    "Complaints and praise per calendar week": "Beschwerden und Lob je Kalenderwoche",
    "{count} complaint": "{count} Beschwerde",
    "{count} complaints": "{count} Beschwerden",
    "{count} praise": "{count}-mal Lob",
    "Calendar week": "Kalenderwoche",
    "Complaints": "Beschwerden",
    "Calls appear here as they ring, with the caller's name, once the phone system is "
    "connected (FRITZ!Box call monitor or sipgate, see docs/telephony.md).": (
        "Anrufe erscheinen hier, sobald es klingelt, mit dem Namen des Anrufers, wenn die "
        "Telefonanlage angebunden ist (FRITZ!Box-Anrufmonitor oder sipgate, siehe "
        "docs/telephony.md)."
    ),
    "Call-back tasks for missed calls and tasks opened on a card or from the pop appear here.": (
        "Hier erscheinen Rückrufe für verpasste Anrufe und Aufgaben, die auf einer Karte "
        "oder im Anruffenster angelegt wurden."
    ),
    "A customer who complains repeatedly is listed here with the reason, once the "
    "classifier reads the mail ([classifier] in kartei.toml).": (
        "Wer sich wiederholt beschwert, steht hier mit dem Grund, sobald der Klassifikator "
        "die Post liest ([classifier] in kartei.toml)."
    ),
    # Privacy: erase, export, audit (hub/web/pages_privacy.py, docs/privacy.md)
    "Privacy": "Datenschutz",
    "Audit trail": "Protokoll",
    "Who viewed, looked up, exported or erased which contact, and what administrators changed.": (
        "Wer welchen Kontakt angesehen, gesucht, exportiert oder gelöscht hat, und was "
        "Administratoren geändert haben."
    ),
    "When": "Wann",
    "Who": "Wer",
    "What": "Was",
    "Contact": "Kontakt",
    "Details": "Einzelheiten",
    "Card viewed": "Karte angesehen",
    "Contacts searched": "Kontakte gesucht",
    "query of {count} character": "Suche mit {count} Zeichen",
    "query of {count} characters": "Suche mit {count} Zeichen",
    "{count} contact found": "{count} Kontakt gefunden",
    "{count} contacts found": "{count} Kontakte gefunden",
    # The command line's import messages (hub/cli/mail.py, hub/cli/contacts.py)
    "{path}: no such file or folder": "{path}: Datei oder Ordner nicht gefunden",
    "--folder chooses folders of .pst files, and none was given": (
        "--folder wählt Ordner in .pst-Dateien, es wurde aber keine angegeben"
    ),
    "{added} of {count} message was new; {skipped} skipped (internal or excluded).": (
        "{added} von {count} Nachricht neu; "
        "{skipped} nicht übernommen (intern oder ausgeschlossen)."
    ),
    "{added} of {count} messages were new; {skipped} skipped (internal or excluded).": (
        "{added} von {count} Nachrichten neu; "
        "{skipped} nicht übernommen (intern oder ausgeschlossen)."
    ),
    "importing": "Import läuft",
    "importing {file}": "{file} wird importiert",
    "--on-duplicate: expected merge or report": "--on-duplicate: merge oder report erwartet",
    "line {line}:": "Zeile {line}:",
    "... and {count} more row (use --json for all)": (
        "... und {count} weitere Zeile (alle mit --json)"
    ),
    "... and {count} more rows (use --json for all)": (
        "... und {count} weitere Zeilen (alle mit --json)"
    ),
    "Preview only: nothing was written.": "Nur Vorschau: Es wurde nichts gespeichert.",
    # kartei import-mail FILE.pst (hub/cli/pst_report.py, adapters/mail/pst.py's errors)
    "{file}/{folder}: {read} of {total} read": "{file}/{folder}: {read} von {total} gelesen",
    "({count} by an earlier run)": "({count} aus einem früheren Lauf)",
    "{count} new": "{count} neu",
    "{count} already archived": "{count} bereits erfasst",
    "{count} not mail (calendar, contacts ...)": "{count} keine E-Mail (Kalender, Kontakte ...)",
    "{folder} ({count} message)": "{folder} ({count} Nachricht)",
    "{folder} ({count} messages)": "{folder} ({count} Nachrichten)",
    "{file}: skipped: {folders}; read it with {option}": (
        "{file}: übersprungen: {folders}; einlesen mit {option}"
    ),
    "skipped: {folders}": "übersprungen: {folders}",
    "{file}: no folder {names}; it has {folders}": (
        "{file}: Ordner {names} nicht gefunden; vorhanden sind {folders}"
    ),
    "not a readable PST file ({reason})": "keine lesbare PST-Datei ({reason})",
    "the folder tree is damaged ({reason})": "die Ordnerstruktur ist beschädigt ({reason})",
    "{folder}, message {number}: {reason}": "{folder}, Nachricht {number}: {reason}",
    "{folder}, message {number}: cannot rebuild it ({reason})": (
        "{folder}, Nachricht {number}: lässt sich nicht als E-Mail zusammensetzen ({reason})"
    ),
    "What could be read is imported; run again once the file is repaired (scanpst.exe): "
    "nothing is stored twice.": (
        "Was lesbar war, ist importiert; nach der Reparatur der Datei (scanpst.exe) erneut "
        "ausführen: Nichts wird doppelt gespeichert."
    ),
    "reading Outlook .pst files needs libpff, which Kartei installs with its extra 'pst': "
    "pip install 'kartei[pst]'": (
        "Zum Lesen von Outlook-.pst-Dateien braucht Kartei libpff; es wird mit dem Extra "
        "'pst' installiert: pip install 'kartei[pst]'"
    ),
    "erased contact": "gelöschter Kontakt",  # never the erased name (hub/privacy/audit.py)
    "and {count} more": "und {count} weitere",
    "Data exported": "Daten exportiert",
    "Contact erased": "Kontakt gelöscht",
    "Administration": "Verwaltung",
    "Archive list viewed": "Archivliste angesehen",
    "Archive searched": "Archiv durchsucht",
    "Archived item viewed": "Archiviertes Stück angesehen",
    "Archived file downloaded": "Archivierte Datei heruntergeladen",
    "Tree head signed": "Baumwurzel signiert",
    "Archive exported": "Archiv exportiert",
    "User added": "Benutzer angelegt",
    "Password changed": "Passwort geändert",
    "API token created": "API-Token erstellt",
    "Page {number}": "Seite {number}",
    "Retention overridden": "Aufbewahrungspflicht übergangen",
    "Nothing recorded yet. Card views, exports, erasures and user changes appear here.": (
        "Noch nichts protokolliert. Hier erscheinen angesehene Karten, Exporte, Löschungen "
        "und Änderungen an Benutzern."
    ),
    "Retention duty": "Aufbewahrungspflicht",
    "These documents must still be kept. Erase only with a justification (recorded).": (
        "Diese Unterlagen sind noch aufzubewahren. Löschen Sie nur mit Begründung "
        "(wird protokolliert)."
    ),
    "Business letters": "Geschäftsbriefe",
    "Invoices": "Rechnungen",
    "until": "bis",
    "Back to the contact": "Zurück zum Kontakt",
    "Download all data of this contact (ZIP)": "Alle Daten dieses Kontakts herunterladen (ZIP)",
    "Reason (e.g. reference of the request)": "Grund (z. B. Aktenzeichen der Anfrage)",
    "Justification if a retention duty applies": "Begründung, falls eine Aufbewahrungspflicht gilt",
    "Type the contact id to confirm": "Zur Bestätigung die Kontakt-ID eingeben",
    "Type the contact id to confirm.": "Bitte zur Bestätigung die Kontakt-ID eingeben.",
    "Erase personal data": "Personenbezogene Daten löschen",
    "{count} document": "{count} Dokument",
    "{count} documents": "{count} Dokumente",
    "Your data at our firm": "Ihre Daten bei uns",
    "Exported on": "Exportiert am",
    "Email addresses": "E-Mail-Adressen",
    "Phone numbers": "Telefonnummern",
    "Documents": "Dokumente",
    "All data in machine-readable form: data.json": "Alle Daten maschinenlesbar: data.json",
    # The contact import's column mapping (adapters/importers/columns.py, kartei import
    # --mapping COLUMN=FIELD; field names stay as the option takes them)
    "mapping '{item}': write it as COLUMN=FIELD": (
        "Zuordnung '{item}': bitte als SPALTE=FELD angeben"
    ),
    "mapping '{item}': unknown field '{field}'; known: {known}": (
        "Zuordnung '{item}': unbekanntes Feld '{field}'; bekannt sind: {known}"
    ),
    "mapped columns not in the header row: {columns}": (
        "zugeordnete Spalten fehlen in der Kopfzeile: {columns}"
    ),
    # kartei archive (hub/cli/archive.py; verify's findings from hub/proofs/verify.py, the
    # export's errors from hub/proofs/export.py). Terms as the archive pages say them:
    # tree head = Baumwurzel, leaf = Blatt, hash = Hashwert, blob = (archivierte) Datei.
    "{count} blob": "{count} Datei",
    "{count} blobs": "{count} Dateien",
    "{count} tree head": "{count} Baumwurzel",
    "{count} tree heads": "{count} Baumwurzeln",
    "{count} timestamp": "{count} Zeitstempel",
    "{count} timestamps": "{count} Zeitstempel",
    "{events}, {blobs} ({erased} erased, kept as hashes), {heads}, {timestamps} checked.": (
        "Geprüft: {events}, {blobs} ({erased} davon gelöscht, als Hashwert erhalten), "
        "{heads}, {timestamps}."
    ),
    "{count} newer event is not logged yet.": (
        "{count} neueres Ereignis ist noch nicht im Merkle-Log."
    ),
    "{count} newer events are not logged yet.": (
        "{count} neuere Ereignisse sind noch nicht im Merkle-Log."
    ),
    "PROBLEM": "PROBLEM",
    "Archive intact.": "Archiv unversehrt.",
    "Archive NOT intact.": "Archiv NICHT unversehrt.",
    "tree head {head}: {reason}": "Baumwurzel {head}: {reason}",
    "tree head {head}: timestamp {reason}": "Baumwurzel {head}: Zeitstempel {reason}",
    "signature does not match the head": "Signatur passt nicht zur Baumwurzel",
    "not a kartei-tree-head/1 text": "kein Text im Format kartei-tree-head/1",
    "is over other data than this tree head": "gilt für andere Daten als diese Baumwurzel",
    "has a signature that does not match": "hat eine Signatur, die nicht passt",
    "was altered after the TSA signed it": (
        "wurde nach der Signatur des Zeitstempeldienstes verändert"
    ),
    "does not carry the TSA's certificate": "enthält das Zertifikat des Zeitstempeldienstes nicht",
    "leaf {leaf} is missing from the leaf table": "Blatt {leaf} fehlt in der Blatttabelle",
    "event at position {position} is gone": "Ereignis an Position {position} fehlt",
    "event at position {position} differs from its logged leaf": (
        "Ereignis an Position {position} geändert: passt nicht mehr zu seinem Blatt im Merkle-Log"
    ),
    "blob {locator}: logged with two hashes": (
        "Datei {locator}: mit zwei verschiedenen Hashwerten protokolliert"
    ),
    "event at position {position} is not in the Merkle log": (
        "Ereignis an Position {position} fehlt im Merkle-Log"
    ),
    "the stored tree state does not match the leaves": (
        "der gespeicherte Stand des Baums passt nicht zu den Blättern"
    ),
    "a signed head covers {size} leaves; the log holds fewer": (
        "eine signierte Baumwurzel umfasst {size} Blätter; das Merkle-Log enthält weniger"
    ),
    "tree node at level {level}, index {index} (leaves {first}-{last}) has no complete "
    "block of leaves": (
        "Baumknoten auf Ebene {level}, Index {index} (Blätter {first}-{last}): "
        "die Blätter dazu sind nicht vollständig"
    ),
    "tree node at level {level}, index {index} (leaves {first}-{last}) does not match the leaves": (
        "Baumknoten auf Ebene {level}, Index {index} (Blätter {first}-{last}) "
        "passt nicht zu den Blättern"
    ),
    "tree node at level {level}, index {index} is missing": (
        "Baumknoten auf Ebene {level}, Index {index} fehlt"
    ),
    "tree head {head}: root does not match the log": (
        "Baumwurzel {head}: Wurzel-Hashwert passt nicht zum Merkle-Log"
    ),
    "timestamp for unknown tree head {head}": "Zeitstempel zu unbekannter Baumwurzel {head}",
    "tree head {head}: timestamped, but no TSA certificate is configured to check it "
    "([archive] tsa_ca_file)": (
        "Baumwurzel {head}: hat einen Zeitstempel, aber zum Prüfen ist kein Zertifikat des "
        "Zeitstempeldienstes eingerichtet ([archive] tsa_ca_file)"
    ),
    "blob {locator} (event {event}) differs from its logged hash": (
        "Datei {locator} (Ereignis {event}) geändert: passt nicht zum protokollierten Hashwert"
    ),
    "blob {locator} (event {event}) was missing when logged": (
        "Datei {locator} (Ereignis {event}) fehlte schon bei der Protokollierung"
    ),
    "blob {locator} (event {event}) is missing": "Datei {locator} (Ereignis {event}) fehlt",
    "Tree head {head}: {events}, root {root}": (
        "Baumwurzel {head}: {events}, Wurzel-Hashwert {root}"
    ),
    "Timestamped {count} tree head.": "{count} Baumwurzel mit Zeitstempel versehen.",
    "Timestamped {count} tree heads.": "{count} Baumwurzeln mit Zeitstempel versehen.",
    "no event at position {position} in the Merkle log (yet)": (
        "kein Ereignis an Position {position} im Merkle-Log (noch nicht)"
    ),
    "no signed tree head covers position {position} yet (kartei archive sign)": (
        "noch keine signierte Baumwurzel umfasst Position {position} (kartei archive sign)"
    ),
    "no tree head {head}": "keine Baumwurzel {head}",
    "tree head {first} is larger than {second}": "Baumwurzel {first} ist größer als {second}",
    "{target} exists already; name a new folder or .zip file": (
        "{target} gibt es schon; bitte einen neuen Ordner oder eine neue .zip-Datei angeben"
    ),
    "the Merkle log's stored hashes do not give the root of head {head} "
    "(kartei archive verify names what changed)": (
        "die im Merkle-Log gespeicherten Hashwerte ergeben nicht den Wurzel-Hashwert der "
        "Baumwurzel {head} (kartei archive verify nennt, was sich geändert hat)"
    ),
    "the Merkle log lacks stored hashes of level {level} in {first}..{last} "
    "(kartei archive verify names them)": (
        "im Merkle-Log fehlen gespeicherte Hashwerte der Ebene {level} in {first}..{last} "
        "(kartei archive verify nennt sie)"
    ),
    "{count} original file": "{count} Originaldatei",
    "{count} original files": "{count} Originaldateien",
    "<the unpacked folder>": "<der entpackte Ordner>",
    "of {count} event": "von {count} Ereignis",
    "of {count} events": "von {count} Ereignissen",
    "Exported {files} {events} ({erased} erased, listed without file) to {target}, "
    "proven in tree head {head}. Check it with: python3 verify_export.py {folder}": (
        "{files} {events} ({erased} gelöscht, ohne Datei aufgeführt) nach {target} "
        "exportiert, nachgewiesen in Baumwurzel {head}. Prüfen mit: "
        "python3 verify_export.py {folder}"
    ),
    "--format {form}: html or pdf": "--format {form}: html oder pdf",
    "no timestamp authority configured ([archive] tsa_url)": (
        "kein Zeitstempeldienst eingerichtet ([archive] tsa_url)"
    ),
    "Wrote {target}.": "{target} geschrieben.",
    # kartei privacy erase|export (hub/cli/privacy.py) and why an erasure or export cannot
    # be done (hub/privacy/dossier.py's PrivacyError; the web says it too)
    "[y/N]": "[j/N]",
    "{count} key": "{count} Schlüssel",
    "{count} keys": "{count} Schlüssel",
    "{count} event": "{count} Ereignis",
    "{count} events": "{count} Ereignisse",
    "{count} year": "{count} Jahr",
    "{count} years": "{count} Jahre",
    "contact {contact} ({name})": "Kontakt {contact} ({name})",
    "kept (another contact has it too): {subject}": (
        "bleibt (ein anderer Kontakt hat es auch): {subject}"
    ),
    "retention hold {name} ({years}): {documents} until {until}": (
        "Aufbewahrungspflicht {name} ({years}): {documents} bis {until}"
    ),
    "retention holds apply: erase with --override-retention 'justification'": (
        "Aufbewahrungspflichten gelten: löschen nur mit --override-retention 'Begründung'"
    ),
    "Erase this contact's personal data for good?": (
        "Die personenbezogenen Daten dieses Kontakts endgültig löschen?"
    ),
    "nothing erased": "nichts gelöscht",
    "erased contact {contact} ({count} document removed)": (
        "Kontakt {contact} gelöscht ({count} Dokument entfernt)"
    ),
    "erased contact {contact} ({count} documents removed)": (
        "Kontakt {contact} gelöscht ({count} Dokumente entfernt)"
    ),
    "wrote {file} ({size} bytes)": "{file} geschrieben ({size} Bytes)",
    "no contact '{contact}'": "kein Kontakt '{contact}'",
    "contact {contact} was merged into {into}; use that": (
        "Kontakt {contact} wurde mit {into} zusammengeführt; bitte {into} verwenden"
    ),
    "contact {contact} is erased already": "Kontakt {contact} ist bereits gelöscht",
    "retention holds keep documents of this contact ({holds})": (
        "Aufbewahrungspflichten halten Unterlagen dieses Kontakts ({holds})"
    ),
    # kartei retention run (hub/cli/retention.py); --json stays English
    "no retention rules configured ([[retention.rules]] in kartei.toml)": (
        "keine Löschregeln eingerichtet ([[retention.rules]] in kartei.toml)"
    ),
    "--as-of only with --dry-run (nothing is erased against another day)": (
        "--as-of nur mit --dry-run (gelöscht wird nur nach dem heutigen Tag)"
    ),
    "--as-of {value}: expected a day like 2030-01-31": (
        "--as-of {value}: erwartet wird ein Tag wie 2030-01-31"
    ),
    "Erase this {count} contact for good?": "Diesen {count} Kontakt endgültig löschen?",
    "Erase these {count} contacts for good?": "Diese {count} Kontakte endgültig löschen?",
    "Retention dry run, {day}": "Löschregeln, Probelauf, {day}",
    "Retention run, {day}": "Löschregeln, Lauf, {day}",
    "contact": "Kontakt",
    "name": "Name",
    "rule": "Regel",
    "last contact": "letzter Kontakt",
    "outcome": "Ergebnis",
    "would be erased": "würde gelöscht",
    "erased": "gelöscht",
    "kept: retention hold": "bleibt: Aufbewahrungspflicht",
    "kept: exempt": "bleibt: ausgenommen",
    "{erase} to erase, {erased} erased, {held} kept by retention holds, {exempt} exempt, "
    "{failed} failed.": (
        "{erase} zu löschen, {erased} gelöscht, {held} wegen Aufbewahrungspflicht behalten, "
        "{exempt} ausgenommen, {failed} fehlgeschlagen."
    ),
    "{count} contact checked: {counts}": "{count} Kontakt geprüft: {counts}",
    "{count} contacts checked: {counts}": "{count} Kontakte geprüft: {counts}",
    # kartei backup, backup verify, restore (hub/cli/backup.py); hub/backup.py's reasons
    # stay English
    "{folder}: intact ({database}, {events} up to position {position}, {files} files, "
    "taken {taken})": (
        "{folder}: unversehrt ({database}, {events} bis Position {position}, {files} Dateien, "
        "erstellt {taken})"
    ),
    "unexpected argument {folder} (did you mean: kartei backup verify {folder}?)": (
        "unerwartetes Argument {folder} (gemeint: kartei backup verify {folder}?)"
    ),
    "Backing up ...": "Sichere ...",
    "Backed up and verified: {events} up to position {position}, {files} files in {target}.": (
        "Gesichert und geprüft: {events} bis Position {position}, {files} Dateien in {target}."
    ),
    "Restoring ...": "Stelle wieder her ...",
    "Wrote the backup's configuration to {path}.": (
        "Konfiguration der Sicherung nach {path} geschrieben."
    ),
    "Restored {events} up to position {position} (backup of {taken}). "
    "Start Kartei with: kartei run --config {path}": (
        "{events} bis Position {position} wiederhergestellt (Sicherung vom {taken}). "
        "Kartei starten mit: kartei run --config {path}"
    ),
    # kartei capture status | resync (hub/cli/mail.py); --json stays English
    "account": "Konto",
    "folder": "Ordner",
    "uidvalidity": "UIDVALIDITY",
    "last UID": "letzte UID",
    "captured": "erfasst",
    "last sync": "letzter Abgleich",
    "none": "keines",
    "no mail": "keine E-Mails",
    "Seen in a mailbox again": "In einem weiteren Postfach gefunden",
    "{account}: Sent folder not known yet (`kartei run` has not connected)": (
        "{account}: Ordner der gesendeten E-Mails noch nicht bekannt "
        "(`kartei run` war noch nicht verbunden)"
    ),
    "{account}: sent mail from {folders} (found by {found_by})": (
        "{account}: gesendete E-Mails aus {folders} (gefunden über {found_by})"
    ),
    "no [[mail.imap]] account {account}; known: {known}": (
        "kein [[mail.imap]]-Konto {account}; bekannt sind: {known}"
    ),
    "{count} new message captured (the rest were there already).": (
        "{count} neue Nachricht erfasst (die übrigen waren schon da)."
    ),
    "{count} new messages captured (the rest were there already).": (
        "{count} neue Nachrichten erfasst (die übrigen waren schon da)."
    ),
    # kartei users (hub/cli/users.py); hub/web/auth.py's UserError reasons stay English
    "Repeat": "Wiederholen",
    "the passwords differ": "die Passwörter stimmen nicht überein",
    "--until {value}: expected a day as YYYY-MM-DD": (
        "--until {value}: erwartet wird ein Tag als JJJJ-MM-TT"
    ),
    "added {user} ({role})": "{user} angelegt ({role})",
    "password of {user} changed": "Passwort von {user} geändert",
    "no user '{user}'": "kein Benutzer '{user}'",
    "user": "Benutzer",
    "role": "Rolle",
    "language": "Sprache",
    "locked until": "gesperrt bis",
    # kartei cluster status (hub/cli/cluster.py); --json stays English
    "No process holds anything: no Kartei is running on this database.": (
        "Kein Prozess hält etwas: Auf dieser Datenbank läuft kein Kartei."
    ),
    "covers": "zuständig für",
    "owner (host:pid:id)": "Inhaber (Host:PID:ID)",
    "valid for": "gültig noch",
    "{seconds} s": "{seconds} s",
    "expired": "abgelaufen",
    # kartei fax test (hub/cli/fax.py): the plain output's labels (--json keeps them)
    "profile": "Profil",
    "sender": "Absender",
    "sender_e164": "Absender (E.164)",
    "receiver": "Empfänger",
    "receiver_e164": "Empfänger (E.164)",
    "received_at": "empfangen am",
    "document": "Dokument",
    "document_error": "Dokumentfehler",
    "preview": "Vorschau",
    "text_source": "Textquelle",
    "ocr_status": "Texterkennung",
    "ocr_error": "Fehler der Texterkennung",
    "text": "Text",
    "None": "keine",
    "yes": "ja",
    "no": "nein",
    "unknown (the email names no sender number)": (
        "unbekannt (die E-Mail nennt keine Absendernummer)"
    ),
    "{name} ({type}, {size} bytes)": "{name} ({type}, {size} Bytes)",
    "{file}: larger than {size} bytes": "{file}: größer als {size} Bytes",
}


def translator(language: str):  # type: ignore[no-untyped-def]
    """The `t(text)` function templates use."""
    if language == "en":
        return lambda text: text
    return lambda text: GERMAN.get(text, text)


def plural(count: int, one: str, many: str) -> str:
    """The catalogue key for `count` things: `one` for exactly 1, else `many` (German and
    English agree on that rule: "0 Seiten", "1 Seite", "2 Seiten")."""
    return one if count == 1 else many


def counted(count: int, one: str, many: str, language: str, **values: object) -> str:
    """ "1 Seite", "3 Seiten": the singular or plural key translated, `{count}` filled in
    as the language writes numbers (and any other placeholders from `values`)."""
    text = translator(language)(plural(count, one, many))
    return str(text.format(count=format_number(count, language), **values))


def said(remarks: Iterable[tuple[str, Mapping[str, object]]], language: str) -> str:
    """Catalogue keys with the values of their placeholders, translated and filled in
    (numbers as the language writes them), joined by commas."""
    t = translator(language)
    return ", ".join(
        str(t(key)).format(**{name: _shown(value, language) for name, value in values.items()})
        for key, values in remarks
    )


def _shown(value: object, language: str) -> object:
    return format_number(value, language) if isinstance(value, int) else value


# Babel's locale data (CLDR) writes dates and numbers; the patterns are the firm's choice:
# German as DIN 5008 writes it ("07.12.2026 13:12"), English as ISO for unambiguity.
LOCALES = {"de": "de_DE", "en": "en"}
DATE_TIME = {"de": "dd.MM.yyyy HH:mm", "en": "yyyy-MM-dd HH:mm"}
DATE = {"de": "dd.MM.yyyy", "en": "yyyy-MM-dd"}


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["de"])


def format_datetime(moment: datetime | None, language: str, tz: ZoneInfo) -> str:
    """A moment in `tz`, as the language writes it ("07.12.2026 13:12")."""
    if moment is None:
        return ""
    pattern = DATE_TIME.get(language, DATE_TIME["de"])
    return babel_dates.format_datetime(moment, pattern, tzinfo=tz, locale=_locale(language))


def format_date(day: date | None, language: str) -> str:
    """A day as the language writes it ("07.12.2026")."""
    if day is None:
        return ""
    return babel_dates.format_date(day, DATE.get(language, DATE["de"]), locale=_locale(language))


def format_number(value: float | int | None, language: str, digits: int = 0) -> str:
    """A number with the language's grouping and decimal sign ("1.234,50")."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, pattern, locale=_locale(language))


def format_duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
