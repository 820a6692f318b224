"""Atomic file output: write beside the target, rename into place only when complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_output(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[BinaryIO]:
    """An open binary file that replaces ``path`` only if the block finishes without error.

    The temporary sibling is named ``.<name>.<random>.tmp`` so that a run killed mid-write
    leaves something recognisable to sweep; readers never see a half-written file.

    Args:
        path: the file to create or replace.
        mode: its permission bits (mkstemp alone would give 0600).

    Raises:
        OSError: the folder cannot be written (raised before the block runs).
    """
    dest = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent or ".")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, dest)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
