"""The web server: UI, JSON API, webhooks and /healthz."""
