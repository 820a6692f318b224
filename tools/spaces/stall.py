"""When a Space call counts as stuck: Gradio's queue messages, expected durations, a budget.

A call's result stream (``GET …/queue/data``) tells where the call stands: ``estimation``
(its rank in the queue and the queue's ETA), ``process_starts`` (a worker took it, with the
function's average duration as ETA), ``progress`` (``gr.Progress`` updates), generated
outputs, and ``heartbeat`` every 15 s whatever happens. Signs of progress are the rank
changing, the call starting, a changed progress update and an output. Heartbeats, and
estimations at an unchanged rank, are not. A call with no sign of progress for longer than
its budget is stuck:

    budget = max(floor_s, factor * expected_s)

``expected_s`` is the longest of what the run saw the same endpoint take (finished calls,
cached ones included) and what the Space itself expects (``process_starts``' eta, the
queue's ``rank_eta`` minus the time already spent). An honest queue moves its positions
within about one call's duration, so it is never cut; a stuck worker only sends heartbeats.
The per-call deadline (``call_timeout``) stays the hard cap on top of this.

A Space that has just hung, when no other Space can take its calls, is on probation (the
caller sets the policy's ``probation`` switch): every call on it, those already under way
included, gets the floor ``retry_floor_s`` (30 s) instead of ``floor_s``. The Space already
showed what it does; the long floor is there for a first call whose duration nobody knows
yet. So a Space stuck for good costs one budget plus one probation budget, and a Space that
hung once on one call goes on working.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from spacesmith.tools.spaces.sse import cut, stream_socket

if TYPE_CHECKING:
    import httpx

DEFAULT_FLOOR_S = 120.0
DEFAULT_FACTOR = 3.0
DEFAULT_RETRY_FLOOR_S = 30.0


@dataclass(frozen=True)
class StallPolicy:
    """How long a call may show no progress before it is given up.

    Attributes:
        floor_s: the least budget, whatever the call is expected to take.
        factor: the budget is this many times the expected duration, when it is known.
        retry_floor_s: the floor while the Space is on probation (never above ``floor_s``).
        probation: set while the Space is on probation (it hung, and no other Space can take
            its calls); read at every check, so calls under way feel it too.
        abandon: set once the Space is set aside: calls still under way on it end at once.
    """

    floor_s: float = DEFAULT_FLOOR_S
    factor: float = DEFAULT_FACTOR
    retry_floor_s: float = DEFAULT_RETRY_FLOOR_S
    probation: threading.Event | None = field(default=None, compare=False, repr=False)
    abandon: threading.Event | None = field(default=None, compare=False, repr=False)

    def watching(self, probation: threading.Event,
                 abandon: threading.Event | None = None) -> StallPolicy:
        """The same rule, with the probation and abandon switches of one Space."""
        return replace(self, probation=probation, abandon=abandon)

    def budget(self, expected_s: float | None) -> float:
        """Seconds without progress after which a call expected to take ``expected_s`` is
        stuck."""
        if self.abandon is not None and self.abandon.is_set():
            return 0.0
        floor = self.floor_s
        if self.probation is not None and self.probation.is_set():
            floor = min(self.retry_floor_s, self.floor_s)
        if expected_s is None or expected_s <= 0:
            return floor
        return max(floor, self.factor * expected_s)


class SpaceActivity:
    """The last sign of progress of any of this client's calls to one Space. A call waiting
    in the Space's queue behind one of ours that progresses is honest, even while its own
    position does not move (a long call ahead of it, with ``gr.Progress``)."""

    def __init__(self) -> None:
        self.last = float("-inf")

    def touch(self) -> None:
        self.last = time.monotonic()


class CallWatch:
    """What one call's stream said so far, and a watchdog that ends it when it is stuck.

    Feed every queue message to :meth:`note`. The watchdog shuts the response's socket down
    when the call shows no progress for its budget, so a blocked read ends at once (without
    a socket, e.g. a mock transport, :attr:`stuck` is checked between messages).

    Args:
        response: the open result stream.
        policy: the stall rule; ``None`` watches nothing (only the state is kept).
        expected_s: what the run expects the call to take, from earlier calls.
    """

    def __init__(self, response: httpx.Response | None, policy: StallPolicy | None,
                 expected_s: float | None, activity: SpaceActivity | None = None) -> None:
        now = time.monotonic()
        self.started = now
        self.last_progress = now
        self.stage = "waiting"
        self.rank: int | None = None
        self.queue_size: int | None = None
        self.eta_s: float | None = None
        self.running_since: float | None = None
        self.progress = ""
        self.fired = False
        self.given_up_at: float | None = None  # when the watchdog gave the call up
        self._policy = policy
        self._activity = activity
        self._history_s = expected_s
        self._space_eta_s: float | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._sock = stream_socket(response)
        self._thread: threading.Thread | None = None
        if policy is not None and self._sock is not None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="stall-watch")
            self._thread.start()

    # --- what the stream says -------------------------------------------------------------

    def note(self, message: Mapping[str, Any]) -> bool:
        """Take one queue message (a dict with ``msg``); True when it is a sign of progress."""
        kind = message.get("msg")
        with self._lock:
            if kind == "estimation":
                rank = _int(message.get("rank"))
                self.queue_size = _int(message.get("queue_size"))
                eta = _float(message.get("rank_eta"))
                if eta is not None:
                    self.eta_s = eta
                    self._space_eta_s = max(self._space_eta_s or 0.0,
                                            eta - (time.monotonic() - self.started))
                moved = self.stage != "queued" or rank != self.rank
                self.stage, self.rank = "queued", rank
                return self._touch(moved)
            if kind == "process_starts":
                eta = _float(message.get("eta"))
                if eta is not None:
                    self.eta_s = eta
                    self._space_eta_s = max(self._space_eta_s or 0.0, eta)
                self.stage, self.rank = "running", None
                self.running_since = time.monotonic()
                return self._touch(True)
            if kind == "progress":
                text = _progress_text(message.get("progress_data"))
                changed = text != self.progress
                self.progress = text
                if self.stage != "running":
                    self.stage, self.running_since = "running", time.monotonic()
                return self._touch(changed)
            if kind in ("process_generating", "process_completed"):
                self.stage = "generating" if kind == "process_generating" else "done"
                return self._touch(True)
        return False

    def _touch(self, progressed: bool) -> bool:
        if progressed:
            self.last_progress = time.monotonic()
            if self._activity is not None:
                self._activity.touch()
        return progressed

    def _last_sign(self) -> float:
        """The last sign of progress that counts for this call: its own, and while it waits
        in the queue, that of any other call of ours to the same Space."""
        if self._activity is not None and self.stage in ("waiting", "queued"):
            return max(self.last_progress, self._activity.last)
        return self.last_progress

    # --- the rule ---------------------------------------------------------------------

    @property
    def expected_s(self) -> float | None:
        """The longest of the run's history and the Space's own estimate."""
        known = [v for v in (self._history_s, self._space_eta_s) if v is not None and v > 0]
        return max(known) if known else None

    @property
    def budget_s(self) -> float:
        return self._policy.budget(self.expected_s) if self._policy is not None else float("inf")

    @property
    def idle_s(self) -> float:
        """Seconds since the last sign of progress."""
        return time.monotonic() - self._last_sign()

    @property
    def stuck(self) -> bool:
        """True when the call has shown no progress for its budget."""
        return self.fired or (self._policy is not None and self.idle_s >= self.budget_s)

    def describe(self) -> str:
        """Where the call stands, for a progress line or an error: ``queued #2 of 5``."""
        if self.stage == "queued" and self.rank is not None:
            size = f" of {self.queue_size}" if self.queue_size else ""
            return f"queued #{self.rank + 1}{size}"
        if self.stage == "running" and self.running_since is not None:
            spent = time.monotonic() - self.running_since
            return f"running for {spent:.0f} s" + (f", {self.progress}" if self.progress else "")
        return {"waiting": "waiting for the Space", "generating": "generating"}.get(
            self.stage, self.stage)

    @property
    def ran(self) -> bool:
        """True when a worker took the call (it left the queue)."""
        return self.running_since is not None

    def stuck_message(self) -> str:
        """The one line a stuck call ends with."""
        return f"no progress for {self.idle_s:.0f} s ({self.describe()}, heartbeats only)"

    # --- the watchdog -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._done.is_set():
            with self._lock:
                left = self._last_sign() + self.budget_s - time.monotonic()
            if left <= 0:
                self._fire()
                return
            # a probation switch may shorten the budget at any time: look again soon
            probation = self._policy is not None and self._policy.probation is not None
            self._done.wait(min(left, 2.0 if probation else 60.0))

    def _fire(self) -> None:
        self.given_up_at = time.monotonic()
        self.fired = True
        cut(self._sock)

    def cancel(self) -> None:
        """Stop watching (the stream ended)."""
        self._done.set()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _progress_text(data: Any) -> str:
    """``gr.Progress`` updates as text: ``step 3/20`` or ``40%``, the innermost last."""
    if not isinstance(data, list):
        return ""
    parts: list[str] = []
    for unit in data:
        if not isinstance(unit, dict):
            continue
        index, length = unit.get("index"), unit.get("length")
        desc = str(unit.get("desc") or unit.get("unit") or "").strip()[:40]
        if isinstance(index, int) and isinstance(length, int) and length > 0:
            parts.append(f"{desc or 'step'} {index}/{length}")
        elif isinstance(unit.get("progress"), (int, float)):
            parts.append(f"{desc} {float(unit['progress']) * 100:.0f}%".strip())
    return ", ".join(parts)
