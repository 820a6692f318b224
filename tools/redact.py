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
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # cannot be encoded: a report or request dies
# terminal commands (ESC, CSI, BEL, …) and bidi overrides that text from agent code or a
# Space could carry into a person's terminal or report
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_secrets: set[str] = set()
_lock = threading.Lock()


def register(secret: str | None) -> None:
    """Scrub ``secret`` from every output from now on (short strings are ignored)."""
    if secret and len(secret.strip()) >= 8:
        with _lock:
            _secrets.add(secret.strip())


def scrub(text: str) -> str:
    """``text`` with every registered secret and token-shaped string replaced by ``***``
    (and lone surrogates, which no encoder takes, by U+FFFD)."""
    if LONE_SURROGATE.search(text):
        text = LONE_SURROGATE.sub("\ufffd", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return TOKEN_SHAPE.sub(MASK, text) if "hf_" in text else text


def plain(text: str) -> str:
    """:func:`scrub`, and control characters shown as escapes (``\\x1b``): for text that
    agent code or a Space wrote, on its way to a model, a report or a terminal."""
    text = scrub(text)
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


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
