"""Pictures of Grad-CAM heatmaps for q7's report: digits beside the reference's and the student's maps.

Drawn with NumPy and written as PNG by hand (zlib): no plotting library is imported into a grading,
which saves seconds per grading. A picture has no text in it; its caption (the entry's "title") says
what each row and column shows.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

from graders.questions.q7.heatmaps import resample

SCALE = 3  # each 28 x 28 panel is drawn 84 x 84
GAP = 3  # white pixels between panels


def digit_overlays(cases, images: np.ndarray, labels: np.ndarray, references: np.ndarray, maps: list[np.ndarray],
                   scores: dict[int, float]) -> list[dict]:
    """One picture per graded digit: the digit, then the reference's and the student's map of each class asked.

    Args:
        cases: the graded cases (cases.Case); images, labels: the test split (model input format).
        references, maps: the reference's and the student's map of each case; scores: r by case index.

    Returns:
        [{"title", "png_base64"}], for the report.
    """
    by_digit: dict[int, list[int]] = {}
    for i, case in enumerate(cases):
        by_digit.setdefault(case.digit, []).append(i)
    pictures = []
    for digit, indices in by_digit.items():
        rows = [(f"class {cases[i].class_index} ({cases[i].role})", images[digit, ..., 0],
                 [("reference", references[i]), ("yours" if i not in scores else f"yours r={scores[i]:.2f}", maps[i])])
                for i in indices]
        pictures.append({"title": f"digit #{digit} (label {labels[digit]}): " + caption(rows),
                         "png_base64": overlay_png(rows)})
    return pictures


def caption(rows: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]) -> str:
    """What the rows and columns of `overlay_png(rows)` show, in words."""
    return "; ".join(f"{title}: the digit, " + ", ".join(name for name, _ in panels) for title, _, panels in rows)


def overlay_png(rows: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]) -> str:
    """A PNG (base64 text) of digits beside heatmap overlays, one row per (digit, class).

    Args:
        rows: (row title, digit (28, 28) with pixels 0..1, [(panel title, heatmap), ...]); each heatmap
            is resampled onto the digit and drawn in "jet" at half opacity (titles go in `caption`).

    Returns:
        The PNG file as an ASCII base64 string (for a data: URL in the report).
    """
    panels = [[_panel(digit)] + [_panel(digit, heatmap) for _, heatmap in maps] for _, digit, maps in rows]
    side = 28 * SCALE
    columns = max(len(row) for row in panels)
    canvas = np.full((len(panels) * (side + GAP) + GAP, columns * (side + GAP) + GAP, 3), 255, dtype=np.uint8)
    for r, row in enumerate(panels):
        for c, panel in enumerate(row):
            top, left = GAP + r * (side + GAP), GAP + c * (side + GAP)
            canvas[top:top + side, left:left + side] = panel
    return base64.b64encode(_png(canvas)).decode("ascii")


def _panel(digit: np.ndarray, heatmap: np.ndarray | None = None) -> np.ndarray:
    image = np.clip(np.nan_to_num(np.asarray(digit, dtype=np.float64)), 0.0, 1.0)
    rgb = np.repeat(image[..., None], 3, axis=-1)
    if heatmap is not None:
        rgb = 0.5 * rgb + 0.5 * _jet(_displayable(heatmap, image.shape))
    scaled = np.repeat(np.repeat(rgb, SCALE, axis=0), SCALE, axis=1)
    return np.round(scaled * 255).astype(np.uint8)


def _jet(values: np.ndarray) -> np.ndarray:
    """Matplotlib's "jet" colours (blue, cyan, yellow, red) of values in [0, 1], piecewise linear."""
    x = np.clip(values, 0.0, 1.0)[..., None]
    centres = np.array([3.0, 2.0, 1.0])  # red, green, blue peak at 3/4, 1/2, 1/4
    return np.clip(1.5 - np.abs(4.0 * x - centres), 0.0, 1.0)


def _displayable(heatmap: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # Scaled to [0, 1] for display only, so a map that was never normalised still shows its pattern.
    shown = np.nan_to_num(resample(np.squeeze(np.asarray(heatmap, dtype=np.float64)), shape[:2]), nan=0.0,
                          posinf=0.0, neginf=0.0)
    low, high = min(float(shown.min()), 0.0), float(shown.max())
    return (shown - low) / (high - low) if high > low else np.zeros_like(shown)


def _png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG file of `rgb` (h, w, 3) uint8."""
    height, width, _ = rgb.shape
    scanlines = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))  # filter type 0 on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines, 6))
            + chunk(b"IEND", b""))

