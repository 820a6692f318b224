"""Checks of the files a Space call returned, before they enter the call cache.

A Space can answer "complete" with a file that cannot be used: a PLY cut short, an image
that does not decode. Such a result must never be cached (a rerun would reuse it for
ever); the session discards it and calls again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spacesmith.tools.errors import BadOutputError, SpacesmithError
from spacesmith.tools.splat import SPLAT_SUFFIXES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def check_file(path: Path) -> str | None:
    """Why ``path`` is not a usable output, or None when it is (unknown kinds pass).

    Splats are read in full (header, size, finite values); images are decoded.
    """
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size == 0:
            return "the file is empty"
        if suffix in SPLAT_SUFFIXES:
            from spacesmith.tools.splat.io import read_splat_file

            splat = read_splat_file(path)
            if len(splat.positions) == 0:
                return "the splat has no Gaussians"
        elif suffix in IMAGE_SUFFIXES:
            from PIL import Image

            with Image.open(path) as image:
                image.load()
    except SpacesmithError as exc:
        return exc.message.removeprefix(f"{path}: ")
    except (OSError, ValueError, SyntaxError) as exc:  # PIL raises these for broken images
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def check_outputs(files: Sequence[Path], *, space: str, endpoint: str | None) -> None:
    """Raise when any returned file is unusable.

    Raises:
        BadOutputError: names the Space, the endpoint, the file and what is wrong with it.
    """
    for path in files:
        problem = check_file(path)
        if problem is not None:
            raise BadOutputError(f"returned an unreadable {path.name}: {problem}",
                                 space=space, endpoint=endpoint)
