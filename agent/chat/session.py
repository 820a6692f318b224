"""A chat session: turns over one harness, undo, cancel, saved after every turn.

The terminal chat (``agent/chat/terminal.py``) and the studio (``agent/chat/studio.py``)
both drive a :class:`ChatSession`. smolagents has no save/load of memory and its error steps
do not pickle, so the session file (``session.json`` in the workspace) holds the steps as
plain JSON and rebuilds them. Executor variables are not kept across a restart; the gallery
lives in ``gallery.json``, which is what later turns edit (``read_gallery()``).

A cancelled turn (Ctrl-C, the studio's Stop) leaves no trace: the gallery, the site and the
agent's memory are put back as they were before it; the Space calls it finished stay in the
cache, so asking again costs nothing for them.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smolagents import utils as sa_utils
from smolagents.memory import ActionStep, MemoryStep, PlanningStep, TaskStep, ToolCall
from smolagents.models import ChatMessage, MessageRole
from smolagents.monitoring import Timing, TokenUsage

from spacesmith.agent.chat import turns as ts
from spacesmith.agent.chat.hooks import TurnHooks
from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.report import RunOutcome
from spacesmith.agent.runs.workspace import atomic_write
from spacesmith.tools.errors import Cancelled
from spacesmith.tools.redact import scrub

SESSION_FILE = "session.json"
SESSION_VERSION = 1
COMMANDS = ("/help", "/status", "/undo", "/preview", "/deploy", "/quit")
CANCELLED = "Cancelled: the gallery and the site are as they were before this turn."


def serialize_step(step: MemoryStep) -> dict[str, Any] | None:
    """A JSON-able record of one memory step (None for kinds not kept)."""
    if isinstance(step, TaskStep):
        return {"type": "task", "task": step.task}
    if isinstance(step, PlanningStep):
        return {"type": "planning", "plan": step.plan, "start": step.timing.start_time,
                "end": step.timing.end_time}
    if isinstance(step, ActionStep):
        usage = step.token_usage
        error = None
        if step.error is not None:
            error = {"type": type(step.error).__name__, "message": str(step.error)}
        return {
            "type": "action", "step_number": step.step_number,
            "start": step.timing.start_time, "end": step.timing.end_time,
            "model_output": step.model_output if isinstance(step.model_output, str) else None,
            "code_action": step.code_action, "observations": step.observations,
            "tool_calls": [{"name": t.name, "arguments": t.arguments, "id": t.id}
                           for t in step.tool_calls or []],
            "error": error,
            "action_output": None if step.action_output is None else str(step.action_output),
            "tokens": [usage.input_tokens, usage.output_tokens] if usage else None,
            "is_final_answer": step.is_final_answer,
        }
    return None


def _error(record: dict[str, Any] | None) -> sa_utils.AgentError | None:
    if record is None:
        return None
    found: Any = getattr(sa_utils, str(record.get("type")), None)
    if not (isinstance(found, type) and issubclass(found, sa_utils.AgentError)):
        found = sa_utils.AgentExecutionError
    error: sa_utils.AgentError = found.__new__(found)  # its __init__ logs; a restore must not
    Exception.__init__(error, record["message"])
    error.message = record["message"]
    return error


def restore_step(record: dict[str, Any]) -> MemoryStep | None:
    """Rebuild a memory step from :func:`serialize_step`'s record."""
    kind = record.get("type")
    if kind == "task":
        return TaskStep(task=record["task"])
    if kind == "planning":
        plan = record["plan"]
        return PlanningStep(model_input_messages=[],
                            model_output_message=ChatMessage(MessageRole.ASSISTANT, plan),
                            plan=plan, timing=Timing(record["start"], record["end"]))
    if kind == "action":
        tokens = record.get("tokens")
        return ActionStep(
            step_number=record["step_number"],
            timing=Timing(record["start"], record["end"]),
            model_output=record.get("model_output"),
            code_action=record.get("code_action"),
            observations=record.get("observations"),
            tool_calls=[ToolCall(t["name"], t["arguments"], t["id"])
                        for t in record.get("tool_calls") or []] or None,
            error=_error(record.get("error")),
            action_output=record.get("action_output"),
            token_usage=TokenUsage(tokens[0], tokens[1]) if tokens else None,
            is_final_answer=bool(record.get("is_final_answer")),
        )
    return None


@dataclass(frozen=True)
class Snapshot:
    """What a turn may change: the gallery text and the built page (None: absent)."""

    gallery: str | None
    page: bytes | None


@dataclass
class ChatSession:
    """A chat over one harness: turns, undo, cancel, status, saved to ``session.json``.

    Attributes:
        harness: the agent and its workspace.
        turns: one record per turn (message, outcome, the gallery before the turn).
        hooks: routes the agent's events to the current turn's view; holds the cancel flag.
    """

    harness: Harness
    turns: list[dict[str, Any]] = field(default_factory=list)
    hooks: TurnHooks = field(default_factory=TurnHooks)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> Path:
        return self.harness.workspace.root / SESSION_FILE

    @classmethod
    def open(cls, harness: Harness) -> ChatSession:
        """Attach to a harness, restoring the memory of a saved session in its workspace."""
        session = cls(harness)
        session.hooks.attach(harness)
        if session.path.is_file():
            data = json.loads(session.path.read_text("utf-8"))
            steps = [s for r in data.get("steps", []) if (s := restore_step(r)) is not None]
            harness.agent.memory.steps = steps
            session.turns = list(data.get("turns", []))
        return session

    @property
    def busy(self) -> bool:
        """A turn is running."""
        return self._lock.locked()

    def send(self, message: str) -> RunOutcome:
        """Run one turn (the memory of earlier turns is kept), then save the session.

        An undo phrase ("undo that", "revert") undoes instead; a turn that leaves the
        gallery and the site as they were is reported as such, never as a success
        (:mod:`spacesmith.agent.chat.turns`). A turn cancelled with :meth:`cancel` (or a
        second Ctrl-C, KeyboardInterrupt) returns an outcome with ``state == "cancelled"``
        and changes nothing.
        """
        if ts.is_undo(message):
            return self._undo_outcome()
        with self._lock:
            self.hooks.cancelled.clear()
            ws = self.harness.workspace
            before = self.snapshot()
            first_step = len(self.harness.agent.memory.steps)
            print_before = ts.fingerprint(ws.gallery_json, ws.site_dir)
            snapshot = ts.snapshot_site(ws.site_dir, ws.root, len(self.turns))
            url_before, self.harness.deployed_url = self.harness.deployed_url, None
            task = self.harness.task_for(message) if before.gallery is None else message
            start = time.monotonic()
            try:
                outcome = self.harness.run(ts.with_context(task, ws.gallery_json), reset=False)
            except (Cancelled, KeyboardInterrupt):
                return self._cancelled(before, first_step, start)
            except Exception:
                if self.hooks.cancelled.is_set():  # "Agent interrupted.", a fan-out stopped
                    return self._cancelled(before, first_step, start)
                raise
            finally:
                deployed = self.harness.deployed_url is not None  # this turn deployed
                self.harness.deployed_url = self.harness.deployed_url or url_before
            if self.hooks.cancelled.is_set():
                return self._cancelled(before, first_step, start)
            changed = ts.fingerprint(ws.gallery_json, ws.site_dir) != print_before
            outcome = ts.report_no_change(outcome, changed=changed, deployed=deployed)
            self.turns.append({"message": message, "first_step": first_step,
                               "gallery_before": before.gallery, "output": outcome.output,
                               "success": outcome.success, "changed": changed,
                               "site_snapshot": snapshot is not None})
            self.save()
            return outcome

    def cancel(self) -> None:
        """Stop the running turn at its next Space event or agent step (any thread)."""
        self.hooks.cancel()
        self.harness.agent.interrupt()

    def snapshot(self) -> Snapshot:
        """The gallery and the built page as they are now."""
        ws = self.harness.workspace
        page = ws.site_dir / "index.html"
        return Snapshot(ws.gallery_json.read_text("utf-8") if ws.gallery_json.is_file() else None,
                        page.read_bytes() if page.is_file() else None)

    def restore(self, before: Snapshot) -> None:
        """Put the gallery and the site back as in ``before`` (nothing is written if equal)."""
        now = self.snapshot()
        ws = self.harness.workspace
        if now.gallery != before.gallery:
            if before.gallery is None:
                ws.gallery_json.unlink(missing_ok=True)
            else:
                ws.write_text("gallery.json", before.gallery)
        if now.page != before.page or now.gallery != before.gallery:
            if before.gallery is not None and before.page is not None:
                self._rebuild_site()
            elif before.page is None and ws.site_dir.is_dir():
                shutil.rmtree(ws.site_dir)
                ws.site_dir.mkdir()

    def _cancelled(self, before: Snapshot, first_step: int, start: float) -> RunOutcome:
        memory = self.harness.agent.memory
        memory.steps = memory.steps[:first_step]
        self.restore(before)
        ts.drop_snapshots(self.harness.workspace.root, len(self.turns))  # this turn's copy
        self.save()
        self.hooks.cancelled.clear()
        site = self.harness.workspace.site_dir
        return RunOutcome(CANCELLED, "cancelled", False, 0, time.monotonic() - start,
                          site if (site / "index.html").is_file() else None,
                          self.harness.deployed_url)

    def undo(self) -> str:
        """Undo the last turn that changed something: the gallery and the site are put
        back byte for byte, and that turn (with the turns after it, which changed
        nothing) leaves the memory."""
        with self._lock:
            changed = [i for i, t in enumerate(self.turns) if t.get("changed", True)]
            if not changed:
                return "Nothing to undo."
            index = changed[-1]
            turn = self.turns[index]
            del self.turns[index:]
            memory = self.harness.agent.memory
            memory.steps = memory.steps[: turn["first_step"]]
            ws = self.harness.workspace
            snapshot = ws.root / ts.UNDO_DIR / f"site-{index}"
            if turn["gallery_before"] is None:
                ws.gallery_json.unlink(missing_ok=True)
                ts.restore_site(ws.site_dir, None)
            else:
                ws.write_text("gallery.json", turn["gallery_before"])
                if turn.get("site_snapshot") and snapshot.is_dir():
                    ts.restore_site(ws.site_dir, snapshot)
                else:
                    self._rebuild_site()
            ts.drop_snapshots(ws.root, index)
            self.save()
            return f"Undid: {turn['message']}"

    def _undo_outcome(self) -> RunOutcome:
        text = self.undo()
        ws = self.harness.workspace
        site = ws.site_dir if (ws.site_dir / "index.html").is_file() else None
        return RunOutcome(text, "undo", text.startswith("Undid"), 0, 0.0, site,
                          self.harness.deployed_url)

    def _rebuild_site(self) -> None:
        from spacesmith.agent.codeagent.local_tools import BuildSiteTool

        tool = self.harness.agent.tools["build_site"]
        assert isinstance(tool, BuildSiteTool)
        data = json.loads(self.harness.workspace.gallery_json.read_text("utf-8"))
        tool.forward(data)

    def status(self) -> str:
        """A few lines: model, workspace, turns, Space calls, subjects, URL."""
        ws = self.harness.workspace
        names: list[str] = []
        if ws.gallery_json.is_file():
            names = [str(it.get("name")) for it in
                     json.loads(ws.gallery_json.read_text("utf-8")).get("items", [])]
        s = self.harness.session
        return "\n".join([
            f"model: {self.harness.model_label}",
            f"workspace: {ws.root}",
            f"turns: {len(self.turns)}; memory steps: {len(self.harness.agent.memory.steps)}",
            f"Space calls: {s.calls_made} made, {s.calls_cached} from cache",
            f"subjects: {', '.join(names) or 'none yet'}",
            f"Space URL: {self.harness.deployed_url or 'not deployed'}",
        ])

    def save(self) -> None:
        """Write ``session.json`` atomically (steps as JSON, never pickled)."""
        steps = [r for s in self.harness.agent.memory.steps if (r := serialize_step(s))]
        data = {"version": SESSION_VERSION, "steps": steps, "turns": self.turns}
        text = scrub(json.dumps(data, ensure_ascii=False, default=str))
        atomic_write(self.path, text.encode())


def live_printer(console: Any) -> Callable[..., None]:
    """A step callback that prints each step's code and result with rich."""
    from rich.panel import Panel
    from rich.syntax import Syntax

    def show(step: Any) -> None:
        if not isinstance(step, ActionStep):
            return
        if step.code_action:
            console.print(Panel(Syntax(step.code_action, "python", theme="ansi_dark"),
                                title=f"step {step.step_number}", expand=False))
        if step.error is not None:
            console.print(f"[red]error:[/red] {step.error}")
        elif step.observations:
            console.print(step.observations.strip()[-1500:], markup=False)

    return show


def progress_printer(console: Any) -> Callable[[Any], None]:
    """A progress callback that prints each Space call's state: queued #2 of 5, running for
    40 s, retrying in 3 s, done (one line each, see ``spacesmith.agent.runs.progress``)."""
    from rich.markup import escape

    from spacesmith.agent.runs.progress import progress_line

    def show(event: Any) -> None:
        line = progress_line(event)
        if line is not None:
            console.print(f"[dim]{escape(line)}[/dim]", highlight=False)

    return show
