"""Space call progress as one line per state: queued #2 of 5, running for 40 s, retrying in
3 s, done in 6.1 s. Shared by ``build``, ``chat`` and headless ``run`` (plain lines on stderr).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

QUIET = ("started", "generating")


def progress_line(event: Any) -> str | None:
    """The line for one progress event, or None for the stages not worth a line."""
    stage = str(getattr(event, "stage", ""))
    if stage in QUIET:
        return None
    detail = " ".join(str(getattr(event, "detail", "") or "").split())
    wait = getattr(event, "wait_s", None)
    elapsed = getattr(event, "elapsed_s", None)
    if stage == "queued":
        text = detail if detail.startswith(("queued", "Space is")) else "submitted"
        if wait is not None:
            text += f", checking again in {wait:.0f} s"
    elif stage == "running":
        text = detail or "running"
    elif stage == "retrying":
        text = (f"retrying in {wait:.1f} s ({detail})" if wait is not None
                else f"retrying ({detail})")
    elif stage == "done":
        text = f"done in {elapsed:.1f} s" if isinstance(elapsed, (int, float)) else f"done {detail}"
    elif stage == "failed":
        text = f"failed: {detail}"
    else:
        text = f"{stage} {detail}".strip()
    call = getattr(event, "call", None) or getattr(event, "endpoint", None) or "call"
    return f"{call} · {_short_space(str(getattr(event, 'space', '')))}: {text}"


def _short_space(space: str) -> str:
    return space.removeprefix("https://").removeprefix("http://").rstrip("/")


def line_printer(stream: TextIO | None = None) -> Callable[[Any], None]:
    """A progress hook that writes plain lines (to stderr by default), one call at a time."""
    lock = threading.Lock()

    def show(event: Any) -> None:
        line = progress_line(event)
        if line is None:
            return
        with lock:
            out = stream or sys.stderr
            out.write(f"[spaces] {line}\n")
            out.flush()

    return show
