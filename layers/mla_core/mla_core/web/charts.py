"""Bar charts as plain geometry, drawn as inline SVG by the dashboard's templates: no chart library
to download, and the numbers stay in the page for screen readers.

Two layouts: `bars` stands one column per point (days, whose labels are short), labelled every few
columns; `rows` lays one row per point with its label on a line of its own above the bar (statuses
and categories, whose names in Tamil or Hindi are long): no label can run into another's, whatever
the language or the width of the screen (the SVG scales as a whole)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, AXIS, TOP = 600, 180, 28, 16  # the viewBox; room below for the labels, above for the values
ROW, ROW_BAR, ROW_VALUE = 32, 12, 44  # a row's height, its bar's thickness, the room kept for the value
LABELS_ACROSS = 8  # at most this many labels under a column chart (600 units: 75 for each)


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
    layout: str = "columns"  # or "rows"

    @property
    def label_every(self) -> int:
        """Label every n-th column, so labels never overlap on a narrow chart."""
        return max(1, math.ceil(len(self.bars) / LABELS_ACROSS))


def bars(points: Sequence[tuple[str, int]], *, tone: str = "") -> Chart:
    peak = max((value for _, value in points), default=0)
    slot = WIDTH / max(1, len(points))
    plot = HEIGHT - AXIS - TOP
    drawn = []
    for i, (label, value) in enumerate(points):
        height = plot * value / peak if peak else 0
        drawn.append(Bar(str(label), int(value), i * slot + slot * 0.1, TOP + plot - height, slot * 0.8, height))
    return Chart(drawn, peak, tone)


def rows(points: Sequence[tuple[str, int]], *, tone: str = "") -> Chart:
    """One row per point: the label on its line (its baseline at `y - 4`), the bar below it."""
    peak = max((value for _, value in points), default=0)
    room = WIDTH - ROW_VALUE
    drawn = []
    for i, (label, value) in enumerate(points):
        top = i * ROW + (ROW - ROW_BAR) - 2
        width = room * value / peak if peak else 0
        drawn.append(Bar(str(label), int(value), 0, top, width, ROW_BAR))
    return Chart(drawn, peak, tone, height=max(ROW, len(points) * ROW), axis=0, layout="rows")
