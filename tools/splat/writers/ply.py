"""The standard 3DGS PLY: binary little-endian float32, one ``vertex`` element.

Property order: x y z nx ny nz f_dc_0..2 f_rest_0.. opacity scale_0..2 rot_0..3, with
zero normals (as the reference trainer writes them) and f_rest channel-major.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from spacesmith.tools.splat.model import Splat

CHUNK_ROWS = 65536


def ply_property_names(sh_degree: int) -> list[str]:
    """The property names of the standard layout for an SH degree."""
    k = 3 * ((sh_degree + 1) ** 2 - 1)
    return (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
            + [f"f_rest_{i}" for i in range(k)]
            + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"])


def ply_header(count: int, sh_degree: int) -> bytes:
    """The header of the standard layout for ``count`` splats."""
    lines = ["ply", "format binary_little_endian 1.0", f"element vertex {count}"]
    lines += [f"property float {name}" for name in ply_property_names(sh_degree)]
    lines.append("end_header")
    return ("\n".join(lines) + "\n").encode("ascii")


def write_ply(splat: Splat, f: BinaryIO) -> None:
    """Write ``splat`` as a standard 3DGS PLY to an open binary file."""
    n, k = splat.count, splat.sh_rest.shape[1]
    f.write(ply_header(n, splat.sh_degree))
    width = 17 + 3 * k
    rows = min(n, CHUNK_ROWS)
    mat = np.zeros((rows, width), "<f4")
    rest = 9 + 3 * k
    for start in range(0, n, rows):
        m = min(rows, n - start)
        sl = slice(start, start + m)
        block = mat[:m]
        block[:, 0:3] = splat.positions[sl]
        block[:, 6:9] = splat.sh_dc[sl]
        if k:
            block[:, 9:rest].reshape(m, 3, k)[...] = splat.sh_rest[sl].transpose(0, 2, 1)
        block[:, rest] = splat.opacities[sl]
        block[:, rest + 1:rest + 4] = splat.scales[sl]
        block[:, rest + 4:rest + 8] = splat.rotations[sl]
        f.write(block.data)
