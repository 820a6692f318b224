"""The terminal chat: live steps, memory kept between turns, sessions saved after every turn.

smolagents has no save/load of memory and its error steps do not pickle, so the session
file (``session.json`` in the workspace) holds the steps as plain JSON and rebuilds them.
Executor variables are not kept across a restart; the gallery lives in ``gallery.json``,
which is what later turns edit (``read_gallery()``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smolagents import utils as sa_utils
from smolagents.memory import ActionStep, MemoryStep, PlanningStep, TaskStep, ToolCall
from smolagents.models import ChatMessage, MessageRole
from smolagents.monitoring import Timing, TokenUsage

from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.report import RunOutcome
from spacesmith.agent.runs.workspace import atomic_write

SESSION_FILE = "session.json"
SESSION_VERSION = 1
COMMANDS = ("/status", "/undo", "/preview", "/deploy", "/quit")


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


@dataclass
class ChatSession:
    """A chat over one harness: turns, undo, status, saved to ``session.json`` each turn.

    Attributes:
        harness: the agent and its workspace.
        turns: one record per turn (message, outcome, the gallery before the turn).
    """

    harness: Harness
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.harness.workspace.root / SESSION_FILE

    @classmethod
    def open(cls, harness: Harness) -> ChatSession:
        """Attach to a harness, restoring the memory of a saved session in its workspace."""
        session = cls(harness)
        if session.path.is_file():
            data = json.loads(session.path.read_text("utf-8"))
            steps = [s for r in data.get("steps", []) if (s := restore_step(r)) is not None]
            harness.agent.memory.steps = steps
            session.turns = list(data.get("turns", []))
        return session

    def send(self, message: str) -> RunOutcome:
        """Run one turn (the memory of earlier turns is kept), then save the session."""
        ws = self.harness.workspace
        before = ws.gallery_json.read_text("utf-8") if ws.gallery_json.is_file() else None
        first_step = len(self.harness.agent.memory.steps)
        task = self.harness.task_for(message) if not self.turns else message
        outcome = self.harness.run(task, reset=False)
        self.turns.append({"message": message, "first_step": first_step,
                           "gallery_before": before, "output": outcome.output,
                           "success": outcome.success})
        self.save()
        return outcome

    def undo(self) -> str:
        """Forget the last turn and put the gallery (and site) back as it was before it."""
        if not self.turns:
            return "Nothing to undo."
        turn = self.turns.pop()
        memory = self.harness.agent.memory
        memory.steps = memory.steps[: turn["first_step"]]
        ws = self.harness.workspace
        if turn["gallery_before"] is None:
            ws.gallery_json.unlink(missing_ok=True)
        else:
            ws.write_text("gallery.json", turn["gallery_before"])
            self._rebuild_site()
        self.save()
        return f"Undid: {turn['message']}"

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
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, default=str).encode())


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


def chat_loop(session: ChatSession, console: Any, read: Callable[[str], str]) -> int:
    """Read messages until /quit or end of input; commands: /status /undo /preview /deploy."""
    console.print(f"[bold]spacesmith chat[/bold] · {session.harness.model_label}\n"
                  f"commands: {' '.join(COMMANDS)}")
    if session.turns:
        console.print(f"resumed: {len(session.turns)} earlier turn(s), last: "
                      f"{session.turns[-1]['message']!r}")
    while True:
        try:
            message = read("you> ").strip()
        except EOFError:
            return 0
        if not message:
            continue
        if message in ("/quit", "/exit"):
            return 0
        if message == "/status":
            console.print(session.status())
        elif message == "/undo":
            console.print(session.undo())
        elif message == "/preview":
            _preview(session, console)
        elif message.startswith("/deploy"):
            target = (message.removeprefix("/deploy").strip()
                      or session.harness.settings.deploy_space)
            if not target:
                console.print("usage: /deploy OWNER/NAME")
                continue
            outcome = session.send(f"deploy to {target}")
            console.print(f"[bold]{outcome.output}[/bold]")
        elif message.startswith("/"):
            console.print(f"unknown command; known: {' '.join(COMMANDS)}")
        else:
            outcome = session.send(message)
            colour = "green" if outcome.success else "red"
            console.print(f"[{colour}]{outcome.output}[/{colour}]")


def _preview(session: ChatSession, console: Any) -> None:
    from spacesmith.agent.runs.screenshot import screenshot_site
    from spacesmith.tools.errors import SpacesmithError

    ws = session.harness.workspace
    try:
        shot = screenshot_site(ws.site_dir, ws.root / "site-preview.png")
    except SpacesmithError as exc:
        console.print(f"[red]{exc}[/red]")
        return
    console.print(f"screenshot: {shot}\nserve it: spacesmith site preview {ws.site_dir}")
