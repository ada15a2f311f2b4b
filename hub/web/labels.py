"""What the UI calls Kartei's own codes (phone labels, roles, languages, health states and
components): each code mapped to a catalogue key of hub/web/i18n.py."""

from __future__ import annotations

# The phone labels the form offers, in the order of the select.
PHONE_LABEL_TEXT = {
    "landline": "Landline",
    "switchboard": "Switchboard",
    "mobile": "Mobile",
    "home": "Home",
    "fax": "Fax",
    "other": "Other",
}
ROLE_TEXT = {"staff": "Staff", "admin": "Administrator", "auditor": "Tax auditor"}
# Each language named in itself, as language pickers do (not translated).
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
# The importer's file formats (adapters/importers/run.py), as their makers name them.
FILE_FORMAT_TEXT = {"csv": "CSV file", "xlsx": "Excel workbook", "vcard": "vCard file"}
HEALTH_STATE_TEXT = {
    "starting": "starting",
    "ok": "running",
    "degraded": "degraded",
    "failed": "failed",
    "restarting": "restarting",
    "stopped": "stopped",
    "off": "off",
    "standby": "standby",
}
# Components by their health name (hub/bootstrap.py, policies/*/setup.py).
COMPONENT_TEXT = {
    "store": "Database",
    "web": "Web interface",
    "scheduler": "Timed jobs",
    "backup": "Daily backup",
    "retention": "Retention rules",
    "archive:merkle": "Archive proofs (Merkle log)",
    "classifier": "Classifier",
    "alerts": "Alerts",
    "projection:calls": "Call list",
    "projection:contacts": "Contact directory",
    "projection:event_stats": "Statistics",
    "projection:identity": "Numbers and addresses of contacts",
    "projection:mail": "Email threads",
    "projection:risk": "Risk list",
    "projection:review": "Classification checks",
    "projection:tasks": "Task list",
    "projection:timeline": "Contact histories",
    "policy:callbacks": "Call-back tasks",
    "policy:churn": "Risk detection",
    "policy:classifier": "Message classification",
    "policy:signature-numbers": "Numbers from signatures",
    "policy:alerts": "Alerts",
    "policy:fax-ocr": "Fax text recognition (catch-up)",
    "adapter:smtp": "Email intake (SMTP)",
    "adapter:fax-smtp": "Fax intake",
    "adapter:fax-ocr": "Fax text recognition",
    "adapter:telegram": "Telegram bot",
    "adapter:telephony-webhooks": "Phone system (webhooks)",
}
# Components named after a configured account or line: prefix -> key with {name}.
NAMED_COMPONENT_TEXT = {
    "adapter:imap:": "Mailbox {name}",
    "adapter:fax-imap:": "Fax mailbox {name}",
    "projection:": "Read model {name}",
    "policy:": "Automation {name}",
    # Every other adapter is a phone system (FRITZ!Box, Asterisk), named in the settings.
    "adapter:": "Phone system {name}",
}


def phone_label(label: str) -> str:
    """The catalogue key for a phone's label (an unknown one as it is)."""
    return PHONE_LABEL_TEXT.get(label, label)


def component(name: str) -> tuple[str, dict[str, object]]:
    """A health component's human name: a catalogue key and its values."""
    if name in COMPONENT_TEXT:
        return COMPONENT_TEXT[name], {}
    for prefix, key in NAMED_COMPONENT_TEXT.items():
        if name.startswith(prefix):
            return key, {"name": name.removeprefix(prefix)}
    return name, {}
