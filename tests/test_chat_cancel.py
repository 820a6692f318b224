"""Cancelling a turn (Ctrl-C in the terminal, Stop in the studio) changes nothing: the
gallery, the built site, the agent's memory and the saved session stay as before the turn,
whether it is stopped inside one Space call or inside a fan-out of several; the chat goes on.
The cancel is pressed from the turn's own events, so no timing is involved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spacesmith.agent.chat.session import CANCELLED, ChatSession
from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.settings import Settings


class CancelAt:
    """A turn view that presses Stop at the first Space event of the given stage."""

    def __init__(self, chat: ChatSession, stage: str) -> None:
        self.chat = chat
        self.stage = stage
        self.pressed = 0
        self.codes: list[str] = []

    def on_code(self, code: str) -> None:
        self.codes.append(code)

    def on_progress(self, event: Any) -> None:
        if event.stage == self.stage and not self.pressed:
            self.pressed += 1
            self.chat.cancel()

    def on_step_error(self, message: str) -> None:
        pass


def test_cancel_in_a_fan_out_of_the_first_build(offline_settings: Settings,
                                                open_agent: Callable[..., Harness]) -> None:
    chat = ChatSession.open(open_agent(offline_settings))
    ws = chat.harness.workspace
    chat.hooks.view = CancelAt(chat, "started")  # two image calls start together
    outcome = chat.send("build a Paris monuments gallery")
    assert outcome.state == "cancelled" and outcome.output == CANCELLED
    assert not ws.gallery_json.exists()
    assert not (ws.site_dir / "index.html").exists()
    assert chat.turns == [] and chat.harness.agent.memory.steps == []
    assert chat.harness.session.calls_made <= 2  # nothing started after the press


def test_cancel_inside_one_call_keeps_the_gallery_and_the_chat(
        offline_settings: Settings, open_agent: Callable[..., Harness]) -> None:
    chat = ChatSession.open(open_agent(offline_settings))
    ws = chat.harness.workspace
    assert chat.send("build a Paris monuments gallery").success
    gallery = ws.gallery_json.read_bytes()
    page = (ws.site_dir / "index.html").read_bytes()
    session = chat.path.read_bytes()
    steps = len(chat.harness.agent.memory.steps)

    view = CancelAt(chat, "running")  # the new subject's image is being made
    chat.hooks.view = view
    outcome = chat.send("replace the Panthéon with the Louvre")
    assert view.pressed == 1 and view.codes, "the code is shown before it runs"
    assert outcome.state == "cancelled" and not outcome.success
    assert ws.gallery_json.read_bytes() == gallery
    assert (ws.site_dir / "index.html").read_bytes() == page
    assert chat.path.read_bytes() == session
    assert len(chat.harness.agent.memory.steps) == steps and len(chat.turns) == 1

    chat.hooks.view = None  # the chat goes on, and the next turn is not cancelled
    assert chat.send("zoom out").success
    assert ws.gallery_json.read_bytes() != gallery
    assert len(chat.turns) == 2
