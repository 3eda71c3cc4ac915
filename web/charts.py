"""Small inline SVG charts (no scripts, no CDN): the rate trend as a sparkline."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from markupsafe import Markup, escape


def spark(points: Sequence[float], labels: Sequence[str] = (), width: int = 120, height: int = 28) -> Markup:
    """A polyline of percentages (0-100), oldest first, with a dot per point and its value as a tooltip."""
    return _spark(tuple(points), tuple(labels), width, height)


@functools.lru_cache(maxsize=4096)  # the dashboard draws the same trends for every visitor
def _spark(points: tuple[float, ...], labels: tuple[str, ...], width: int, height: int) -> Markup:
    if len(points) < 2:
        return Markup("")
    step = (width - 8) / (len(points) - 1)
    xy = [(4 + i * step, height - 4 - (height - 8) * max(0.0, min(100.0, p)) / 100) for i, p in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(
        f'<circle r="{2.5 if i == len(xy) - 1 else 1.5}" cx="{x:.1f}" cy="{y:.1f}">'
        f"<title>{escape(labels[i]) + ': ' if i < len(labels) else ''}{points[i]}%</title></circle>"
        for i, (x, y) in enumerate(xy)
    )
    summary = escape(" → ".join(f"{p}%" for p in points))
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{summary}"><line x1="4" y1="{height - 4}" x2="{width - 4}" y2="{height - 4}" class="axis"/>'
        f'<polyline fill="none" points="{line}"/>{dots}</svg>'
    )
