"""IMAP capture: several accounts, first sync, IDLE or polling, checkpoints."""
