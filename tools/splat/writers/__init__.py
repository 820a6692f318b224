"""Write a :class:`Splat` to disk; the format follows the file's extension.

Every writer writes into a temporary file in the destination folder and renames it over
the destination only when it is complete, so a failed write leaves nothing half-written.

    .ply     the standard 3DGS layout (float32, with zero normals), any SH degree
    .splat   antimatter15, 32 bytes a splat, no SH
    .ksplat  GaussianSplats3D, compression level 0/1/2, SH degree 0-2
    .spz     Niantic spz version 3 (gzip), SH degree 0-3
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from spacesmith.tools import files
from spacesmith.tools.errors import SplatError
from spacesmith.tools.splat import SPLAT_SUFFIXES
from spacesmith.tools.splat.model import Splat

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
        from spacesmith.tools.splat.writers.ply import write_ply

        write_ply(splat, f)
    elif ext == ".splat":
        from spacesmith.tools.splat.writers.antimatter import write_antimatter

        write_antimatter(splat, f)
    elif ext == ".ksplat":
        from spacesmith.tools.splat.writers.ksplat import write_ksplat

        if splat.sh_degree > 2:
            if explicit_sh:
                raise SplatError(".ksplat holds SH degree 0-2, not 3",
                                 hint="pass --sh-degree 2 or lower")
            splat = splat.with_sh_degree(2)
        write_ksplat(splat, f, level=level)
    else:
        from spacesmith.tools.splat.writers.spz import write_spz

        write_spz(splat, f)
