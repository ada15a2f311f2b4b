"""Email capture: parsing, the SMTP journal intake, the shared capture pipeline."""
