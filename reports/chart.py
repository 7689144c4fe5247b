"""Training curves as plain SVG geometry: numbers only, drawn by the report template.

No plotting library and no script: the report must work offline and print. Everything here
is computed from validated finite numbers, so the template can write it into SVG attributes
(still autoescaped) without any markup coming from a submission.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 420, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 30, 40  # room for tick labels, the legend and the axis title
MAX_POINTS = 10_000
MAX_MARKERS = 60  # a dot per epoch only while the dots stay apart
PANELS = (("accuracy", "Accuracy"), ("loss", "Loss"))  # a series goes to the panel its name ends with


@dataclass(frozen=True)
class Line:
    """One series: its legend label, style class and polyline points ("x,y x,y ...")."""

    label: str
    style: str
    points: str
    markers: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Panel:
    """One chart: its axes' ticks in pixels, its series and an optional threshold line."""

    title: str
    width: int
    height: int
    box: tuple[float, float, float, float]  # plot area: left, top, right, bottom
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    lines: tuple[Line, ...]
    threshold: tuple[float, str] | None  # (y pixel, label)


@dataclass(frozen=True)
class Curve:
    """The panels to draw, and the keys of the curve dict that could not be drawn."""

    panels: tuple[Panel, ...]
    ignored: tuple[str, ...]


def training_curve(curve) -> Curve | None:
    """Accuracy and loss panels from `{"epoch": [...], "accuracy": [...], "val_loss": [...], ...}`.

    Any key ending in "accuracy" or "loss" whose value is a list of finite numbers is a series;
    `epoch` (optional) gives the x values, `threshold` (optional) a dashed line on the accuracy
    panel.

    Returns:
        The curve, or None when it has no drawable series (the caller shows it as plain data).
    """
    if not isinstance(curve, dict):
        return None
    series = {str(key): values for key, values in curve.items() if _numbers(values) and str(key) != "epoch"}
    grouped = {panel: {k: v for k, v in series.items() if k.endswith(panel)} for panel, _ in PANELS}
    if not any(grouped.values()):
        return None
    length = max(len(values) for values in series.values())
    epochs = curve.get("epoch")
    if not (_numbers(epochs) and len(epochs) >= length):
        epochs = list(range(1, length + 1))
    threshold = curve.get("threshold")
    threshold = float(threshold) if _number(threshold) else None
    panels = tuple(_panel(title, grouped[key], epochs, threshold if key == "accuracy" else None)
                   for key, title in PANELS if grouped[key])
    drawn = {key for group in grouped.values() for key in group} | {"epoch", "threshold"}
    ignored = tuple(str(key) for key in curve if str(key) not in drawn)
    return Curve(panels, ignored)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(values) -> bool:
    return isinstance(values, (list, tuple)) and 0 < len(values) <= MAX_POINTS and all(map(_number, values))


def _panel(title: str, series: dict, epochs: list, threshold: float | None) -> Panel:
    box = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
    used_epochs = epochs[:max(len(values) for values in series.values())]
    x_ticks_values = nice_ticks(min(used_epochs), max(used_epochs), integer=True)
    values = [v for vs in series.values() for v in vs] + ([threshold] if threshold is not None else [])
    y_ticks_values = nice_ticks(min(values), max(values))
    x_scale = _scale(x_ticks_values[0], x_ticks_values[-1], box[0], box[2])
    y_scale = _scale(y_ticks_values[0], y_ticks_values[-1], box[3], box[1])
    lines = []
    for key, ys in sorted(series.items(), key=lambda item: (item[0].startswith("val"), item[0])):
        markers = tuple((round(x_scale(x), 1), round(y_scale(y), 1)) for x, y in zip(epochs, ys))
        style = "validation" if key.startswith("val") else "training"
        points = " ".join(f"{x},{y}" for x, y in markers)
        lines.append(Line(key, style, points, markers if len(markers) <= MAX_MARKERS else ()))
    line = (round(y_scale(threshold), 1), f"threshold {_label(threshold)}") if threshold is not None else None
    return Panel(title, WIDTH, HEIGHT, box,
                 tuple((round(x_scale(t), 1), _label(t)) for t in x_ticks_values),
                 tuple((round(y_scale(t), 1), _label(t)) for t in y_ticks_values),
                 tuple(lines), line)


def _scale(low: float, high: float, start: float, stop: float):
    span = (high - low) or 1.0
    return lambda value: start + (value - low) / span * (stop - start)


def nice_ticks(low: float, high: float, *, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) that cover [low, high].

    Args:
        low, high: the data range (equal values get a small range around them).
        count: about how many ticks.
        integer: steps of at least 1 (for epochs).
    """
    if high - low < 1e-12:
        pad = max(abs(low) * 0.05, 1.0 if integer else 0.05)
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, round(step))
    start, stop = math.floor(low / step) * step, math.ceil(high / step) * step
    ticks = [start + i * step for i in range(int(round((stop - start) / step)) + 1)]
    return [round(t, 10) for t in ticks]


def _label(value: float) -> str:
    return f"{value:.4g}"
