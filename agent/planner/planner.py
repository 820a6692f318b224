"""The offline planner: a smolagents ``Model`` that writes the standard pipeline, no LLM.

It reads the conversation like smolagents' own test fakes do: the latest ``New task:``
message says what is asked, the ``[phase: …]`` markers of its own earlier answers say how
far it got, and an ``Error:`` after the last answer means that phase failed. It then
writes the next Thought + code, which the very same CodeAgent, tools and executor run as
they would run an LLM's code. Goals are read by :mod:`spacesmith.agent.planner.intents`.
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
from spacesmith.agent.planner.intents import Feedback, Goal, parse_feedback, parse_goal

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


def read_turn(messages: Sequence[ChatMessage | dict[str, Any]]) -> Turn:
    """Find the latest task and the planner's progress on it.

    Args:
        messages: the messages smolagents hands to ``generate``.

    Returns:
        The task text, the phases already run, the last error and the retry count.
    """
    items = [(_role(m), _text(m)) for m in messages]
    start = 0
    for i, (role, text) in enumerate(items):
        if role == MessageRole.USER.value and text.startswith("New task:"):
            start = i
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
    return Turn(task, tuple(phases), errors[-1] if errors else None, retries)


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
        if turn.retries >= MAX_RETRIES or last in ("edit", "deploy", "give_up"):
            return _give_up(last, turn.last_error)
        return last, f"That failed ({_short(turn.last_error)}); running it again.", _code_for(
            turn, last
        )
    feedback = parse_feedback(turn.task)
    if feedback is not None:
        if last is None:
            return "edit", feedback.summary, edit_code(feedback)
        return _give_up("edit", "the edit finished without a final answer")
    goal = parse_goal(turn.task)
    order = (*PIPELINE, "deploy") if goal.deploy_space else PIPELINE
    if last is None:
        phase = order[0]
    elif last in order and order.index(last) + 1 < len(order):
        phase = order[order.index(last) + 1]
    else:
        return _give_up(last, "the pipeline ended without a final answer")
    return phase, _THOUGHTS[phase], pipeline_code(goal, phase)


def _code_for(turn: Turn, phase: str) -> str:
    return pipeline_code(parse_goal(turn.task), phase)


def _give_up(phase: str, error: str) -> tuple[str, str, str]:
    error = error.split(" due to: ", 1)[-1]
    message = f"Goal not reached: the {phase} step failed: {_short(error, 300)}"
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


_MATCH = """\
import unicodedata
def _key(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return " ".join(w for w in s.replace("-", " ").split() if w not in ("the", "le", "la", "l'"))
def find(name):
    for i, it in enumerate(gallery["items"]):
        if _key(it["name"]) == _key(name) or _key(name) in _key(it["name"]):
            return i
    names = [it["name"] for it in gallery["items"]]
    raise ValueError(f"no subject like {name!r} in the gallery; it has {names}")
"""


def _new_item_code(subject: str, var: str) -> str:
    prompt = render("image_prompt", subject=subject)
    return (
        f"prompt = {prompt!r}\n"
        "img = call_many(\"image\", [{\"prompt\": prompt}])[0]\n"
        "rec = call_many(\"splat\", [{\"image\": img.image}])[0]\n"
        f"fixed = fix_splat(rec.splat, name={subject!r})\n"
        f"{var} = {{\"name\": {subject!r}, \"splat\": fixed.path, \"image\": img.image, "
        "\"camera\": fixed.camera, \"zoom\": gallery[\"items\"][0].get(\"zoom\", 1.0)}\n"
    )


def edit_code(feedback: Feedback) -> str:
    """The code that applies one piece of taste feedback to the current gallery."""
    lines = ["gallery = read_gallery()"]
    if feedback.kind in ("remove", "replace", "reorder"):
        lines.append(_MATCH)
    if feedback.kind == "zoom":
        lines.append(
            "for it in gallery[\"items\"]:\n"
            f"    it[\"zoom\"] = round(it.get(\"zoom\", 1.0) * {feedback.factor}, 3)"
        )
    elif feedback.kind == "speed":
        lines.append(
            "v = gallery.setdefault(\"viewer\", {})\n"
            f"v[\"transition_s\"] = round(v.get(\"transition_s\", 1.2) * {feedback.factor}, 3)"
        )
    elif feedback.kind == "background":
        lines.append(f"gallery.setdefault(\"viewer\", {{}})[\"background\"] = {feedback.value!r}")
    elif feedback.kind == "title":
        lines.append(f"gallery[\"title\"] = {feedback.value!r}")
    elif feedback.kind == "remove":
        lines.append(f"gallery[\"items\"].pop(find({feedback.value!r}))")
    elif feedback.kind == "add":
        lines.append(_new_item_code(feedback.value, "item"))
        lines.append("gallery[\"items\"].append(item)")
    elif feedback.kind == "replace":
        lines.append(f"where = find({feedback.value!r})")
        lines.append(_new_item_code(feedback.other, "item"))
        lines.append("gallery[\"items\"][where] = item")
    elif feedback.kind == "reorder":
        names = list(feedback.names)
        lines.append(f"first = [find(n) for n in {names!r}]")
        lines.append(
            "rest = [i for i in range(len(gallery[\"items\"])) if i not in first]\n"
            + ("order = rest + first" if feedback.value == "last" else "order = first + rest")
        )
        lines.append("gallery[\"items\"] = [gallery[\"items\"][i] for i in order]")
    elif feedback.kind == "deploy":
        lines.append(f"url = deploy_site({feedback.value!r})")
        lines.append("final_answer(f\"Deployed: {url}\")")
        return "\n".join(lines)
    lines.append("site = build_site(gallery)")
    lines.append(
        f"final_answer({feedback.summary!r} + f\" Site: {{site.folder}}; subjects: "
        "{', '.join(it['name'] for it in gallery['items'])}\")"
    )
    return "\n".join(lines)
