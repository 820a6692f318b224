"""The offline planner: reading goals and feedback, and the code it writes per phase."""

from __future__ import annotations

import ast

import pytest
from smolagents.models import ChatMessage, MessageRole

from spacesmith.agent.planner.intents import THEMES, parse_feedback, parse_goal
from spacesmith.agent.planner.planner import (
    OfflinePlanner,
    edit_code,
    next_step,
    pipeline_code,
    read_turn,
)


def _msg(role: MessageRole, text: str) -> ChatMessage:
    return ChatMessage(role=role, content=[{"type": "text", "text": text}])


def test_goal_from_theme_table_defaults_to_six() -> None:
    goal = parse_goal("build a Paris monuments gallery")
    assert goal.subjects == THEMES["paris"][1][:6]
    assert goal.title == "Monuments de Paris"
    assert goal.deploy_space is None


def test_goal_count_explicit_list_and_deploy() -> None:
    assert len(parse_goal("a gallery of 2 Egypt monuments").subjects) == 2
    assert parse_goal("a gallery of the Colosseum, Big Ben and the Taj Mahal").subjects == (
        "Colosseum", "Big Ben", "Taj Mahal")
    goal = parse_goal("Paris gallery\nSubjects: Panthéon; Louvre\nDeploy it to me/paris.")
    assert goal.subjects == ("Panthéon", "Louvre")
    assert goal.deploy_space == "me/paris"


@pytest.mark.parametrize(("text", "kind", "check"), [
    ("zoom out", "zoom", lambda f: f.factor > 1),
    ("please zoom in a bit", "zoom", lambda f: f.factor < 1),
    ("faster transitions", "speed", lambda f: f.factor < 1),
    ("make it slower", "speed", lambda f: f.factor > 1),
    ("background navy", "background", lambda f: f.value == "#0b1a33"),
    ("use a #112233 background", "background", lambda f: f.value == "#112233"),
    ("replace the Panthéon with the Louvre", "replace",
     lambda f: (f.value, f.other) == ("Panthéon", "Louvre")),
    ("remove the Sacré-Cœur", "remove", lambda f: f.value == "Sacré-Cœur"),
    ("add the Madeleine Church", "add", lambda f: f.value == "Madeleine Church"),
    ("move the Louvre first", "reorder", lambda f: f.names == ("Louvre",) and f.value == "first"),
    ("reorder: Louvre, Panthéon", "reorder", lambda f: f.names == ("Louvre", "Panthéon")),
    ('rename the gallery to "Paris en 3D"', "title", lambda f: f.value == "Paris en 3D"),
    ("deploy to me/paris-3d", "deploy", lambda f: f.value == "me/paris-3d"),
])
def test_feedback_kinds(text: str, kind: str, check: object) -> None:
    feedback = parse_feedback(text)
    assert feedback is not None and feedback.kind == kind
    assert check(feedback)  # type: ignore[operator]


def test_a_new_goal_is_not_feedback() -> None:
    assert parse_feedback("build a Japan monuments gallery") is None


def test_every_phase_and_edit_is_valid_python() -> None:
    goal = parse_goal("Paris\nSubjects: Panthéon; Louvre\nDeploy it to me/x")
    for phase in ("images", "splats", "fix", "site", "deploy"):
        ast.parse(pipeline_code(goal, phase))
    for text in ("zoom out", "faster", "background black", "replace the A with the B",
                 "remove the A", "add B", "move A last", "reorder A, B", "retitle X",
                 "deploy to a/b"):
        feedback = parse_feedback(text)
        assert feedback is not None, text
        ast.parse(edit_code(feedback))


def test_read_turn_finds_the_latest_task_phases_and_error() -> None:
    messages = [
        _msg(MessageRole.SYSTEM, "system"),
        _msg(MessageRole.USER, "New task:\nbuild a Paris monuments gallery"),
        _msg(MessageRole.ASSISTANT, "Thought: [phase: images] go"),
        _msg(MessageRole.TOOL_RESPONSE, "Observation:\nok"),
        _msg(MessageRole.ASSISTANT, "Thought: [phase: splats] go"),
        _msg(MessageRole.TOOL_RESPONSE, "Call id: call_2\nError:\nAppError: boom\nNow let's retry"),
    ]
    turn = read_turn(messages)
    assert turn.task == "build a Paris monuments gallery"
    assert turn.phases == ("images", "splats")
    assert turn.last_error == "AppError: boom"
    phase, _, code = next_step(turn)
    assert phase == "splats" and "res = chain(prompts)" in code
    messages.append(_msg(MessageRole.USER, "New task:\nzoom out"))
    turn = read_turn(messages)
    assert turn.task == "zoom out" and turn.phases == () and turn.last_error is None
    phase, _, code = next_step(turn)
    assert phase == "edit" and "call_many" not in code and "build_site(gallery)" in code


def test_planner_gives_up_after_retries() -> None:
    messages = [_msg(MessageRole.USER, "New task:\nbuild a Paris gallery")]
    for _ in range(3):
        messages += [_msg(MessageRole.ASSISTANT, "Thought: [phase: images] go"),
                     _msg(MessageRole.TOOL_RESPONSE, "Error:\nSpaceTimeoutError: slow")]
    phase, _, code = next_step(read_turn(messages))
    assert phase == "give_up" and code.startswith("give_up('Goal not reached")
    assert "final_answer('Goal not reached" in code


def test_generate_returns_code_and_token_counts() -> None:
    planner = OfflinePlanner()
    reply = planner.generate([_msg(MessageRole.USER, "New task:\nbuild a Rome gallery")])
    assert reply.role == MessageRole.ASSISTANT
    assert "<code>" in reply.content and "[phase: splats]" in reply.content
    assert "res = chain(prompts)" in reply.content  # images go on to the splat Space at once
    assert reply.token_usage is not None and reply.token_usage.output_tokens > 0
