"""What each running component reports about itself, for /healthz and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

State = Literal["starting", "ok", "degraded", "failed", "restarting", "stopped", "off", "standby"]


@dataclass(slots=True)
class ComponentHealth:
    """One component's state, last error and free-form details (folders, lines, lag)."""

    name: str
    state: State = "starting"
    error: str | None = None
    # The most recent error stays visible after a restart cleared `error`.
    last_error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    restarts: int = 0
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def set(self, state: State, error: str | None = None, **details: Any) -> None:
        self.state = state
        self.error = error
        if error is not None:
            self.last_error = error
        self.details.update(details)
        self.updated_at = datetime.now(UTC)

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "error": self.error,
            "last_error": self.last_error,
            "restarts": self.restarts,
            "updated_at": self.updated_at.isoformat(),
            "details": self.details,
        }


class HealthRegistry:
    """All components' health; 'healthy' when none is failed or restarting."""

    def __init__(self) -> None:
        self._components: dict[str, ComponentHealth] = {}

    def component(self, name: str) -> ComponentHealth:
        health = self._components.get(name)
        if health is None:
            health = self._components[name] = ComponentHealth(name)
        return health

    def snapshot(self) -> dict[str, Any]:
        components = {name: h.as_dict() for name, h in sorted(self._components.items())}
        healthy = all(h.state not in ("failed", "restarting") for h in self._components.values())
        return {"status": "ok" if healthy else "degraded", "components": components}
