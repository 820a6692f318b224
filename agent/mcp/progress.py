"""One MCP tool call as the worker thread sees it: progress out, cancellation in.

The tool runs in a worker thread; the MCP request lives in the event loop. A :class:`Call`
joins them: ``note``/``advance`` send MCP progress notifications (through ``notify``,
which the server binds to the request), and ``cancelled`` is set when the client cancels
the request, so the work stops at its next step or Space event instead of running on.

Space progress events come from the shared Space session on whatever thread makes the
call; :func:`bound` marks the thread as working for one ``Call`` so the events reach the
right request.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from spacesmith.tools.errors import AgentError

Notify = Callable[[float, float | None, str], None]


class CancelledByClient(AgentError):
    """The client cancelled the request; the work stopped (finished Space calls are cached)."""


class Call:
    """Progress and cancellation of one tool call.

    Args:
        notify: sends one progress notification ``(progress, total, message)``; None when
            the client asked for no progress.
        total: how many steps the call will take, when known.
    """

    def __init__(self, notify: Notify | None = None, total: float | None = None) -> None:
        self._notify = notify
        self.total = total
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._done = 0
        self._last = 0.0

    def check(self) -> None:
        """Stop here when the client cancelled.

        Raises:
            CancelledByClient: the request was cancelled.
        """
        if self.cancelled.is_set():
            raise CancelledByClient("the client cancelled the call",
                                    hint="finished Space calls are cached; call again to go on")

    def note(self, message: str) -> None:
        """Report something happening inside the current step (progress creeps forward)."""
        self.check()
        with self._lock:
            value = self._last + (self._done + 1 - self._last) / 2
            self._send(value, message)

    def advance(self, message: str) -> None:
        """Report one step finished."""
        self.check()
        with self._lock:
            self._done += 1
            self._send(max(float(self._done), self._last), message)

    def _send(self, value: float, message: str) -> None:
        if value <= self._last or self._notify is None:
            return
        self._last = value
        with contextlib.suppress(Exception):  # a lost notification must not fail the work
            self._notify(value, self.total, message[:300])


_active = threading.local()


@contextmanager
def bound(call: Call) -> Iterator[Call]:
    """Mark the current thread as working for ``call`` (Space events go to it)."""
    previous = getattr(_active, "call", None)
    _active.call = call
    try:
        yield call
    finally:
        _active.call = previous


def current() -> Call | None:
    """The call the current thread works for, if any."""
    found = getattr(_active, "call", None)
    return found if isinstance(found, Call) else None
