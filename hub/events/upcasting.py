"""The one place where stored data of old schema versions is lifted to the current one.

Each entry maps (stable type name, stored schema version) to a function returning the data
of the next version. Add one next to every `schema_version` bump.
"""

from __future__ import annotations

from hub.events.codec import Upcaster

UPCASTERS: dict[tuple[str, int], Upcaster] = {}
