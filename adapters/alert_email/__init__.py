"""Alerts to staff by email, through the firm's SMTP server."""
