"""Read and write splat files by extension: ``.ply``, ``.splat``, ``.ksplat``, ``.spz``.

Each format lives in :mod:`spacesmith.tools.splat.formats`; this module picks one from the
file's extension. Every write goes through a temporary file in the destination folder that
is renamed over the destination only when complete.

Non-finite values: by default a file holding any NaN/inf value is rejected
(:class:`SplatFormatError`, naming the property and how many splats). Pass
``allow_nonfinite=True`` to get them anyway; ``spacesmith.tools.splat.convert`` does that and then
drops those splats (see :func:`spacesmith.tools.splat.clean.drop_nonfinite`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from spacesmith.tools import files
from spacesmith.tools.errors import SplatError, SplatFormatError
from spacesmith.tools.splat import SPLAT_SUFFIXES
from spacesmith.tools.splat.formats.antimatter import read_antimatter_splat
from spacesmith.tools.splat.formats.ply import read_ply
from spacesmith.tools.splat.model import Splat


def read_splat_file(path: str | os.PathLike[str], *, allow_nonfinite: bool = False) -> Splat:
    """Read any supported splat file; the format follows the extension.

    Args:
        path: a ``.ply``, ``.splat``, ``.ksplat`` or ``.spz`` file.
        allow_nonfinite: keep splats with NaN/inf values instead of rejecting the file.

    Returns:
        The splats, with the raw 3DGS encodings (see :mod:`spacesmith.tools.splat.model`).

    Raises:
        SplatFormatError: the file is missing, of an unknown kind, or not a readable splat
            (one line naming the problem).
    """
    p = Path(path)
    ext = p.suffix.lower()
    if not p.is_file():
        raise SplatFormatError(f"{p}: no such file")
    if ext == ".ply":
        splat = read_ply(p)
    elif ext == ".splat":
        splat = read_antimatter_splat(p)
    elif ext == ".ksplat":
        from spacesmith.tools.splat.formats.ksplat import read_ksplat

        splat = read_ksplat(p)
    elif ext == ".spz":
        from spacesmith.tools.splat.formats.spz import read_spz

        splat = read_spz(p)
    else:
        raise SplatFormatError(f"{p}: unknown splat file extension '{ext or '(none)'}'")
    if splat.count == 0:
        raise SplatFormatError(f"{p}: the file holds zero splats")
    if not allow_nonfinite:
        check_finite(splat, str(p))
    return splat


def check_finite(splat: Splat, where: str) -> None:
    """Raise SplatFormatError naming the first field that holds NaN/inf values."""
    for name in ("positions", "scales", "rotations", "opacities", "sh_dc", "sh_rest"):
        arr = getattr(splat, name)
        if arr.size == 0:
            continue
        bad = ~np.isfinite(arr)
        if bad.any():
            rows = int(bad.reshape(arr.shape[0], -1).any(axis=1).sum())
            raise SplatFormatError(
                f"{where}: {rows} of {splat.count} splats have NaN/inf values in '{name}'",
                hint="the reconstruction is broken; regenerate it, or use 'splat convert' "
                "which drops those splats",
            )


FORMATS = SPLAT_SUFFIXES


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """An open binary file that replaces ``path`` only if the block finishes without error.

    Raises:
        SplatError: the destination folder cannot be written.
    """
    dest = Path(path)
    with ExitStack() as stack:
        try:
            handle = stack.enter_context(files.atomic_output(dest))
        except OSError as exc:
            raise SplatError(f"cannot write into {dest.parent}: {exc.strerror}",
                             hint="check that the folder exists and is writable") from exc
        yield handle


def write(splat: Splat, path: str | os.PathLike[str], *, level: int = 1,
          sh_degree: int | None = None) -> int:
    """Write ``splat`` to ``path`` atomically, in the format named by its extension.

    Args:
        splat: the splats to write.
        path: destination; ``.ply``, ``.splat``, ``.ksplat`` or ``.spz``.
        level: .ksplat compression level (0 float32, 1 half floats, 2 8-bit SH); others ignore it.
        sh_degree: highest SH degree to keep (default: all the format can hold).

    Returns:
        The size of the written file in bytes.

    Raises:
        SplatError: unknown extension, bad level or SH degree, zero splats, or an I/O error.
    """
    dest = Path(path)
    ext = dest.suffix.lower()
    if ext not in FORMATS:
        raise SplatError(f"cannot write '{ext or dest.name}': the output must end in "
                         + ", ".join(FORMATS))
    if splat.count == 0:
        raise SplatError("refusing to write a file with zero splats",
                         hint="lower --prune-alpha or check the input")
    if sh_degree is not None:
        if not 0 <= sh_degree <= 3:
            raise SplatError(f"SH degree must be 0..3, got {sh_degree}")
        splat = splat.with_sh_degree(sh_degree)
    return write_atomically(
        dest, lambda f: _dispatch(ext, splat, f, level=level, explicit_sh=sh_degree is not None))


def write_atomically(path: str | os.PathLike[str], fill: Callable[[BinaryIO], None]) -> int:
    """Let ``fill`` write ``path`` through :func:`atomic_output`; returns the file's size.

    Raises:
        SplatError: the destination cannot be written (or ``fill`` raised it).
    """
    dest = Path(path)
    try:
        with atomic_output(dest) as f:
            fill(f)
    except OSError as exc:
        raise SplatError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    return dest.stat().st_size


def _dispatch(ext: str, splat: Splat, f: BinaryIO, *, level: int, explicit_sh: bool) -> None:
    if ext == ".ply":
        from spacesmith.tools.splat.formats.ply import write_ply

        write_ply(splat, f)
    elif ext == ".splat":
        from spacesmith.tools.splat.formats.antimatter import write_antimatter

        write_antimatter(splat, f)
    elif ext == ".ksplat":
        from spacesmith.tools.splat.formats.ksplat import write_ksplat

        if splat.sh_degree > 2:
            if explicit_sh:
                raise SplatError(".ksplat holds SH degree 0-2, not 3",
                                 hint="pass --sh-degree 2 or lower")
            splat = splat.with_sh_degree(2)
        write_ksplat(splat, f, level=level)
    else:
        from spacesmith.tools.splat.formats.spz import write_spz

        write_spz(splat, f)
