"""Pictures of Grad-CAM heatmaps for q7's report: digits beside the reference's and the student's maps."""

from __future__ import annotations

import base64
import io

import numpy as np

from graders.questions.q7.heatmaps import resample


def digit_overlays(cases, images: np.ndarray, labels: np.ndarray, references: np.ndarray, maps: list[np.ndarray],
                   scores: dict[int, float]) -> list[dict]:
    """One PNG per graded digit: the digit, then the reference's and the student's map of each class asked.

    Args:
        cases: the graded cases (variants.Case); images, labels: the test split (model input format).
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
        pictures.append({"title": f"digit #{digit} (label {labels[digit]})", "png_base64": overlay_png(rows)})
    return pictures


def overlay_png(rows: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]) -> str:
    """A PNG (base64 text) of digits beside heatmap overlays, one row per (digit, class).

    Args:
        rows: (row title, digit (28, 28) with pixels 0..1, [(panel title, heatmap), ...]); each
            heatmap is resampled onto the digit and drawn in "jet" at half opacity.

    Returns:
        The PNG file as an ASCII base64 string (for a data: URL in the report).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    columns = 1 + max(len(panels) for _, _, panels in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(1.5 * columns, 1.75 * len(rows)), squeeze=False)
    for axis_row, (title, digit, panels) in zip(axes, rows):
        image = np.asarray(digit, dtype=np.float64)
        axis_row[0].imshow(image, cmap="gray")
        axis_row[0].set_title(title, fontsize=7)
        for axis, (panel_title, heatmap) in zip(axis_row[1:], panels):
            axis.imshow(image, cmap="gray")
            axis.imshow(_displayable(heatmap, image.shape), cmap="jet", alpha=0.5, vmin=0.0, vmax=1.0)
            axis.set_title(panel_title, fontsize=7)
    for axis in axes.ravel():
        axis.axis("off")
    figure.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _displayable(heatmap: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # Scaled to [0, 1] for display only, so a map that was never normalised still shows its pattern.
    shown = np.nan_to_num(resample(np.squeeze(heatmap), shape[:2]), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = min(float(shown.min()), 0.0), float(shown.max())
    return (shown - low) / (high - low) if high > low else np.zeros_like(shown)


def rounded(rows: list[dict]) -> list[dict]:
    """Table rows for the report, floats to 4 decimals."""
    return [{key: round(value, 4) if isinstance(value, float) else value for key, value in row.items()} for row in rows]
