"""Bar charts as plain geometry, drawn as inline SVG by the dashboard's templates: no chart library
to download, and the numbers stay in the page for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, AXIS, TOP = 600, 180, 28, 16  # the viewBox; room below for the labels, above for the values


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int
    tone: str
    width: int = WIDTH
    height: int = HEIGHT
    axis: int = AXIS

    @property
    def label_every(self) -> int:
        """Label every n-th bar, so labels never overlap on a narrow chart."""
        return max(1, len(self.bars) // 10)


def bars(points: Sequence[tuple[str, int]], *, tone: str = "") -> Chart:
    peak = max((value for _, value in points), default=0)
    slot = WIDTH / max(1, len(points))
    plot = HEIGHT - AXIS - TOP
    drawn = []
    for i, (label, value) in enumerate(points):
        height = plot * value / peak if peak else 0
        drawn.append(Bar(str(label), int(value), i * slot + slot * 0.1, TOP + plot - height, slot * 0.8, height))
    return Chart(drawn, peak, tone)
