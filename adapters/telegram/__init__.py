"""Telegram: alerts to staff through a bot (python-telegram-bot)."""
