"""Proofs that the archive is complete and unaltered: the Merkle log over the events,
signed tree heads, RFC 3161 timestamps, verification and export (docs/archive.md)."""
