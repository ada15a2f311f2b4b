"""The demo firm: its customers (people.py), its year (history.py), fed through Kartei's
real intake paths by `kartei init --demo` (seeding.py)."""

from hub.demo.people import Card, customers, demo_id

__all__ = ["Card", "customers", "demo_id"]
