"""Weak models end cleanly: one precise correction per unusable answer, and a stop after a
few in a row.

An answer is unusable when it holds no code to run: smolagents could not parse it, its
code is not Python (a syntax error), or it had no code block and was empty or failed as
code (prose that happened to parse). The
step's error is replaced by one short correction that shows the expected form with the
run's own tool names (smolagents' default echoes the whole answer back, which only grows
the context of a model that is already lost). After :data:`MAX_UNUSABLE` unusable answers
in a row the agent is interrupted and the run ends with
``the model did not produce usable code (N tries)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smolagents.memory import ActionStep
from smolagents.monitoring import AgentLogger, LogLevel
from smolagents.utils import AgentParsingError

MAX_UNUSABLE = 3
_MARKERS = ("<code>", "```")


def correction(image_tool: str) -> str:
    """The one-paragraph correction sent after an unusable answer."""
    return ("Your answer had no code to run. Answer with one short 'Thought:' line, then "
            "Python code between <code> and </code>, like this:\n"
            "Thought: make the first image.\n<code>\n"
            f'img = {image_tool}(prompt="the Eiffel Tower, isolated on black")\n'
            "print(img)\n</code>\n"
            'When the goal is reached, call final_answer("...") inside the code.')


def unusable(step: ActionStep) -> bool:
    """Whether a step's answer held no code to run (a step with no answer, such as the
    step-limit marker, is not judged)."""
    if step.model_output is None:
        return False
    if isinstance(step.error, AgentParsingError) or "Code parsing failed" in str(step.error):
        return True
    raw = (step.model_output or "").removesuffix("</code>")
    if any(marker in raw for marker in _MARKERS):
        return False
    return step.error is not None or not (step.code_action or "").strip()


@dataclass
class OutputGuard:
    """A step callback that corrects unusable answers and stops a run of them."""

    image_tool: str
    limit: int = MAX_UNUSABLE
    in_a_row: int = 0
    tripped: bool = False

    def reset(self) -> None:
        """Start counting afresh (a new run or chat turn)."""
        self.in_a_row = 0
        self.tripped = False

    @property
    def ending(self) -> str:
        return f"the model did not produce usable code ({self.in_a_row} tries)"

    def __call__(self, step: Any, agent: Any = None) -> None:
        if not isinstance(step, ActionStep) or step.is_final_answer:
            if isinstance(step, ActionStep):
                self.in_a_row = 0
            return
        if not unusable(step):
            self.in_a_row = 0
            return
        self.in_a_row += 1
        logger = getattr(agent, "logger", None) or AgentLogger(level=LogLevel.OFF)
        step.error = AgentParsingError(correction(self.image_tool), logger)
        if self.in_a_row >= self.limit and agent is not None:
            self.tripped = True
            agent.interrupt()
