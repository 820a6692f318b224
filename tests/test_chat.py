"""The chat: three turns change the site as asked, with exactly the Space calls needed; a
restarted chat resumes with its memory; memory steps survive a JSON round trip."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smolagents.memory import ActionStep, TaskStep
from smolagents.monitoring import Timing, TokenUsage
from smolagents.utils import AgentExecutionError

from spacesmith.agent.chat.session import ChatSession, restore_step, serialize_step
from spacesmith.agent.chat.terminal import chat_loop
from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.settings import Settings


def site_data(workspace: Path) -> dict[str, Any]:
    """The gallery data the built page reads (the JSON inside index.html)."""
    html = (workspace / "site" / "index.html").read_text("utf-8")
    found = re.search(r'<script id="gallery-data" type="application/json">(.*?)</script>',
                      html, re.S)
    assert found is not None
    text = found.group(1).replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    data: dict[str, Any] = json.loads(text)
    return data


def distance(item: dict[str, Any]) -> float:
    camera = item["camera"]
    return math.dist(camera["position"], camera["target"])


def test_three_turns_then_resume(offline_settings: Settings,
                                 open_agent: Callable[..., Harness]) -> None:
    harness = open_agent(offline_settings)
    chat = ChatSession.open(harness)
    ws = harness.workspace.root
    calls = harness.session

    first = chat.send("build a Paris monuments gallery")
    assert first.success, first.output
    before = site_data(ws)
    assert [i["name"] for i in before["items"]] == ["Panthéon", "Arc de Triomphe"]
    assert calls.calls_made == 4

    second = chat.send("zoom out")
    assert second.success, second.output
    assert calls.calls_made == 4, "zooming out must not call a Space"
    after = site_data(ws)
    for old, new in zip(before["items"], after["items"], strict=True):
        assert distance(new) > distance(old) * 1.2

    third = chat.send("replace the Panthéon with the Louvre")
    assert third.success, third.output
    assert calls.calls_made == 6, "exactly one image and one splat for the new subject"
    journal = [e for e in calls.journal.read(run_id=calls.run_id) if e["kind"] == "call"]
    new_calls = [e["tool"] for e in journal if not e["cached"]][4:]
    assert sorted(new_calls) == ["image_standin_generate", "splat_standin_generate"]
    final = site_data(ws)
    assert [i["name"] for i in final["items"]] == ["Louvre", "Arc de Triomphe"]
    assert distance(final["items"][0]) > distance(before["items"][0]) * 1.2  # zoom kept
    assert json.loads((ws / "session.json").read_text())["turns"][-1]["success"] is True
    steps_before = len(harness.agent.memory.steps)
    harness.close()

    # A restart: a new harness on the same workspace resumes the saved session.
    again = open_agent(offline_settings)
    resumed = ChatSession.open(again)
    assert len(again.agent.memory.steps) == steps_before
    assert len(resumed.turns) == 3
    text = json.dumps([m.dict() for m in again.agent.write_memory_to_messages()], default=str,
                      ensure_ascii=False)
    assert "replace the Panthéon with the Louvre" in text
    fourth = resumed.send("faster transitions")
    assert fourth.success, fourth.output
    assert again.session.calls_made == 0
    assert site_data(ws)["viewer"]["transition_s"] < final["viewer"]["transition_s"]

    # /undo puts the gallery back as it was before the last turn.
    assert resumed.undo().startswith("Undid")
    assert site_data(ws)["viewer"]["transition_s"] == final["viewer"]["transition_s"]
    assert len(again.agent.memory.steps) == steps_before


def test_chat_loop_commands(offline_settings: Settings,
                            open_agent: Callable[..., Harness]) -> None:
    from rich.console import Console

    harness = open_agent(offline_settings)
    chat = ChatSession.open(harness)
    console = Console(record=True, width=120)
    lines = iter(["/status", "/undo", "/nonsense", "/quit"])
    assert chat_loop(chat, console, lambda _prompt: next(lines)) == 0
    shown = console.export_text()
    assert "subjects: none yet" in shown
    assert "Nothing to undo." in shown
    assert "unknown command" in shown


def test_steps_round_trip_through_json() -> None:
    error = AgentExecutionError.__new__(AgentExecutionError)
    Exception.__init__(error, "AppError: boom")
    error.message = "AppError: boom"
    steps = [
        TaskStep(task="build it"),
        ActionStep(step_number=1, timing=Timing(1.0, 2.0), model_output="Thought: x",
                   code_action="print(1)", observations="1", error=error,
                   token_usage=TokenUsage(10, 5)),
    ]
    records = [serialize_step(s) for s in steps]
    back = [restore_step(json.loads(json.dumps(r))) for r in records if r is not None]
    assert isinstance(back[0], TaskStep) and back[0].task == "build it"
    action = back[1]
    assert isinstance(action, ActionStep)
    assert action.code_action == "print(1)" and action.token_usage.total_tokens == 15
    assert isinstance(action.error, AgentExecutionError) and "boom" in str(action.error)
    assert [m.dict() for m in action.to_messages()] == [m.dict() for m in steps[1].to_messages()]
