"""The contact aggregate: a contact's card, the commands on it and the events they append."""

from hub.contacts.decisions import ContactError
from hub.contacts.model import Contact, display_name, new_contact_id, stream_of
from hub.contacts.service import ContactService

__all__ = [
    "Contact",
    "ContactError",
    "ContactService",
    "display_name",
    "new_contact_id",
    "stream_of",
]
