"""The standard 3DGS PLY: binary little-endian float32, one ``vertex`` element.

Property order: x y z nx ny nz f_dc_0..2 f_rest_0.. opacity scale_0..2 rot_0..3, with
zero normals (as the reference trainer writes them) and f_rest channel-major.

Reading: the header is parsed here and the body read with numpy in row chunks, finding
every property by name (float32 or float64, with or without normals, extra properties
ignored); :func:`open_ply` and :func:`iter_ply_chunks` give the rows a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from spacesmith.tools.errors import SplatFormatError
from spacesmith.tools.splat.model import SH_C0, SH_COUNTS, Splat, sh_degree_for

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


PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
REQUIRED = ("x", "y", "z", "opacity", "scale_0", "scale_1", "scale_2",
            "rot_0", "rot_1", "rot_2", "rot_3")
ASCII_NUMBER_BYTES = frozenset(b"0123456789.-+eE \t\r\n")
MAX_HEADER = 1 << 16


@dataclass(frozen=True)
class PlyElement:
    name: str
    count: int
    properties: tuple[tuple[str, str], ...]  # (name, numpy type code without byte order)
    has_list: bool = False


@dataclass(frozen=True)
class PlyHeader:
    format: str
    elements: tuple[PlyElement, ...]
    body_offset: int






def parse_ply_header(head: bytes, where: str) -> PlyHeader:
    """Parse a PLY header from the first bytes of a file.

    Raises:
        SplatFormatError: not a PLY, no end_header, or a malformed line.
    """
    if not head.startswith(b"ply"):
        raise SplatFormatError(f"{where}: not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        raise SplatFormatError(f"{where}: PLY header has no 'end_header' in its first 64 KiB")
    nl = head.find(b"\n", end)
    if nl < 0:
        raise SplatFormatError(f"{where}: the file ends inside the PLY header (truncated)")
    fmt = ""
    elements: list[PlyElement] = []
    current: tuple[str, int, list[tuple[str, str]], bool] | None = None
    for raw in head[:end].decode("latin-1").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format" and len(words) >= 2:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3:
            if current:
                elements.append(PlyElement(current[0], current[1], tuple(current[2]), current[3]))
            try:
                current = (words[1], int(words[2]), [], False)
            except ValueError:
                raise SplatFormatError(f"{where}: bad PLY element line '{raw}'") from None
            if current[1] < 0:
                raise SplatFormatError(f"{where}: negative count in PLY element line '{raw}'")
        elif words[0] == "property" and current is not None:
            if len(words) == 5 and words[1] == "list":
                current = (current[0], current[1], current[2], True)
                continue
            if len(words) != 3 or words[1] not in PLY_TYPES:
                raise SplatFormatError(f"{where}: bad PLY property line '{raw}'")
            current[2].append((words[2], PLY_TYPES[words[1]]))
        else:
            raise SplatFormatError(f"{where}: bad PLY header line '{raw}'")
    if current:
        elements.append(PlyElement(current[0], current[1], tuple(current[2]), current[3]))
    if fmt not in ("binary_little_endian", "binary_big_endian", "ascii"):
        raise SplatFormatError(f"{where}: unknown PLY format '{fmt or '(missing)'}'")
    return PlyHeader(fmt, tuple(elements), nl + 1)


def _vertex_dtype(el: PlyElement, fmt: str) -> np.dtype[np.void]:
    order = "<" if fmt == "binary_little_endian" else ">"
    return np.dtype([(name, order + code) for name, code in el.properties])


def _locate_vertex(header: PlyHeader, where: str) -> tuple[PlyElement, int]:
    """The vertex element and the byte offset of its data."""
    offset = header.body_offset
    for el in header.elements:
        if el.name == "vertex":
            if el.has_list:
                raise SplatFormatError(f"{where}: the PLY 'vertex' element has a list property")
            return el, offset
        if el.has_list:
            raise SplatFormatError(
                f"{where}: a list element '{el.name}' comes before 'vertex'; cannot seek past it"
            )
        offset += el.count * _vertex_dtype(el, header.format).itemsize
    names = ", ".join(e.name for e in header.elements) or "none"
    raise SplatFormatError(f"{where}: the PLY has no 'vertex' element (it has: {names})")


def _rest_count(names: set[str], where: str) -> int:
    rest = sorted(int(n[7:]) for n in names if n.startswith("f_rest_") and n[7:].isdigit())
    if rest != list(range(len(rest))):
        raise SplatFormatError(
            f"{where}: the f_rest_* properties are not numbered 0..{len(rest) - 1}"
        )
    if len(rest) % 3 or len(rest) // 3 not in SH_COUNTS.values():
        raise SplatFormatError(
            f"{where}: {len(rest)} f_rest_* properties is not an SH degree 0-3 (0, 9, 24 or 45)"
        )
    return len(rest) // 3


def _check_properties(el: PlyElement, where: str) -> tuple[bool, int]:
    """(has f_dc, rest coefficients per channel); raises naming a missing property."""
    names = {n for n, _ in el.properties}
    if "packed_position" in names:
        raise SplatFormatError(
            f"{where}: this is a PlayCanvas compressed PLY (packed_position)",
            hint="decompress it first, e.g. 'splat-transform in.compressed.ply out.ply'",
        )
    for name in REQUIRED:
        if name not in names:
            raise SplatFormatError(f"{where}: the PLY 'vertex' element has no '{name}' property")
    has_dc = all(f"f_dc_{i}" in names for i in range(3))
    if not has_dc and not all(c in names for c in ("red", "green", "blue")):
        raise SplatFormatError(f"{where}: the PLY 'vertex' element has no 'f_dc_0' property")
    return has_dc, _rest_count(names, where)


@dataclass(frozen=True)
class PlySource:
    """A validated 3DGS PLY: where its vertex rows start and how to pick the fields out."""

    path: Path
    count: int
    dtype: np.dtype[np.void]
    offset: int
    has_dc: bool
    k: int  # SH rest coefficients per channel

    @property
    def sh_degree(self) -> int:
        return sh_degree_for(self.k)


def open_ply(path: Path) -> PlySource:
    """Parse and check a 3DGS PLY's header (and its size) without reading the body.

    Raises:
        SplatFormatError: not a splat PLY (the message names the problem).
    """
    where = str(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(MAX_HEADER)
    header = parse_ply_header(head, where)
    el, offset = _locate_vertex(header, where)
    has_dc, k = _check_properties(el, where)
    if header.format == "ascii":
        raise SplatFormatError(
            f"{where}: ASCII PLY is not supported",
            hint="convert it to binary_little_endian, e.g. with plyfile or splat-transform",
        )
    if el.count == 0:
        raise SplatFormatError(f"{where}: the file holds zero splats")
    dtype = _vertex_dtype(el, header.format)
    need = offset + el.count * dtype.itemsize
    body = head[header.body_offset:header.body_offset + 256]
    if len(body) >= 32 and all(b in ASCII_NUMBER_BYTES for b in body):
        raise SplatFormatError(
            f"{where}: the header says {header.format} but the body is ASCII text"
        )
    if size < need:
        raise SplatFormatError(
            f"{where}: truncated: {el.count} splats need {need} bytes, the file has {size}"
        )
    return PlySource(path, el.count, dtype, offset, has_dc, k)


def read_ply(path: Path) -> Splat:
    """Read a 3DGS PLY (binary, either endianness), finding properties by name.

    Raises:
        SplatFormatError: not a splat PLY (the message names the problem).
    """
    src = open_ply(path)
    n, k = src.count, src.k
    out = {
        "positions": np.empty((n, 3), np.float32),
        "scales": np.empty((n, 3), np.float32),
        "rotations": np.empty((n, 4), np.float32),
        "opacities": np.empty((n,), np.float32),
        "sh_dc": np.empty((n, 3), np.float32),
        "sh_rest": np.empty((n, k, 3), np.float32),
    }
    for start, chunk in iter_ply_chunks(src):
        m = chunk.count
        for key, arr in out.items():
            arr[start:start + m] = getattr(chunk, key)
    return Splat(**out)


def iter_ply_chunks(src: PlySource, rows: int = CHUNK_ROWS) -> Iterator[tuple[int, Splat]]:
    """The splats of a PLY, ``rows`` at a time: (index of the first row, a Splat of them).

    One reusable read buffer of ``rows`` vertex rows; every chunk's fields are fresh
    contiguous float32 arrays, equal to the same rows of :func:`read_ply`'s Splat.
    """
    n, k, dtype = src.count, src.k, src.dtype
    dc_names = [f"f_dc_{i}" for i in range(3)] if src.has_dc else ["red", "green", "blue"]
    plan = {
        "positions": ["x", "y", "z"],
        "scales": ["scale_0", "scale_1", "scale_2"],
        "rotations": ["rot_0", "rot_1", "rot_2", "rot_3"],
        "opacities": ["opacity"],
        "sh_dc": dc_names,
        "sh_rest": [f"f_rest_{i}" for i in range(3 * k)],
    }
    names = dtype.names or ()
    uniform = len({dtype[i].str for i in range(len(names))}) == 1
    cols = {key: _columns(dtype, names) for key, names in plan.items()}
    rows = max(1, min(n, rows))
    buf = np.empty(rows, dtype)
    with open(src.path, "rb") as f:
        f.seek(src.offset)
        for start in range(0, n, rows):
            m = min(rows, n - start)
            view = buf[:m]
            if f.readinto(view.data) != view.nbytes:
                raise SplatFormatError(f"{src.path}: truncated while reading")
            mat = view.view(dtype[0]).reshape(m, len(names)) if uniform else None
            fields: dict[str, np.ndarray] = {}  # type: ignore[type-arg]
            for key, idx in cols.items():
                if not idx:
                    fields[key] = np.empty((m, 0, 3), np.float32)
                    continue
                block = _take_cols(mat, idx) if mat is not None else _stack_fields(view, idx)
                if key == "sh_rest":
                    target = np.empty((m, k, 3), np.float32)
                    target[...] = block.reshape(m, 3, k).transpose(0, 2, 1)
                elif key == "opacities":
                    target = np.empty((m,), np.float32)
                    target[...] = block.reshape(m)
                else:
                    target = np.empty((m, len(idx)), np.float32)
                    target[...] = block
                fields[key] = target
            if not src.has_dc:  # 8-bit colours: turn them into the DC term the model uses
                dc = fields["sh_dc"]
                dc *= np.float32(1.0 / 255.0)
                dc -= np.float32(0.5)
                dc *= np.float32(1.0 / SH_C0)
            yield start, Splat(**fields)


def _columns(dtype: np.dtype[np.void], names: list[str]) -> list[int]:
    order = list(dtype.names or ())
    return [order.index(n) for n in names]


def _stack_fields(view: np.ndarray, idx: list[int]) -> np.ndarray:  # type: ignore[type-arg]
    names = view.dtype.names or ()
    return np.stack([view[names[i]].astype(np.float32) for i in idx], axis=1)


def _take_cols(mat: np.ndarray, idx: list[int]) -> np.ndarray:  # type: ignore[type-arg]
    lo, hi = idx[0], idx[-1] + 1
    if hi - lo == len(idx) and idx == list(range(lo, hi)):
        return mat[:, lo:hi]
    return mat[:, idx]
