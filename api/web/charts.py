"""Charts drawn on the server as inline SVG: no script, no font or image from anywhere, the same in the page and
in the PDF (WeasyPrint draws inline SVG).

Accessible by construction: each chart is an `img` named by its <title> and described by its <desc>, the page
gives its figures as a table beside it, and series differ by more than colour: solid bars and hatched bars,
a solid line with round points and a dashed line with square points, every value written out. Colours reach
WCAG 2.1 AA: text #1b1b1b, and both series' strokes at least 7:1 against white (3:1 is the bar for graphics).
Presentation attributes only (no `style`): the pages' Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "DejaVu Sans, Arial, sans-serif"  # installed fonts only: nothing is downloaded
INK = "#1b1b1b"
GRID = "#767676"  # 4.5:1 on white
SERIES_COLOURS = ("#1a3c6e", "#8a3b00")  # navy 11:1, brown 7.6:1 on white
WIDTH = 640
LABEL_WIDTH = 250
MAX_LABEL = 34  # characters of a group's name that fit in LABEL_WIDTH at 12px


@dataclass(frozen=True)
class Series:
    """One series of a chart: its name (in the legend) and one value per group or point."""

    label: str
    values: Sequence[float]


def _text(x: float, y: float, words: str, *, anchor: str = "start", size: int = 12, bold: bool = False,
          extra: str = "") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" fill="{INK}" '
            f'text-anchor="{anchor}"{weight}{extra}>{escape(words)}</text>')


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _hatch(chart_id: str, colour: str) -> str:
    # Diagonal stripes drawn as lines in the tile (no patternTransform: not every SVG renderer has it).
    return (f'<pattern id="{chart_id}-hatch" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="#ffffff"/>'
            f'<path d="M0,8 L8,0 M-2,2 L2,-2 M6,10 L10,6" stroke="{colour}" stroke-width="2"/></pattern>')


def _swatch(chart_id: str, index: int, x: float, y: float, *, line: bool) -> str:
    colour = SERIES_COLOURS[index % 2]
    if line:
        dash = ' stroke-dasharray="6 4"' if index % 2 else ""
        return (f'<line x1="{x}" y1="{y + 6}" x2="{x + 24}" y2="{y + 6}" stroke="{colour}" stroke-width="2.5"{dash}/>'
                + _marker(index, x + 12, y + 6))
    fill = colour if index % 2 == 0 else f"url(#{chart_id}-hatch)"
    return f'<rect x="{x}" y="{y}" width="24" height="12" fill="{fill}" stroke="{colour}" stroke-width="1.5"/>'


def _marker(index: int, x: float, y: float) -> str:
    colour = SERIES_COLOURS[index % 2]
    if index % 2 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    return (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#ffffff" stroke="{colour}" '
            f'stroke-width="2"/>')


def _legend(chart_id: str, series: Sequence[Series], *, line: bool) -> str:
    parts, x = [], float(LABEL_WIDTH if not line else 60)
    for index, one in enumerate(series):
        parts.append(_swatch(chart_id, index, x, 4, line=line))
        parts.append(_text(x + 30, 15, one.label))
        x += 30 + 8 * len(one.label) + 24
    return "".join(parts)


def _summary(labels: Sequence[str], series: Sequence[Series], value_text: Callable[[float], str]) -> str:
    """Every value in words, for the chart's <desc>: "Listed: January 0, February 2. Lifted: ..."."""
    return " ".join(f"{one.label}: " + ", ".join(f"{label} {value_text(v)}" for label, v in zip(labels, one.values,
                                                                                             strict=True)) + "."
                    for one in series)


def _frame(chart_id: str, title: str, description: str, height: float, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>{body}</svg>')


def bars(chart_id: str, title: str, groups: Sequence[str], series: Sequence[Series], *,
         scale: float | None = None, value_text: Callable[[float], str] = lambda v: f"{v:g}") -> Markup:
    """Horizontal bars, one row per group and one bar per series in it; `scale` fixes the value of a full bar
    (1.0 for shares), else the largest value. Its description lists every value."""
    bar, gap, group_gap, top = 14, 3, 12, 28
    full = WIDTH - LABEL_WIDTH - 70
    largest = scale or max((v for s in series for v in s.values), default=0) or 1
    defs = f"<defs>{_hatch(chart_id, SERIES_COLOURS[1])}</defs>"
    parts, y = [defs, _legend(chart_id, series, line=False)], float(top)
    for g, group in enumerate(groups):
        block = len(series) * (bar + gap) - gap
        parts.append(_text(LABEL_WIDTH - 8, y + block / 2 + 4, _short(group), anchor="end"))
        for index, one in enumerate(series):
            value = one.values[g]
            length = max(0.0, min(1.0, value / largest)) * full
            colour = SERIES_COLOURS[index % 2]
            fill = colour if index % 2 == 0 else f"url(#{chart_id}-hatch)"
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y:.1f}" width="{length:.1f}" height="{bar}" fill="{fill}" '
                         f'stroke="{colour}" stroke-width="1.5"/>')
            parts.append(_text(LABEL_WIDTH + length + 5, y + bar - 3, value_text(value), size=11))
            y += bar + gap
        y += group_gap - gap
    parts.append(f'<line x1="{LABEL_WIDTH}" y1="{top - 4}" x2="{LABEL_WIDTH}" y2="{y - group_gap + 4:.1f}" '
                 f'stroke="{INK}" stroke-width="1"/>')
    return _frame(chart_id, title, _summary(groups, series, value_text), y + 4, "".join(parts))


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above value (a clean top for an axis)."""
    if value <= 1:
        return 1
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 5.0, 10.0) if step * power >= value)


def lines(chart_id: str, title: str, points: Sequence[str], series: Sequence[Series], *,
          value_text: Callable[[float], str] = lambda v: f"{v:g}") -> Markup:
    """A line per series over the labelled points (months, in order), each value written beside its point; its
    description lists every value."""
    left, right, top, plot_height = 60, WIDTH - 40, 48, 150  # room above the top line for two stacked values
    bottom = top + plot_height
    largest = _nice_ceiling(max((v for s in series for v in s.values), default=0))
    inset = 18  # the first and last points stand clear of the axis labels
    step = (right - left - 2 * inset) / max(1, len(points) - 1)
    x_of = (lambda i: left + inset + i * step) if len(points) > 1 else (lambda i: (left + right) / 2)
    parts = [_legend(chart_id, series, line=True)]
    ticks = int(largest) if largest <= 5 else 5  # whole numbers on the axis: these are counts
    for tick in range(ticks + 1):
        value = largest * tick / ticks
        y = bottom - plot_height * tick / ticks
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(_text(left - 6, y + 4, f"{value:g}", anchor="end", size=11))
    rotate = len(points) > 4
    for i, label in enumerate(points):
        x = x_of(i)
        extra = f' transform="rotate(-35 {x:.1f} {bottom + 20})"' if rotate else ""
        parts.append(_text(x, bottom + 20, label, anchor="end" if rotate else "middle", size=11, extra=extra))
    for index, one in enumerate(series):
        colour = SERIES_COLOURS[index % 2]
        coords = [(x_of(i), bottom - plot_height * v / largest) for i, v in enumerate(one.values)]
        dash = ' stroke-dasharray="6 4"' if index % 2 else ""
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
        if len(coords) > 1:
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
        for i, ((x, y), value) in enumerate(zip(coords, one.values, strict=True)):
            parts.append(_marker(index, x, y))
            # Each value above its point; where an earlier series has the same value there, one line higher.
            stacked = sum(1 for other in series[:index] if other.values[i] == value)
            parts.append(_text(x, y - 9 - 12 * stacked, value_text(value), anchor="middle", size=11))
    height = bottom + (70 if rotate else 30)
    return _frame(chart_id, title, _summary(points, series, value_text), height, "".join(parts))
