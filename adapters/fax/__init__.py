"""Fax capture: faxes delivered as email become FaxReceived events (see docs/fax.md)."""
