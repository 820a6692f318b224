"""What a person sees during one chat turn: the code before it runs, a line per Space call.

One :class:`TurnView` per turn collects the events (code about to run, Space progress, step
errors) and renders them. On a terminal it is a rich ``Live`` display that redraws in place
and disappears when the turn ends, leaving a short summary; when the output is not a
terminal (piped, logged) it prints plain lines as things finish, with no escape codes. The
studio reads the same view as text (:meth:`TurnView.lines`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

HEX_ID = re.compile(r"\b[0-9a-f]{16,64}\b")
CODE_LINES_TERMINAL = 14
LINE_CHARS = 110


class Console(Protocol):
    """The slice of ``rich.console.Console`` the view uses."""

    is_terminal: bool

    def print(self, *objects: Any, **kwargs: Any) -> None: ...


def short_ids(text: str) -> str:
    """Long hex ids (Gradio event ids, cache keys) cut to 6 characters."""
    return HEX_ID.sub(lambda m: m.group(0)[:6], text)


def code_head(code: str, limit: int) -> list[str]:
    """The first ``limit`` meaningful lines of the code, and how many more there are."""
    lines = [line.rstrip() for line in code.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    head = lines[:limit]
    if len(lines) > limit:
        head.append(f"… {len(lines) - limit} more lines")
    return head


@dataclass
class CallLine:
    """One Space call of the turn."""

    number: int
    space: str
    endpoint: str
    stage: str = "started"
    detail: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def text(self, now: float) -> str:
        label = f"#{self.number} {_short_space(self.space)} {self.endpoint}"
        if self.stage == "done":
            return f"{label}  done in {(self.ended or now) - self.started:.1f} s"
        if self.stage == "failed":
            return f"{label}  failed: {short_ids(self.detail)[:120]}"
        if self.stage in ("started", "queued"):
            where = _queue_position(self.detail)
            return f"{label}  queued{where}"
        if self.stage == "retrying":
            return f"{label}  retrying: {short_ids(self.detail)[:100]}"
        return f"{label}  running {now - self.started:.0f} s"


def _short_space(space: str) -> str:
    """A Space as a person names it: the Hub id, or host:port for a URL."""
    return re.sub(r"^https?://", "", space).rstrip("/")


def _queue_position(detail: str) -> str:
    found = re.search(r"(?:position|rank)\D{0,3}(\d+)", detail)
    return f" (#{int(found.group(1)) + 1} in line)" if found else ""


class TurnView:
    """The events of one turn, shown live on a terminal or as plain lines otherwise.

    Args:
        console: where to show it (a rich Console, or None to only collect: the studio).
        refresh_s: how often the terminal display redraws.
    """

    def __init__(self, console: Console | None = None, *, refresh_s: float = 0.25) -> None:
        self.console = console
        self.calls: list[CallLine] = []
        self.code: list[str] = []
        self.step = 0
        self.notes: list[str] = []
        self._by_thread: dict[int, CallLine] = {}
        self._lock = threading.Lock()
        self._live: Any = None
        self._refresh_s = refresh_s
        self.started = time.monotonic()

    @property
    def live(self) -> bool:
        return self.console is not None and self.console.is_terminal

    # --- events ---------------------------------------------------------------------

    def on_code(self, code: str) -> None:
        """The agent is about to run ``code`` (a new step)."""
        with self._lock:
            self.step += 1
            self.code = code_head(code, CODE_LINES_TERMINAL)
            head = code_head(code, 1)
        if self.console is not None and not self.live:  # one line: the first, and a count
            first = head[0] if head else "(no code)"
            if len(first) > LINE_CHARS:
                first = first[: LINE_CHARS - 1] + "…"
            more = f" ({head[1][2:]})" if len(head) > 1 else ""
            self.console.print(f"step {self.step}: {first}{more}", markup=False,
                               highlight=False)
        self._redraw()

    def on_progress(self, event: Any) -> None:
        """A Space progress event (from the thread making the call)."""
        stage = str(getattr(event, "stage", ""))
        detail = str(getattr(event, "detail", "") or "")
        ident = threading.get_ident()
        finished: CallLine | None = None
        with self._lock:
            line = self._by_thread.get(ident)
            if stage == "started" or line is None:
                if getattr(event, "endpoint", None) is None:  # a Space waking up, no call yet
                    self.notes.append(short_ids(f"{event.space}: {detail}"))
                    return
                line = CallLine(len(self.calls) + 1, str(event.space), str(event.endpoint))
                self.calls.append(line)
                self._by_thread[ident] = line
            line.stage, line.detail = stage, detail
            if stage in ("done", "failed"):
                line.ended = time.monotonic()
                self._by_thread.pop(ident, None)
                finished = line
        if finished is not None and self.console is not None and not self.live:
            self.console.print(f"  {finished.text(time.monotonic())}", markup=False,
                               highlight=False)
        self._redraw()

    def on_step_error(self, message: str) -> None:
        """A step ended in an error the agent will see (and usually fix)."""
        with self._lock:
            self.notes.append(short_ids(message.strip().splitlines()[-1][:160]
                                        if message.strip() else "error"))
        if self.console is not None and not self.live:
            self.console.print(f"  step {self.step} failed: {self.notes[-1]}", markup=False,
                               highlight=False)
        self._redraw()

    # --- rendering ------------------------------------------------------------------

    def lines(self) -> list[str]:
        """The view as plain text lines (the studio's progress panel)."""
        now = time.monotonic()
        with self._lock:
            out = [f"step {self.step}" + (" · running:" if self.code else "")] if self.step else []
            out += [f"    {line}" for line in self.code]
            out += [c.text(now) for c in self.calls]
            out += [f"note: {n}" for n in self.notes[-3:]]
        return out

    def summary(self) -> str:
        """One line: steps, Space calls and time."""
        done = sum(1 for c in self.calls if c.stage == "done")
        failed = sum(1 for c in self.calls if c.stage == "failed")
        calls = f"{len(self.calls)} Space call(s)" if self.calls else "no Space call"
        if failed:
            calls += f", {failed} failed"
        elif self.calls and done < len(self.calls):
            calls += f", {len(self.calls) - done} stopped"
        return (f"{self.step} step(s), {calls}, {time.monotonic() - self.started:.1f} s")

    def _renderable(self) -> Any:
        from rich.console import Group
        from rich.syntax import Syntax
        from rich.text import Text

        parts: list[Any] = []
        now = time.monotonic()
        with self._lock:
            if self.step:
                parts.append(Text(f"step {self.step} · running:", style="bold"))
            if self.code:
                parts.append(Syntax("\n".join(self.code), "python", theme="ansi_dark"))
            for call in self.calls:
                style = {"done": "green", "failed": "red"}.get(call.stage, "yellow")
                parts.append(Text(call.text(now), style=style))
            parts += [Text(f"note: {n}", style="dim") for n in self.notes[-3:]]
        parts.append(Text("Ctrl-C stops this turn", style="dim"))
        return Group(*parts)

    def __enter__(self) -> TurnView:
        if self.live:
            from rich.live import Live

            self._live = Live(self._renderable(), console=self.console,  # type: ignore[arg-type]
                              refresh_per_second=1 / self._refresh_s, transient=True,
                              get_renderable=self._renderable)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _redraw(self) -> None:
        if self._live is not None:
            self._live.refresh()
