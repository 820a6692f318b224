"""The image stand-in's painter: a deterministic silhouette of the prompt's subject on black.

The shape comes from the earliest keyword in the prompt (tower, arch, dome, pyramid, obelisk,
cathedral; the subject leads the prompt, so "Notre-Dame, a single solid monument…" is a
cathedral) or, failing those, from a hash of the prompt. The colour and the proportions
(width, height, how many windows) come from the hash, so two subjects of the same shape
still look different, and one prompt always gives the same picture.
"""

from __future__ import annotations

import colorsys
import hashlib

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

SHAPES = ("tower", "arch", "dome", "pyramid", "obelisk", "cathedral")
KEYWORDS: dict[str, tuple[str, ...]] = {
    "tower": ("tower", "tour", "eiffel", "spire", "minaret", "lighthouse"),
    "arch": ("arch", "arc ", "arc de", "gate", "porte"),
    "dome": ("dome", "dôme", "pantheon", "panthéon", "basilica", "sacré", "capitol",
             "invalides", "mosque"),
    "pyramid": ("pyramid", "pyramide", "louvre", "ziggurat"),
    "obelisk": ("obelisk", "obélisque", "column", "colonne", "concorde", "garnier"),
    "cathedral": ("cathedral", "cathédrale", "notre", "church", "église", "chapel",
                  "abbey", "chapelle"),
}

Poly = list[tuple[float, float]]


def subject_digest(prompt: str) -> bytes:
    """The hash everything about the picture is chosen from."""
    return hashlib.sha256(" ".join(prompt.lower().split()).encode()).digest()


def shape_for(prompt: str) -> str:
    """The silhouette for a prompt: the earliest keyword in it, else the hash."""
    text = f" {prompt.lower()} "
    found = [(text.find(word), shape) for shape, words in KEYWORDS.items() for word in words
             if word in text]
    if found:
        return min(found)[1]
    return SHAPES[subject_digest(prompt)[0] % len(SHAPES)]


def proportions_for(prompt: str) -> tuple[float, float, int]:
    """Width scale, height scale and window count chosen by the prompt's hash."""
    digest = subject_digest(prompt)
    return 0.78 + digest[4] / 255 * 0.32, 0.82 + digest[5] / 255 * 0.18, 2 + digest[6] % 4


def colour_for(prompt: str) -> tuple[float, float, float]:
    """A saturated, bright RGB colour in [0, 1] chosen by the prompt's hash."""
    digest = subject_digest(prompt)
    hue = int.from_bytes(digest[1:3], "big") / 65535.0
    return colorsys.hsv_to_rgb(hue, 0.45 + digest[3] / 255 * 0.35, 0.85)


def _polys(shape: str, windows: int = 4) -> tuple[list[Poly], list[Poly]]:
    """Filled and cut-out polygons in unit coordinates (x right, y down)."""
    fill: list[Poly] = []
    cut: list[Poly] = []
    if shape == "tower":
        fill.append([(0.2, 0.92), (0.46, 0.1), (0.54, 0.1), (0.8, 0.92)])
        fill.append([(0.49, 0.02), (0.51, 0.02), (0.52, 0.1), (0.48, 0.1)])
        fill.append([(0.3, 0.58), (0.7, 0.58), (0.7, 0.62), (0.3, 0.62)])
        cut.append(_arch_poly(0.5, 0.92, 0.14, 0.2))
    elif shape == "arch":
        fill.append([(0.18, 0.9), (0.18, 0.22), (0.82, 0.22), (0.82, 0.9)])
        fill.append([(0.14, 0.22), (0.14, 0.16), (0.86, 0.16), (0.86, 0.22)])
        cut.append(_arch_poly(0.5, 0.9, 0.14, 0.45))
    elif shape == "dome":
        fill.append([(0.2, 0.9), (0.2, 0.55), (0.8, 0.55), (0.8, 0.9)])
        fill.append(_ellipse_poly(0.5, 0.55, 0.27, 0.3, upper=True))
        fill.append([(0.47, 0.25), (0.47, 0.14), (0.53, 0.14), (0.53, 0.25)])
        for x in np.linspace(0.28, 0.72, windows):
            x = float(x)
            cut.append([(x - 0.025, 0.85), (x - 0.025, 0.62), (x + 0.025, 0.62), (x + 0.025, 0.85)])
    elif shape == "pyramid":
        fill.append([(0.08, 0.85), (0.5, 0.18), (0.92, 0.85)])
        for y in (0.4, 0.55, 0.7):
            half = (y - 0.18) / 0.67 * 0.42
            cut.append([(0.5 - half, y), (0.5 + half, y), (0.5 + half, y + 0.008),
                        (0.5 - half, y + 0.008)])
    elif shape == "obelisk":
        fill.append([(0.41, 0.9), (0.45, 0.2), (0.55, 0.2), (0.59, 0.9)])
        fill.append([(0.45, 0.2), (0.5, 0.1), (0.55, 0.2)])
        fill.append([(0.34, 0.95), (0.34, 0.88), (0.66, 0.88), (0.66, 0.95)])
    else:  # cathedral
        fill.append([(0.15, 0.9), (0.15, 0.35), (0.85, 0.35), (0.85, 0.9)])
        fill.append([(0.15, 0.35), (0.15, 0.18), (0.35, 0.18), (0.35, 0.35)])
        fill.append([(0.65, 0.35), (0.65, 0.18), (0.85, 0.18), (0.85, 0.35)])
        fill.append([(0.47, 0.35), (0.5, 0.08), (0.53, 0.35)])
        cut.append(_ellipse_poly(0.5, 0.55, 0.08, 0.08, upper=False))
        cut.append(_arch_poly(0.5, 0.9, 0.08, 0.18))
    return fill, cut


def _ellipse_poly(cx: float, cy: float, rx: float, ry: float, *, upper: bool) -> Poly:
    t = np.linspace(np.pi, 2 * np.pi, 32) if upper else np.linspace(0, 2 * np.pi, 48)
    return [(cx + rx * float(np.cos(a)), cy + ry * float(np.sin(a))) for a in t]


def _arch_poly(cx: float, base: float, half: float, height: float) -> Poly:
    top = base - height + half
    arc = _ellipse_poly(cx, top, half, half, upper=True)
    return [(cx - half, base), *arc, (cx + half, base)]


def draw_subject(prompt: str, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Paint the prompt's subject, lit from the upper left, isolated on black.

    Args:
        prompt: the subject; the same text always gives the same picture.
        width: image width in pixels.
        height: image height in pixels.

    Returns:
        An (height, width, 3) uint8 RGB array; the background is exactly black.
    """
    side = min(width, height)
    ox, oy = (width - side) / 2, (height - side) / 2
    mask = Image.new("L", (width, height), 0)
    pen = ImageDraw.Draw(mask)
    sx, sy, windows = proportions_for(prompt)
    fill, cut = _polys(shape_for(prompt), windows)
    for poly, value in [(p, 255) for p in fill] + [(p, 0) for p in cut]:
        # Scale about the centre line and the ground (y = 0.92), so the base stays put.
        pen.polygon([(ox + (0.5 + (x - 0.5) * sx) * side, oy + (0.92 - (0.92 - y) * sy) * side)
                     for x, y in poly], fill=value)
    alpha = np.asarray(mask, np.float32) * np.float32(1.0 / 255.0)
    ys = np.arange(height, dtype=np.float32)[:, None]  # broadcast, not a full grid: fast
    xs = np.arange(width, dtype=np.float32)[None, :]
    stripes = np.where(np.sin(ys / max(side, 1) * 90.0) > 0.7, 0.88, 1.0).astype(np.float32)
    shade = (1.05 - 0.27 * xs / max(width - 1, 1) - 0.18 * ys / max(height - 1, 1)) * stripes
    rgb = np.asarray(colour_for(prompt), np.float32) * np.float32(255.0)
    image = (alpha * shade.astype(np.float32))[..., None] * rgb  # all >= 0
    out: npt.NDArray[np.uint8] = np.minimum(image + 0.5, 255.0).astype(np.uint8)
    return out
