"""The Verfahrensdokumentation (GoBD): a German HTML document generated from the firm's
configuration and its archive's current state, describing capture, storage, proofs,
retention, access and backup. Secrets (passwords, tokens) are never written into it; the
parts only the firm can state (who is responsible, its organisation) are marked to fill in.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import jinja2
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import make_url

import hub
from hub.proofs import heads
from hub.proofs.log import MerkleLog
from hub.proofs.schema import merkle_timestamps
from hub.settings import Settings
from hub.store.schema import events

CAPTURED = ("EmailReceived", "EmailSent", "FaxReceived", "CaptureFailed")


async def facts(settings: Settings, log: MerkleLog) -> dict[str, Any]:
    """What the document states about the archive, read from the database."""
    async with log.store.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    events.c.type,
                    sa.func.count(),
                    sa.func.min(events.c.recorded_at),
                    sa.func.max(events.c.recorded_at),
                )
                .where(events.c.type.in_(CAPTURED))
                .group_by(events.c.type)
            )
        ).all()
        stamped = await conn.scalar(sa.select(sa.func.count()).select_from(merkle_timestamps))
    all_heads = await log.heads()
    frontier, _ = await log.state()
    public = heads.public_pem(heads.load_public(settings.data_dir))
    der = heads.load_public(settings.data_dir).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "counts": {r[0]: int(r[1]) for r in rows},
        "first": min((r[2] for r in rows), default=None),
        "last": max((r[3] for r in rows), default=None),
        "heads": len(all_heads),
        "last_head": all_heads[-1] if all_heads else None,
        "timestamps": int(stamped or 0),
        "leaves": frontier.size,
        "public_pem": public.decode(),
        "fingerprint": hashlib.sha256(der).hexdigest(),
    }


def render(settings: Settings, facts: dict[str, Any], firm: str = "") -> str:
    """The document; the firm named by `firm`, else by [kartei] firm, else "Unternehmen"."""
    firm = " ".join((firm or settings.kartei.firm).split()) or "Unternehmen"
    url = make_url(settings.database_url)
    database = (
        f"SQLite-Datei {url.database}"
        if url.get_backend_name() == "sqlite"
        else f"PostgreSQL auf {url.host or 'localhost'}:{url.port or 5432}, "
        f"Datenbank {url.database}"
    )
    privacy = getattr(settings, "privacy", None)
    holds = getattr(privacy, "holds", {}) if privacy is not None else {}
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(
        s=settings,
        f=facts,
        firm=firm,
        database=database,
        holds=holds,
        version=hub.__version__,
        now=datetime.now(UTC).strftime("%d.%m.%Y %H:%M UTC"),
        when=lambda d: d.strftime("%d.%m.%Y") if d else "–",
    )


TEMPLATE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<title>Verfahrensdokumentation – {{ firm }}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.45}
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left}
.fill{background:#ffc}pre{white-space:pre-wrap;font-size:.85em}</style></head><body>
<h1>Verfahrensdokumentation zur Archivierung von E-Mails und Faxen</h1>
<p><strong>{{ firm }}</strong> · erzeugt am {{ now }} von Kartei {{ version }} aus der
Konfiguration und dem aktuellen Stand des Archivs. Die Stellen mit ______ (in der
HTML-Fassung gelb hinterlegt) ergänzt das Unternehmen.</p>

<h2>1. Allgemeine Beschreibung</h2>
<p>Kartei erfasst die geschäftliche E-Mail- und Fax-Korrespondenz automatisch und bewahrt
jede Nachricht im Original unveränderbar auf (GoBD Rz. 58 ff., § 147 AO, § 257 HGB). Jede
Erfassung wird als Ereignis in einem nur anhängbaren Protokoll gespeichert; über alle
Ereignisse führt Kartei einen Merkle-Hash-Baum, dessen Wurzel täglich signiert{%
if s.archive.tsa_url %} und von einem Zeitstempeldienst gestempelt{% endif %} wird.</p>
<p class="fill">Verantwortlich für das Verfahren: ______________________ (Name, Funktion).
Organisatorische Einbettung, Vertretung und interne Kontrollen: ______________________</p>

<h2>2. Erfassung</h2>
<table><tr><th>Quelle</th><th>Einstellung</th></tr>
{% for a in s.mail.imap %}<tr><td>IMAP-Postfach „{{ a.name }}“</td><td>{{ a.username }} auf
{{ a.host }}:{{ a.port }} ({{ a.security }}); Ordner: Posteingang, Gesendet{%
for x in a.folders %}, {{ x }}{% endfor %}{% if a.since %}; erst ab {{ when(a.since) }}{%
endif %}{% if a.exclude_folders %}; ausgenommene Ordner: {{ a.exclude_folders | join(", ")
}}{% endif %}{% if a.exclude_keywords %}; Nachrichten mit den Schlagworten
{{ a.exclude_keywords | join(", ") }} (privat) werden nicht erfasst{% endif %}.
Kartei liest nur, verändert und löscht auf dem Server nichts.</td></tr>
{% else %}<tr><td>IMAP</td><td>kein Postfach eingerichtet</td></tr>{% endfor %}
<tr><td>SMTP-Journal</td><td>{% if s.mail.smtp.enabled %}aktiv auf {{ s.mail.smtp.host }}:{{
s.mail.smtp.port }}{% if s.mail.smtp.accept_recipients %}, für {{
s.mail.smtp.accept_recipients | join(", ") }}{% endif %}; eine Nachricht wird erst nach dem
dauerhaften Speichern angenommen (250){% else %}nicht aktiv{% endif %}</td></tr>
<tr><td>Fax</td><td>{% if s.fax.enabled %}aktiv{% if s.fax.accept_recipients %} für {{
s.fax.accept_recipients | join(", ") }}{% endif %}{% if s.fax.imap_folder %}, IMAP-Ordner {{
s.fax.imap_folder }} von {{ s.fax.imap_account }}{% endif %}; das Dokument (PDF/TIFF) und die
E-Mail, mit der es kam, werden archiviert{% else %}nicht aktiv{% endif %}</td></tr>
<tr><td>Eigene Adressen</td><td>{{ (s.mail.own_addresses + s.mail.own_domains) | join(", ")
or "–" }}{% if s.mail.skip_internal %}; rein interne E-Mails werden nicht erfasst{%
endif %}</td></tr>
<tr><td>Ausgeschlossen</td><td>{{ (s.mail.exclude_senders + s.mail.exclude_domains)
| join(", ") or "nichts" }}</td></tr>
</table>
<p>Nicht lesbare Eingänge werden mit einem Fehlerereignis im Original gespeichert, nie
verworfen. Doppelt erfasste Nachrichten (z.&nbsp;B. per IMAP und SMTP) werden über ihre
Message-ID bzw. den Hash ihrer Bytes nur einmal gespeichert.</p>

<h2>3. Speicherung</h2>
<ul>
<li>Datenbank: {{ database }}; Ereignisse können per Datenbank-Trigger weder geändert noch
gelöscht werden.</li>
<li>Originale: Verzeichnis {{ s.data_dir }}/archive, inhaltsadressiert (SHA-256),
komprimiert (zstd), verschlüsselt (AES-256-GCM).</li>
<li>Personenbezogene Felder sind je betroffener Person mit eigenem Schlüssel verschlüsselt;
eine Löschung nach DSGVO vernichtet nur diesen Schlüssel, das Protokoll bleibt unverändert.</li>
<li>Bestand: {{ f.counts.get("EmailReceived", 0) }} empfangene und {{
f.counts.get("EmailSent", 0) }} gesendete E-Mails, {{ f.counts.get("FaxReceived", 0) }}
Faxe, {{ f.counts.get("CaptureFailed", 0) }} nicht lesbare Eingänge; erfasst vom {{
when(f.first) }} bis {{ when(f.last) }}.</li>
</ul>

<h2>4. Unveränderbarkeit und Nachweise</h2>
<ul>
<li>Merkle-Log nach RFC 6962 über alle Ereignisse samt SHA-256 der archivierten Dateien:
derzeit {{ f.leaves }} Einträge.</li>
<li>Signierte Baumwurzeln (Ed25519): täglich um {{ s.archive.sign_time }} Uhr
({{ s.kartei.timezone }}) und bei jedem Export; bisher {{ f.heads }}{% if f.last_head %},
zuletzt Nr. {{ f.last_head.id }} über {{ f.last_head.size }} Einträge am {{
when(f.last_head.signed_at) }}{% endif %}.</li>
<li>Öffentlicher Prüfschlüssel, SHA-256-Fingerabdruck: <code>{{ f.fingerprint }}</code>
<pre>{{ f.public_pem }}</pre></li>
<li>Zeitstempel (RFC 3161): {% if s.archive.tsa_url %}durch {{ s.archive.tsa_url }};
{{ f.timestamps }} Zeitstempel vorhanden. Sie werden zum Zeitpunkt ihrer Ausstellung geprüft
und bleiben gültig, wenn das Zertifikat des Dienstes später abläuft.{% else %}kein
Zeitstempeldienst eingerichtet; die Baumwurzeln sind signiert und können später mit
<code>kartei archive timestamp</code> nachträglich gestempelt werden.{% endif %}</li>
<li>Prüfung: <code>kartei archive verify</code> prüft jedes Ereignis, jede Datei und jede
Signatur; ein Export lässt sich ohne Kartei mit dem beiliegenden Skript und OpenSSL prüfen
(docs/archive.md).</li>
</ul>

<h2>5. Aufbewahrung und Löschung</h2>
{% if holds %}<table><tr><th>Regel</th><th>Frist</th><th>gilt für</th></tr>
{% for name, h in holds.items() %}<tr><td>{{ name }}</td><td>{{ h.years }} Jahre ab Ende des
Kalenderjahres</td><td>{{ h.kinds | join(", ") }}{% if h.words %} mit {{ h.words | join(", ")
}}{% endif %}</td></tr>{% endfor %}</table>
<p>Vor Ablauf einer Frist wird nur mit begründeter, protokollierter Ausnahme gelöscht.</p>
{% else %}<p class="fill">Aufbewahrungsregeln: ______________________</p>{% endif %}
<p>Eine Löschung vernichtet den Schlüssel der Person und die nur ihr gehörenden Dateien; die
Hashwerte bleiben als Platzhalter im Merkle-Log, sodass alle Nachweise gültig bleiben.</p>

<h2>6. Zugriff und Datenüberlassung</h2>
<ul><li>Datenträgerüberlassung (Z3): <code>kartei archive export</code> erzeugt Originale,
Index (CSV), Nachweise, signierte Baumwurzeln, Zeitstempel und ein Prüfskript.</li>
<li class="fill">Unmittelbarer und mittelbarer Zugriff (Z1/Z2): ______________________</li></ul>

<h2>7. Datensicherung</h2>
<p>{% if s.backup_dir %}Tägliche Sicherung um {{ s.backup.time }} Uhr nach {{ s.backup_dir }},
{{ s.backup.keep_days }} Tage aufbewahrt.{% else %}<span class="fill">Keine Sicherung in Kartei
eingerichtet; Verfahren: ______________________</span>{% endif %} Der Signaturschlüssel
(archive-signing.key) ist Teil der Sicherung.</p>
</body></html>
"""
