"""Secrets never leave in output: the one place text is scrubbed before anyone sees it.

The token is registered when it is read (:func:`spacesmith.tools.auth.get_token`, or a
setting given directly); :func:`scrub` replaces every registered secret, and anything shaped
like a Hugging Face token, by ``***``. It is applied at the choke points: the CLI's stdout
and stderr (so ``--json``, logs and tracebacks too, :func:`scrub_streams`), the run report,
the chat session, the journal, and every message to the agent-code process (so the model
never reads a token a Space echoed back).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any, TextIO

MASK = "***"
TOKEN_SHAPE = re.compile(r"hf_[A-Za-z0-9]{20,}")
_secrets: set[str] = set()
_lock = threading.Lock()


def register(secret: str | None) -> None:
    """Scrub ``secret`` from every output from now on (short strings are ignored)."""
    if secret and len(secret.strip()) >= 8:
        with _lock:
            _secrets.add(secret.strip())


def scrub(text: str) -> str:
    """``text`` with every registered secret and token-shaped string replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return TOKEN_SHAPE.sub(MASK, text) if "hf_" in text else text


def scrub_data(value: Any) -> Any:
    """A JSON-like value with every string in it scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_data(v) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_data(v) for k, v in value.items()}
    return value


class ScrubbingStream:
    """A text stream that scrubs what is written to it, then writes to ``inner``."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(scrub(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def scrub_streams() -> None:
    """Route ``sys.stdout`` and ``sys.stderr`` through :class:`ScrubbingStream` (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, ScrubbingStream):
            setattr(sys, name, ScrubbingStream(stream))
