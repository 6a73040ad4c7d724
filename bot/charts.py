"""PNG charts of a video's statistics, drawn with matplotlib (the optional ``charts`` extra).

matplotlib is imported when a chart is drawn, never at start-up, with the
non-interactive Agg backend: a server has no display, and ``streamops serve``
must not pay for the import. Without the extra, :func:`charts_available` is
False and callers say so instead of drawing.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The periods the views panel compares, in order.
CHART_PERIODS: tuple[str, ...] = ("24h", "7d", "30d", "1y")
#: How many labels a breakdown panel shows before folding the rest into "other".
TOP = 6

MISSING = (
    "Charts need matplotlib, which this installation does not have: "
    "install it with `pip install 'streamops[charts]'`."
)


@dataclass(frozen=True)
class StatsChart:
    """What one chart shows: views per period and the breakdowns of one period."""

    title: str
    views: Mapping[str, int]
    breakdown_period: str
    quality: Mapping[str, int]
    devices: Mapping[str, int]
    geo: Mapping[str, int]


def charts_available() -> bool:
    """True when matplotlib is installed (checked without importing it)."""
    return importlib.util.find_spec("matplotlib") is not None


def _top(counts: Mapping[str, int], limit: int = TOP) -> tuple[list[str], list[int]]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown, rest = ranked[:limit], ranked[limit:]
    labels = [label for label, _ in shown]
    values = [value for _, value in shown]
    if rest:
        labels.append("other")
        values.append(sum(value for _, value in rest))
    return labels, values


def render_png(chart: StatsChart, *, width: float = 10.0, height: float = 6.0) -> bytes:
    """The chart as PNG bytes: views per period, then quality, device and country shares.

    Raises:
        RuntimeError: matplotlib is not installed (the message says how to install it).
    """
    if not charts_available():
        raise RuntimeError(MISSING)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    figure.suptitle(chart.title[:120])
    grid = figure.subplots(2, 2)
    periods = [p for p in CHART_PERIODS if p in chart.views]
    _bars(grid[0][0], periods, [chart.views[p] for p in periods], "Views per period")
    for axes, name, counts in (
        (grid[0][1], "Quality", chart.quality),
        (grid[1][0], "Devices", chart.devices),
        (grid[1][1], "Countries", chart.geo),
    ):
        labels, values = _top(counts)
        _bars(axes, labels, values, f"{name} ({chart.breakdown_period})", horizontal=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _bars(
    axes: object,
    labels: Sequence[str],
    values: Sequence[int],
    title: str,
    *,
    horizontal: bool = False,
) -> None:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    axes.set_title(title, fontsize=10)
    if not labels:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    if horizontal:
        axes.barh(list(labels)[::-1], list(values)[::-1], color="#1264a3")
    else:
        axes.bar(list(labels), list(values), color="#2eb67d")
        for x, value in enumerate(values):
            axes.annotate(f"{value:,}", (x, value), ha="center", va="bottom", fontsize=8)
