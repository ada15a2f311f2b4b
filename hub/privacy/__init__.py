"""Privacy: erase a person (GDPR Art. 17), export their data (Art. 15), audit who looked.

See docs/privacy.md. The log stays append-only: erasure destroys keys, never events.
"""
