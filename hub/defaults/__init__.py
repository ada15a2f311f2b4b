"""The files Kartei ships: the example configuration, the fax provider profiles and the
3CX CRM template.

They are package data, read through `importlib.resources`, so they are found the same way
in a source checkout, an editable install and a wheel (`pip install`, `pipx`).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

EXAMPLE_CONFIG = "kartei.example.toml"  # `kartei init` writes it as kartei.toml
FAX_PROVIDERS = "fax-providers.toml"  # [fax] providers_file when none is configured
CRM_TEMPLATE_3CX = "3cx-crm-template.xml"  # uploaded in the 3CX admin console
SHIPPED = (EXAMPLE_CONFIG, FAX_PROVIDERS, CRM_TEMPLATE_3CX)


def shipped(name: str) -> Traversable:
    """One shipped file (read it with `.read_text(encoding="utf-8")`)."""
    return files(__name__) / name
