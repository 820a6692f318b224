"""Server-sent events, as Gradio's result route sends them: ``event:``/``data:`` blocks."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ServerEvent:
    """One event: its name and its data (decoded JSON, or the raw text if not JSON)."""

    name: str
    data: Any


def iter_events(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Group a stream of lines into events.

    Follows the SSE rules Gradio relies on: ``event:`` names the event (default
    ``message``), ``data:`` lines are joined with newlines, a blank line ends the event,
    lines starting with ``:`` are comments. A last event without its blank line is still
    yielded when the stream ends.

    Args:
        lines: the response's lines, without their line endings.

    Yields:
        The events, in order.
    """
    name = ""
    data: list[str] = []
    for line in lines:
        if not line:
            if name or data:
                yield _event(name, data)
            name, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if name or data:
        yield _event(name, data)


def _event(name: str, data: list[str]) -> ServerEvent:
    text = "\n".join(data)
    try:
        value: Any = json.loads(text) if text else None
    except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
        value = text
    return ServerEvent(name or "message", value)


def stream_socket(response: httpx.Response | None) -> socket.socket | None:
    """The socket under a streamed response, or None (a mock transport has none)."""
    stream = response.extensions.get("network_stream") if response is not None else None
    return stream.get_extra_info("socket") if stream is not None else None


def cut(sock: socket.socket | None) -> None:
    """End a blocked read on ``sock`` by shutting the socket down (a watchdog's move)."""
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: the read has ended anyway


class DeadlineWatchdog:
    """Ends a blocked read at a deadline by shutting the response's socket down.

    Heartbeats come every 15 s, so checking the deadline between events alone would let a
    hang overrun it by up to 15 s. Without a socket (a mock transport) it does nothing.
    """

    def __init__(self, response: httpx.Response, seconds: float) -> None:
        self.fired = False
        self._sock = stream_socket(response)
        self._timer: threading.Timer | None = None
        if self._sock is not None:
            self._timer = threading.Timer(seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        cut(self._sock)

    def cancel(self) -> None:
        """Stop the timer (the stream ended in time)."""
        if self._timer is not None:
            self._timer.cancel()
