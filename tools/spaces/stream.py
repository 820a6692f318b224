"""Reading a call's result stream: Gradio's queue stream (position, start, progress,
heartbeats, the result) or the call route's, under a deadline and the stall rule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from spacesmith.tools.errors import SpaceStalledError, SpaceTimeoutError, TransientSpaceError
from spacesmith.tools.spaces.http_errors import (
    error_from_event,
    plain,
    raise_for_status,
    transport_error,
)
from spacesmith.tools.spaces.retry import Deadline
from spacesmith.tools.spaces.sse import DeadlineWatchdog, ServerEvent, iter_events
from spacesmith.tools.spaces.stall import CallWatch, SpaceActivity, StallPolicy

DRAIN_S = 2.0
SHOW_EVERY_S = 15.0  # a call whose state does not change is still shown this often


class Emit(Protocol):
    """Told each state of the call: ``emit("queued", "queued #2 of 5", call=..., ...)``."""

    def __call__(self, stage: str, detail: str = "", *, call: str | None = None,
                 elapsed_s: float | None = None) -> None: ...


@dataclass(frozen=True)
class Watching:
    """What one call is watched with: the stall rule, the expected duration, its label;
    ``marks`` records when the Space started running it (``"running"``, monotonic)."""

    stall: StallPolicy | None
    expected_s: float | None
    label: str | None
    marks: dict[str, float] = field(default_factory=dict)
    activity: SpaceActivity | None = None


def is_event_stream(response: httpx.Response) -> bool:
    kind = str(response.headers.get("content-type", ""))
    return kind.split(";")[0].strip().lower() == "text/event-stream"


def as_queue_message(event: ServerEvent) -> dict[str, Any] | None:
    """A call-route event (``complete``, ``generating``, ``error``, ``heartbeat``) as the
    queue message it stands for."""
    if event.name in ("complete", "generating"):
        kind = "process_completed" if event.name == "complete" else "process_generating"
        return {"msg": kind, "success": True, "output": {"data": event.data}}
    if event.name == "error":
        return {"msg": "process_completed", "success": False, "output": event.data}
    if event.name == "heartbeat":
        return {"msg": "heartbeat"}
    return None


def where(watch: CallWatch) -> str:
    """Where a call stands, with the Space's estimate: ``queued #2 of 5, about 12 s``."""
    text = watch.describe()
    if watch.stage == "queued" and watch.eta_s is not None:
        text += f", about {watch.eta_s:.0f} s to the result"
    elif watch.stage == "running" and watch.expected_s is not None:
        text += f" (expected about {watch.expected_s:.0f} s)"
    return text


def read_result(http: httpx.Client, url: str, headers: dict[str, str], *, space: str,
            endpoint: str, deadline: Deadline, watching: Watching, queue: bool,
            emit: Emit) -> tuple[bool, Any]:
    """Read one event's result stream (Gradio's queue stream when ``queue``, else the call
    route's) to its result, under the deadline and the stall rule.

    Returns:
        ``(True, outputs)``; ``(False, None)`` when ``queue`` and the server has no queue
        stream (404/405, or not an event stream): nothing was consumed, read the call route.

    Raises:
        AppError, QuotaError: the app failed.
        TransientSpaceError: 5xx, a broken stream, or an event the Space does not know.
        SpaceStalledError: no sign of progress for the stall budget.
        SpaceTimeoutError: the deadline passed.
    """
    remaining = deadline.remaining()
    timeout = httpx.Timeout(remaining + 1.0, connect=min(10.0, remaining + 0.1))
    last: Any = None
    watchdog: DeadlineWatchdog | None = None
    watch: CallWatch | None = None
    label = watching.label
    try:
        with http.stream("GET", url, headers=headers, timeout=timeout) as resp:
            if queue and (resp.status_code in (404, 405) or (
                    resp.status_code == 200 and not is_event_stream(resp))):
                resp.close()
                return False, None
            if resp.status_code != 200:
                resp.read()
                raise_for_status(resp, space=space, endpoint=endpoint, what="poll")
            watchdog = DeadlineWatchdog(resp, deadline.remaining())
            watch = CallWatch(resp, watching.stall, watching.expected_s, watching.activity)
            if not queue:
                watching.marks["running"] = time.monotonic()
                emit("running", call=label)
            shown = time.monotonic()
            events = iter_events(resp.iter_lines())
            for event in events:
                if deadline.expired or watch.stuck:
                    break
                message = as_queue_message(event) if not queue else event.data
                if not isinstance(message, dict):
                    continue
                kind = message.get("msg")
                output = message.get("output")
                progressed = watch.note(message)
                if kind in ("process_completed", "process_generating") and not message.get(
                        "success", True):
                    raise error_from_event(output, space=space, endpoint=endpoint)
                if kind == "process_completed":
                    data = output.get("data") if isinstance(output, dict) else None
                    watchdog.cancel()
                    watch.cancel()
                    drain(resp, events)
                    return True, last if data is None else data
                if kind == "process_generating":
                    last = output.get("data") if isinstance(output, dict) else last
                    emit("generating", call=label)
                elif kind == "unexpected_error":
                    raise TransientSpaceError(
                        "the Space does not know this event ("
                        + plain(str(message.get("message"))) + "); it may have restarted",
                        space=space, endpoint=endpoint)
                elif kind == "close_stream":
                    break
                elif progressed or time.monotonic() - shown >= SHOW_EVERY_S:
                    shown = time.monotonic()
                    stage = "queued" if watch.stage == "queued" else "running"
                    if stage == "running" and watch.running_since is not None:
                        watching.marks["running"] = watch.running_since
                    emit(stage, where(watch), call=label,
                               elapsed_s=time.monotonic() - watch.started)
    except httpx.HTTPError as exc:
        if watch is not None and watch.fired and not deadline.expired:
            raise SpaceStalledError(watch.stuck_message(), space=space, endpoint=endpoint,
                                    ran_at=watch.running_since,
                                    given_up_at=watch.given_up_at) from exc
        if deadline.expired or (watchdog is not None and watchdog.fired):
            raise SpaceTimeoutError(f"no result within {deadline.seconds:g} s",
                                    space=space, endpoint=endpoint) from exc
        raise transport_error(exc, space=space, endpoint=endpoint, what="poll",
                              deadline_passed=False) from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if watch is not None:
            watch.cancel()
    if watch is not None and watch.stuck and not deadline.expired:
        raise SpaceStalledError(watch.stuck_message(), space=space, endpoint=endpoint,
                                ran_at=watch.running_since,
                                given_up_at=watch.given_up_at or time.monotonic())
    if deadline.expired or (watchdog is not None and watchdog.fired):
        raise SpaceTimeoutError(f"no result within {deadline.seconds:g} s (the Space sent "
                                "only heartbeats)", space=space, endpoint=endpoint)
    raise TransientSpaceError("the result stream ended without a result", space=space,
                              endpoint=endpoint)


def drain(response: httpx.Response, rest: Iterator[Any]) -> None:
    """Read a finished result stream to its end, so its connection goes back to the pool
    (a new TLS handshake per call costs more than the call on a real Space). Gradio ends the
    stream right after ``complete``; a server that does not is cut off after 2 s."""
    watchdog = DeadlineWatchdog(response, DRAIN_S)
    try:
        for _ in rest:
            pass
    except httpx.HTTPError:
        pass  # the result is in hand; this connection is simply not reused
    finally:
        watchdog.cancel()
