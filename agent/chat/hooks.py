"""Where a chat turn's events go, and how a running turn is stopped.

The harness is built once; each turn has its own view. :class:`TurnHooks` sits between them:
it receives the Space progress events, the code the agent is about to run and the finished
steps, passes them to the current view, and raises :class:`Cancelled` at the next of those
points once :meth:`TurnHooks.cancel` was called (Ctrl-C, the studio's Stop button).
``Cancelled`` is a BaseException, so agent-written ``except Exception`` cannot swallow it.
A call that has finished downloading is never thrown away: ``done`` is passed through, so
its files reach the cache.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from smolagents.memory import ActionStep
from smolagents.monitoring import AgentLogger, LogLevel

from spacesmith.tools.errors import Cancelled

STOPPABLE = ("started", "queued", "running", "generating", "retrying")


class View(Protocol):
    """What a turn's display accepts (``agent/chat/display.py``'s TurnView)."""

    def on_code(self, code: str) -> None: ...

    def on_progress(self, event: Any) -> None: ...

    def on_step_error(self, message: str) -> None: ...


class _CodeWatch(AgentLogger):  # type: ignore[misc]
    """smolagents' logger, silenced, telling the hooks about code just before it runs."""

    def __init__(self, hooks: TurnHooks) -> None:
        import io

        from rich.console import Console

        super().__init__(level=LogLevel.OFF, console=Console(file=io.StringIO()))
        self.hooks = hooks

    def log_code(self, title: str, content: str, level: int = LogLevel.INFO) -> None:
        self.hooks.code(content)


class TurnHooks:
    """Routes the agent's events to the current view; stops a cancelled turn."""

    def __init__(self) -> None:
        self.view: View | None = None
        self.cancelled = threading.Event()

    def attach(self, harness: Any) -> None:
        """Receive ``harness``'s Space progress, code and steps (replaces its loud logger)."""
        agent = harness.agent
        agent.logger = _CodeWatch(self)
        agent.monitor.logger = agent.logger
        harness.session.progress = self.progress
        agent.step_callbacks.register(ActionStep, self.step)

    def cancel(self) -> None:
        self.cancelled.set()

    def _check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("the turn was cancelled")

    def progress(self, event: Any) -> None:
        if getattr(event, "stage", "") in STOPPABLE:
            self._check()
        if self.view is not None:
            self.view.on_progress(event)

    def code(self, code: str) -> None:
        self._check()
        if self.view is not None:
            self.view.on_code(code)

    def step(self, step: Any, agent: Any = None) -> None:
        if self.view is not None and isinstance(step, ActionStep) and step.error is not None:
            self.view.on_step_error(str(step.error))
