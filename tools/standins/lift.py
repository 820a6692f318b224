"""The splat stand-in's reconstructor: lift an image's foreground into a thin 3DGS relief.

Conventions (the same as TripoSplat's output):

- **Y-down**: a pixel further down the image has a larger ``y``; ``x`` grows to the right.
- The picture's **front faces -z** in the stored file: the relief bulges towards -z. Turned
  upright with the 180° rotation about X, ``(x, y, z) -> (x, -y, -z)``, the front faces +z,
  i.e. a default three.js camera on +z looking down -z sees the picture the right way up.
- Positions fill about [-1, 1] on the longer side of the foreground's bounding box.
- SH degree 0 only; colours are the foreground pixels' colours; rotations are identity.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

SH_C0 = 0.28209479177387814
PLY_PROPERTIES = ("x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                  "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3")
MAX_SIDE = 384
DEPTH = 0.18
ALPHA = 0.95


class NoForegroundError(ValueError):
    """The image has no foreground pixel to lift (internal to the stand-in)."""


def foreground(
    rgba: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Split an image into RGB in [0, 1] and a foreground mask.

    The mask is the alpha channel when it has any transparency, else "not near black".
    """
    image = Image.fromarray(np.ascontiguousarray(rgba))
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
    array = np.asarray(image.convert("RGBA"), np.float32) / 255.0
    rgb, alpha = array[..., :3], array[..., 3]
    mask = alpha > 0.5 if alpha.min() < 0.99 else rgb.max(axis=-1) > 0.06
    return rgb, mask


def crop_to_foreground(rgba: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The "preprocessed image": the foreground's bounding box with a transparent background."""
    rgb, mask = foreground(rgba)
    if not mask.any():
        raise NoForegroundError("no foreground")
    rows, cols = np.nonzero(mask)
    out = np.concatenate([rgb, mask[..., None].astype(np.float32)], axis=-1)
    out = out[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return (out * 255.0 + 0.5).astype(np.uint8)


def lift(rgba: npt.NDArray[np.uint8], count: int, seed: int) -> npt.NDArray[np.void]:
    """Sample exactly ``count`` Gaussians over the foreground, as a PLY vertex record array.

    Args:
        rgba: an (H, W, 3 or 4) uint8 image.
        count: how many Gaussians to make.
        seed: the sampling seed (same seed, same splat).

    Returns:
        A structured float32 array with the fields ``PLY_PROPERTIES``, in that order.

    Raises:
        NoForegroundError: the image is empty (all black or all transparent).
    """
    rgb, mask = foreground(rgba)
    if not mask.any():
        raise NoForegroundError("no foreground")
    height, width = mask.shape
    # How far inside the silhouette a pixel is, 0 at the edge and ~1 deep inside: the bulge.
    blur = max(2.0, 0.04 * max(height, width))
    soft = Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur))
    thickness = np.clip((np.asarray(soft, np.float32) / 255.0 - 0.5) * 2.0, 0.0, 1.0)
    thickness = np.where(mask, np.maximum(thickness, 0.05), 0.0)

    rng = np.random.default_rng(seed)
    flat = np.flatnonzero(mask)
    picks = flat[rng.integers(0, flat.size, count)]
    row, col = np.divmod(picks, width)
    rows, cols = np.nonzero(mask)
    centre_r, centre_c = (rows.min() + rows.max()) / 2.0, (cols.min() + cols.max()) / 2.0
    unit = 2.0 / max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    jitter = rng.random((count, 3), np.float32)

    out = np.zeros(count, dtype=[(name, "<f4") for name in PLY_PROPERTIES])
    out["x"] = (col + jitter[:, 0] - 0.5 - centre_c) * unit
    out["y"] = (row + jitter[:, 1] - 0.5 - centre_r) * unit  # image rows grow downwards: +y
    out["z"] = -DEPTH * thickness.ravel()[picks] * np.sqrt(jitter[:, 2])  # front towards -z
    colours = rgb.reshape(-1, 3)[picks]
    for c in range(3):
        out[f"f_dc_{c}"] = (colours[:, c] - 0.5) / SH_C0
    out["opacity"] = np.log(ALPHA / (1.0 - ALPHA))
    density = max(1.0, float(np.sqrt(count / flat.size)))
    out["scale_0"] = out["scale_1"] = np.log(unit * 0.75 / density)
    out["scale_2"] = np.log(unit * 0.5 / density)
    out["rot_0"] = 1.0
    return out


def ply_bytes(vertices: npt.NDArray[np.void]) -> bytes:
    """Encode a vertex record array as a binary little-endian 3DGS PLY."""
    names = vertices.dtype.names or ()
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(vertices)}"]
    header += [f"property float {name}" for name in names]
    header.append("end_header")
    return ("\n".join(header) + "\n").encode("ascii") + vertices.tobytes()


def splat_bytes(vertices: npt.NDArray[np.void]) -> bytes:
    """Encode a vertex record array in antimatter15's 32-byte ``.splat`` layout."""
    n = len(vertices)
    out = np.zeros(n, dtype=[("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4),
                             ("rot", "u1", 4)])
    out["pos"] = np.stack([vertices["x"], vertices["y"], vertices["z"]], axis=-1)
    out["scale"] = np.exp(np.stack([vertices[f"scale_{i}"] for i in range(3)], axis=-1))
    colour = 0.5 + SH_C0 * np.stack([vertices[f"f_dc_{i}"] for i in range(3)], axis=-1)
    alpha = 1.0 / (1.0 + np.exp(-vertices["opacity"]))
    rgba = np.concatenate([colour, alpha[:, None]], axis=-1)
    out["rgba"] = np.clip(rgba * 255.0, 0, 255).astype(np.uint8)
    rot = np.stack([vertices[f"rot_{i}"] for i in range(4)], axis=-1)
    rot /= np.linalg.norm(rot, axis=-1, keepdims=True)
    out["rot"] = np.clip(rot * 128.0 + 128.0, 0, 255).astype(np.uint8)
    return out.tobytes()
