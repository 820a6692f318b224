"""The offline planner: a smolagents ``Model`` that writes the standard pipeline, no LLM.

It reads the conversation like smolagents' own test fakes do: the latest ``New task:``
message says what is asked, the ``[phase: …]`` markers of its own earlier answers say how
far it got, and an ``Error:`` after the last answer means that phase failed. It then
writes the next Thought + code, which the very same CodeAgent, tools and executor run as
they would run an LLM's code. Goals and messages are read by
:mod:`spacesmith.agent.planner.intents`; edits become code in
:mod:`spacesmith.agent.planner.edit_code`.

Turn semantics: a message that is not understood, or a goal that names no subjects, ends
at once with ``give_up`` and a one-line answer saying what is missing and what it can do:
no Space call, nothing written. In a chat (the task carries a ``Current gallery:`` line)
a new gallery is built only when the message asks for one in so many words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smolagents.models import ChatMessage, MessageRole, Model
from smolagents.monitoring import TokenUsage

from spacesmith.agent.codeagent.prompting import render
from spacesmith.agent.planner.edit_code import edit_code
from spacesmith.agent.planner.intents import (
    Goal,
    asks_for_new_gallery,
    gallery_context,
    is_undo,
    message_of,
    parse_goal,
    read_edits,
)
from spacesmith.agent.planner.vocabulary import (
    THEMES,
    fold,
    solid_candidates,
    theme_for_gallery,
    theme_of,
)

__all__ = ["OfflinePlanner", "Turn", "edit_code", "next_step", "pipeline_code", "read_turn"]

MAX_RETRIES = 2
PIPELINE = ("splats", "fix", "site")
_PHASE = re.compile(r"\[phase: ([a-z_]+)\]")


@dataclass(frozen=True)
class Turn:
    """What the conversation says about the current task."""

    task: str
    phases: tuple[str, ...]
    last_error: str | None
    retries: int
    earlier: tuple[str, ...] = ()


def read_turn(messages: Sequence[ChatMessage | dict[str, Any]]) -> Turn:
    """Find the latest task and the planner's progress on it.

    Args:
        messages: the messages smolagents hands to ``generate``.

    Returns:
        The task text, the phases already run, the last error and the retry count.
    """
    items = [(_role(m), _text(m)) for m in messages]
    start = 0
    tasks: list[str] = []
    for i, (role, text) in enumerate(items):
        if role == MessageRole.USER.value and text.startswith("New task:"):
            start = i
            tasks.append(message_of(text.removeprefix("New task:")))
    task = items[start][1].removeprefix("New task:").strip() if items else ""
    phases: list[str] = []
    errors: list[str | None] = []
    for role, text in items[start + 1 :]:
        if role == MessageRole.ASSISTANT.value:
            found = _PHASE.search(text)
            phases.append(found.group(1) if found else "?")
            errors.append(None)
        elif role == MessageRole.TOOL_RESPONSE.value and "Error:\n" in text and errors:
            errors[-1] = text.split("Error:\n", 1)[1].split("\nNow let's retry", 1)[0].strip()
    retries = 0
    for phase in reversed(phases[:-1]):
        if phases and phase == phases[-1]:
            retries += 1
        else:
            break
    return Turn(task, tuple(phases), errors[-1] if errors else None, retries,
                tuple(tasks[:-1]))


def _role(message: ChatMessage | dict[str, Any]) -> str:
    role = message.role if isinstance(message, ChatMessage) else message.get("role")
    return role.value if isinstance(role, MessageRole) else str(role)


def _text(message: ChatMessage | dict[str, Any]) -> str:
    content = message.content if isinstance(message, ChatMessage) else message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


class OfflinePlanner(Model):  # type: ignore[misc]
    """Writes the gallery pipeline and common taste edits as CodeAgent code.

    Args:
        num_gaussians: kept for the record; the harness sets the splat size per role.
    """

    def __init__(self, *, num_gaussians: str = "32768") -> None:
        super().__init__(model_id="spacesmith/offline-planner")
        self.num_gaussians = num_gaussians

    def generate(
        self,
        messages: list[ChatMessage | dict[str, Any]],  # type: ignore[override]
        stop_sequences: list[str] | None = None,
        response_format: dict[str, str] | None = None,
        tools_to_call_from: list[Any] | None = None,
        **kwargs: Any,
    ) -> ChatMessage:
        """Write the next step for the conversation in ``messages``.

        Returns:
            An assistant message: ``Thought: [phase: …] …`` and a ``<code>`` block.
        """
        turn = read_turn(messages)
        phase, thought, code = next_step(turn)
        content = f"Thought: [phase: {phase}] {thought}\n<code>\n{code}\n</code>"
        prompt_chars = sum(len(_text(m)) for m in messages)
        usage = TokenUsage(input_tokens=prompt_chars // 4, output_tokens=len(content) // 4)
        return ChatMessage(role=MessageRole.ASSISTANT, content=content, token_usage=usage)


def next_step(turn: Turn) -> tuple[str, str, str]:
    """The next (phase, thought, code) for a turn.

    Args:
        turn: the task and the progress so far.

    Returns:
        The phase name, a one-line thought and the Python code to run.
    """
    last = turn.phases[-1] if turn.phases else None
    if turn.last_error is not None and last is not None:
        if turn.retries >= MAX_RETRIES or last in ("edit", "deploy", "give_up", "answer"):
            return _give_up(last, turn.last_error)
        return last, f"That failed ({_short(turn.last_error)}); running it again.", _code_for(
            turn, last
        )
    if last in ("edit", "answer"):
        return _give_up(last, "the edit finished without a final answer")
    if last is None:
        decided = decide(turn)
        if isinstance(decided, str):
            return "answer", "I cannot do this as asked; saying so, changing nothing.", (
                f"give_up({decided!r})\nfinal_answer({decided!r})")
        if decided is not None:
            return decided
    goal = parse_goal(turn.task)
    if goal.missing:
        return _give_up("plan", goal.missing)
    order = (*PIPELINE, "deploy") if goal.deploy_space else PIPELINE
    if last is None:
        phase = order[0]
    elif last in order and order.index(last) + 1 < len(order):
        phase = order[order.index(last) + 1]
    else:
        return _give_up(last, "the pipeline ended without a final answer")
    return phase, _THOUGHTS[phase], pipeline_code(goal, phase)


CAN_DO = ("I can: zoom in/out (everything or one item; a bit, a lot), make the transitions or "
          "the spin faster/slower, set the background (navy, darker, #112233), rename the "
          "gallery (call it …), add/remove/replace/move items, undo, deploy to OWNER/NAME, or "
          "start a new gallery ('build a Rome gallery')")


def decide(turn: Turn) -> tuple[str, str, str] | str | None:
    """The first step of a turn: edit code, a one-line answer that changes nothing (str),
    or None for the gallery pipeline."""
    text = message_of(turn.task)
    context = gallery_context(turn.task)
    has_gallery = isinstance(context, dict)
    short = text if len(text) <= 80 else text[:79] + "…"
    if is_undo(text):
        return "Nothing changed: to undo the last change, type /undo (or 'undo that') in a chat."
    reading = read_edits(text)
    if asks_for_new_gallery(text) or re.search(r"^Subjects:", turn.task, re.MULTILINE):
        goal = parse_goal(turn.task)
        if not goal.missing or not (has_gallery and reading.understood):
            return f"Nothing changed: {goal.missing}" if goal.missing and has_gallery else None
    if reading.understood:
        if context is None:
            return ("Nothing changed: there is no gallery yet; start one, e.g. 'build a Paris "
                    "monuments gallery'.")
        summary = " ".join(e.summary for e in reading.edits)
        return "edit", summary, edit_code(reading.edits, _candidates(turn, context))
    if reading.unknown and reading.edits:
        parts = "; ".join(repr(u) for u in reading.unknown)
        return f"Not understood: {parts}; nothing changed (the rest was understood). {CAN_DO}."
    if reading.declined and not reading.unknown:
        return "Nothing changed, as asked."
    if not reading.edits and not reading.unknown:
        return "Nothing changed: there was nothing to do in that message."
    if re.match(r"^(?:deploy|publish)(?: it| the site)?\W*$", text, re.I):
        return "Nothing changed: deploy where? Say 'deploy to OWNER/NAME' (or /deploy OWNER/NAME)."
    if not has_gallery:
        goal = parse_goal(turn.task)
        if goal.missing and context is None:
            return f"Nothing changed: {goal.missing}"
        return None  # the pipeline, or a one-shot goal that gives up naming what is missing
    theme = theme_of(text)
    if theme is not None:
        return (f"Not understood: {short!r}; nothing changed. For a new gallery say 'build a "
                f"{theme.capitalize()} gallery'. {CAN_DO}.")
    return f"Not understood: {short!r}; nothing changed. {CAN_DO}."


def _candidates(turn: Turn, context: dict[str, Any] | bool | None) -> list[str]:
    """Subjects that splat well, for "something better": the gallery's theme, minus the
    subjects this conversation already mentioned (a person who removed one meant it)."""
    theme = None
    if isinstance(context, dict):
        names = [str(n) for n in context.get("items", [])]
        theme = theme_for_gallery(str(context.get("title", "")), names)
    for task in reversed(turn.earlier):
        theme = theme or theme_of(task)
    if theme is None or theme not in THEMES:
        return []
    said = " ".join(fold(t) for t in (*turn.earlier, message_of(turn.task)))
    out = []
    for subject in solid_candidates(theme):
        words = [w for w in re.findall(r"[a-z]+", fold(subject)) if len(w) > 3]
        if words and re.search(rf"\b{words[0]}", said):
            continue
        out.append(subject)
    return out


def _code_for(turn: Turn, phase: str) -> str:
    return pipeline_code(parse_goal(turn.task), phase)


def _give_up(phase: str, error: str) -> tuple[str, str, str]:
    error = error.split(" due to: ", 1)[-1]
    if "Nothing changed:" in error:
        message = error[error.index("Nothing changed:"):]
    elif phase in ("edit", "answer"):
        message = f"Nothing changed: the edit failed: {error}"
    elif phase == "plan":
        message = error[0].upper() + error[1:]  # what is missing, said once by the CLI
    else:
        message = f"Goal not reached: the {phase} step failed: {error}"
    message = _short(message, 400)
    return ("give_up", "I cannot recover from this error.",
            f"give_up({message!r})\nfinal_answer({message!r})")


def _short(text: str, limit: int = 120) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


_THOUGHTS = {
    "splats": "Make each subject's picture, isolated on black, and its splat, pipelined: each "
              "picture goes on to the splat Space as soon as it is ready.",
    "fix": "Turn each Y-down splat upright, prune, frame and compress it for the web.",
    "site": "Build the gallery site and report.",
    "deploy": "Deploy the site to the requested Space.",
}


def pipeline_code(goal: Goal, phase: str) -> str:
    """The code of one pipeline phase for ``goal``."""
    if phase in ("splats", "images"):  # "images": the phase of sessions saved before chains
        prompts = [{"prompt": render("image_prompt", subject=s)} for s in goal.subjects]
        return (
            f"subjects = {list(goal.subjects)!r}\n"
            f"prompts = {_py(prompts)}\n"
            "res = chain(prompts)\n"
            "for name, r in zip(subjects, res):\n"
            "    print(name, r)"
        )
    if phase == "fix":
        return (
            "web = [fix_splat(r.splat, name=name) for name, r in zip(subjects, res)]\n"
            "for w in web:\n"
            "    print(w)"
        )
    if phase == "site":
        final = (
            "final_answer(f\"{len(subjects)} subjects: {', '.join(subjects)}; "
            "site: {site.folder}; url: none\")"
        )
        return (
            "gallery = {\n"
            f"    \"title\": {goal.title!r},\n"
            "    \"viewer\": {\"background\": \"#000000\", \"transition_s\": 1.2},\n"
            "    \"items\": [{\"name\": n, \"splat\": w.path, \"image\": r.image, "
            "\"camera\": w.camera, \"zoom\": 1.0}\n"
            "              for n, w, r in zip(subjects, web, res)],\n"
            "}\n"
            "site = build_site(gallery)\n"
            + ("print(site)" if goal.deploy_space else final)
        )
    if phase == "deploy":
        return (
            f"url = deploy_site({goal.deploy_space!r})\n"
            "final_answer(f\"{len(subjects)} subjects: {', '.join(subjects)}; "
            "site: {site.folder}; url: {url}\")"
        )
    raise ValueError(f"unknown phase {phase}")


def _py(value: Any) -> str:
    """A Python literal for JSON-like data (json.dumps with ASCII off is valid Python here)."""
    return json.dumps(value, ensure_ascii=False)
