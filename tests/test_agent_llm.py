"""The LLM path with a scripted fake model: its code calls the discovered Space tools, meets
a Space error (stand-in fault injection), recovers, and finishes with a built site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from smolagents.memory import ActionStep
from smolagents.models import ChatMessage, MessageRole, Model
from smolagents.monitoring import TokenUsage

from spacesmith.agent.codeagent.harness import build_harness
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.standins import Faults, Standins, start_standins

SECRET = "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"

SCRIPT = [
    'img = image_standin_generate(prompt="a stone temple, isolated on black", seed=7)\n'
    "print(img)",
    'rec = splat_standin_generate(image=img.image, num_gaussians="32768")\n'
    'fixed = fix_splat(rec.splat, name="Temple")\n'
    "print(fixed)",
    'site = build_site({"title": "Temples", "items": [{"name": "Temple", "splat": fixed.path,\n'
    '                   "image": img.image, "camera": fixed.camera}]})\n'
    'final_answer(f"1 subject: Temple; site: {site.folder}; url: none")',
]


class ScriptedModel(Model):  # type: ignore[misc]
    """Plays SCRIPT; after an error it runs the failed block again (a model that retries)."""

    def __init__(self) -> None:
        super().__init__(model_id="scripted")
        self.position = 0
        self.seen_errors: list[str] = []

    def generate(self, messages: list[Any], stop_sequences: list[str] | None = None,  # type: ignore[override]
                 **kwargs: Any) -> ChatMessage:
        last = messages[-1]
        text = "".join(p.get("text", "") for p in last.content) if isinstance(
            last.content, list) else str(last.content)
        if self.position > 0 and "Error:" in text:
            self.seen_errors.append(text)
            self.position -= 1  # run the failed block again
        code = SCRIPT[self.position]
        self.position += 1
        return ChatMessage(role=MessageRole.ASSISTANT,
                           content=f"Thought: next.\n<code>\n{code}\n</code>",
                           token_usage=TokenUsage(input_tokens=100, output_tokens=20))


@pytest.fixture
def faulty_spaces() -> Iterator[Standins]:
    """Stand-ins whose first app call each fails with a gr.Error (then they behave)."""
    with start_standins(faults=Faults(rate=1.0, kinds=("error",), limit=1, seed=1)) as spaces:
        yield spaces


def test_scripted_llm_recovers_from_a_space_error(tmp_path: Path,
                                                  faulty_spaces: Standins) -> None:
    settings = Settings(goal="a temple gallery", output=tmp_path / "run", model="scripted",
                        image_space=faulty_spaces.image_url,
                        splat_space=faulty_spaces.splat_url, token=SECRET, max_steps=8,
                        call_attempts=1)  # the harness does not re-call: the model sees it
    model = ScriptedModel()
    harness = build_harness(settings, model=model, model_label="scripted")
    try:
        assert "image_standin_generate" in harness.agent.system_prompt
        assert "splat_standin_generate" in harness.agent.system_prompt
        outcome = harness.run("Build a one-temple gallery.")
        executor_state = repr(harness.agent.python_executor.state)
    finally:
        harness.close()
    assert outcome.success, outcome.output
    assert outcome.output.startswith("1 subject: Temple")
    errors = [s for s in harness.agent.memory.steps if isinstance(s, ActionStep) and s.error]
    assert errors, "the fault injection should have failed a call"
    assert model.seen_errors and "AppError" in model.seen_errors[0]
    assert SECRET not in executor_state
    ws = tmp_path / "run"
    assert (ws / "site" / "index.html").is_file()
    for name in ("report.md", "report.json", "journal.jsonl", "session.json"):
        if (ws / name).exists():
            assert SECRET not in (ws / name).read_text()
    report = json.loads((ws / "report.json").read_text())
    assert report["space_calls"]["failed"] >= 1 and report["space_calls"]["made"] == 2
    assert report["tokens"]["input"] == 100 * report_steps(report)


def report_steps(report: dict[str, Any]) -> int:
    return sum(1 for s in report["steps"] if s["type"] == "action")


class OneBlockModel(Model):  # type: ignore[misc]
    """Answers every step with the same code block."""

    def __init__(self, code: str) -> None:
        super().__init__(model_id="one-block")
        self.code = code

    def generate(self, messages: list[Any], stop_sequences: list[str] | None = None,  # type: ignore[override]
                 **kwargs: Any) -> ChatMessage:
        return ChatMessage(role=MessageRole.ASSISTANT,
                           content=f"Thought: answer.\n<code>\n{self.code}\n</code>",
                           token_usage=TokenUsage(input_tokens=10, output_tokens=5))


def test_giving_up_is_a_field_not_a_phrase(tmp_path: Path, agent_spaces: Standins) -> None:
    """A run the model gave up on is not a success, whatever its answer says and even though
    an earlier turn left a site; the next run judges itself afresh."""
    settings = Settings(goal="g", output=tmp_path / "run", model="scripted",
                        image_space=agent_spaces.image_url, splat_space=agent_spaces.splat_url,
                        max_steps=3)
    model = OneBlockModel(SCRIPT[0] + "\n" + SCRIPT[1].replace("print(fixed)", "") + "\n"
                          + SCRIPT[2])
    harness = build_harness(settings, model=model, model_label="scripted")
    try:
        assert harness.run("Build a one-temple gallery.").success
        model.code = 'give_up("the Space is down")\nfinal_answer("All done, 1 subject")'
        gave_up = harness.run("Now add a pyramid.", reset=False)
        model.code = 'final_answer("nothing to change")'
        fine = harness.run("Keep it as it is.", reset=False)
    finally:
        harness.close()
    assert not gave_up.success and gave_up.output == "All done, 1 subject"
    assert fine.success
