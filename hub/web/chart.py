"""The dashboard's complaints-and-praise chart: geometry for a server-rendered inline SVG
(hub/web/templates/_chart.html). No JavaScript, no library: bars, axes, ticks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 600, 230
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 44  # room for the y ticks and title, the week labels
BAR_GAP = 3


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # "complaint" or "praise"
    n: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Week:
    week: int
    centre: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    weeks: tuple[Week, ...]
    ticks: tuple[tuple[int, float], ...]  # (value, y)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def nice_top(largest: int) -> int:
    """The y axis' top: at least 4, and divisible into four whole steps."""
    top = max(4, largest)
    return top + (-top) % 4


def chart(weeks: Sequence[dict[str, Any]]) -> Chart:
    """Two bars (complaints, praise) per calendar week, oldest week on the left."""
    top = nice_top(max((max(w["complaint"], w["praise"]) for w in weeks), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(weeks))
    bar_w = min(22.0, (slot - 3 * BAR_GAP) / 2)
    out = []
    for i, w in enumerate(weeks):
        centre = LEFT + slot * i + slot / 2
        bars = []
        for j, label in enumerate(("complaint", "praise")):
            n = int(w[label])
            h = plot_h * n / top
            x = centre - bar_w - BAR_GAP / 2 if j == 0 else centre + BAR_GAP / 2
            bars.append(
                Bar(label, n, round(x, 1), round(TOP + plot_h - h, 1), round(bar_w, 1), round(h, 1))
            )
        out.append(Week(int(w["week"]), round(centre, 1), tuple(bars)))
    ticks = tuple((top * k // 4, round(TOP + plot_h - plot_h * k / 4, 1)) for k in range(5))
    return Chart(tuple(out), ticks)
