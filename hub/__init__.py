"""Kartei's kernel: events, the event store, projections, runtime, settings, CLI and web."""

__version__ = "0.1.0"
