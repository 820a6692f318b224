"""The run report: ``report.md`` for people and ``report.json`` for tools, in the workspace.

It holds the goal, each step's code and result, every Space call (cached or not, time,
retries), tokens, the artifacts and the final Space URL. The token is never in it: the
text is scrubbed of it before writing, in case a Space echoed it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smolagents.memory import ActionStep, TaskStep

from spacesmith.agent.runs.workspace import Workspace, atomic_write
from spacesmith.tools.redact import plain, register

MAX_TEXT = 2000
MAX_MODEL_TEXT = 8000


@dataclass(frozen=True)
class RunOutcome:
    """How one run (one goal, or one chat turn) ended."""

    output: str
    state: str
    success: bool
    steps: int
    elapsed_s: float
    site_dir: Path | None
    url: str | None


@dataclass(frozen=True)
class RunRecord:
    """What a report is made of: the goal, how it ended, the agent's steps and Space calls."""

    task: str
    outcome: RunOutcome
    steps: list[Any]
    calls: list[dict[str, Any]]
    workspace: Workspace
    model_label: str
    system_prompt_chars: int
    first_step: int = 0
    isolation: dict[str, Any] | None = None


def _clip(text: str | None, limit: int = MAX_TEXT) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more chars)"


def _raw(output: str | None) -> str | None:
    """What the model wrote: smolagents appends a closing ``</code>`` to every answer."""
    if output and "<code>" not in output:
        return output.removesuffix("</code>")
    return output


def step_records(steps: list[Any]) -> list[dict[str, Any]]:
    """Plain records of the agent's memory steps (tasks and actions)."""
    records: list[dict[str, Any]] = []
    for step in steps:
        if isinstance(step, TaskStep):
            records.append({"type": "task", "task": step.task})
        elif isinstance(step, ActionStep):
            usage = step.token_usage
            records.append({
                "type": "action",
                "step": step.step_number,
                "code": step.code_action or "",
                "model_output": _clip(_raw(step.model_output), MAX_MODEL_TEXT),
                "observations": _clip(step.observations),
                "error": str(step.error) if step.error is not None else None,
                "duration_s": round(step.timing.duration or 0.0, 3),
                "input_tokens": usage.input_tokens if usage else 0,
                "output_tokens": usage.output_tokens if usage else 0,
                "final": step.is_final_answer,
            })
    return records


def build_report(record: RunRecord) -> dict[str, Any]:
    """The report's data (what ``report.json`` holds)."""
    steps = step_records(record.steps)
    calls = [e for e in record.calls if e.get("kind") == "call"]
    ws = record.workspace
    outcome = record.outcome
    artifacts = sorted(ws.relative(p) for p in ws.web_dir.glob("*") if p.is_file())
    if ws.gallery_json.is_file():
        artifacts.append("gallery.json")
    return {
        "goal": record.task,
        "model": record.model_label,
        "state": outcome.state,
        "success": outcome.success,
        "final_answer": outcome.output,
        "ending": ending(outcome),
        "elapsed_s": round(outcome.elapsed_s, 3),
        "site": str(outcome.site_dir) if outcome.site_dir else None,
        "url": outcome.url,
        "tokens": {
            "input": sum(s.get("input_tokens", 0) for s in steps),
            "output": sum(s.get("output_tokens", 0) for s in steps),
        },
        "space_calls": {
            "made": sum(1 for c in calls if not c["cached"] and "error" not in c),
            "cached": sum(1 for c in calls if c["cached"]),
            "failed": sum(1 for c in calls if "error" in c),
            "calls": calls,
        },
        "system_prompt_chars": record.system_prompt_chars,
        "agent_code": record.isolation or {},
        "artifacts": artifacts,
        "steps": steps,
    }


def ending(outcome: RunOutcome) -> str:
    """How the run ended, in words: the goal reached, a final answer short of it, or why it
    stopped (``stopped: step limit 20 reached``, a model error, Ctrl-C, unusable output)."""
    if outcome.output.startswith("stopped:"):
        return outcome.output
    if outcome.success:
        return "goal reached"
    return "final answer, goal NOT reached"


def agent_code_line(isolation: dict[str, Any]) -> str:
    """Where agent code ran and what confined it, in one line."""
    if not isolation.get("process"):
        return str(isolation.get("confinement") or "unknown")
    stopped = isolation.get("stopped") or []
    line = f"own process, OS confinement: {isolation.get('confinement')}"
    if stopped:
        line += f"; stopped {len(stopped)} time(s): " + "; ".join(str(s) for s in stopped[:5])
    return line


def render_markdown(data: dict[str, Any]) -> str:
    """The report as Markdown."""
    out = ["# spacesmith run report\n", f"**Goal:** {data['goal']}\n",
           f"- model: {data['model']}", f"- ended: {data.get('ending', '')}",
           f"- state: {data['state']} "
           f"({'goal reached' if data['success'] else 'goal NOT reached'})",
           f"- time: {data['elapsed_s']:.1f} s", f"- site: {data['site']}",
           f"- Space URL: {data['url'] or 'not deployed'}",
           f"- tokens: {data['tokens']['input']} in, {data['tokens']['output']} out",
           f"- Space calls: {data['space_calls']['made']} made, "
           f"{data['space_calls']['cached']} from cache, {data['space_calls']['failed']} failed",
           f"- agent code: {agent_code_line(data.get('agent_code') or {})}",
           f"\n**Final answer:** {data['final_answer']}\n", "## Space calls\n",
           "| tool | cached | time (s) | attempts | error |", "|---|---|---|---|---|"]
    for c in data["space_calls"]["calls"]:
        out.append(f"| {c['tool']} | {'yes' if c['cached'] else 'no'} | {c['elapsed_s']} | "
                   f"{c['attempts'] if c['attempts'] is not None else '-'} | "
                   f"{_clip(c.get('error', ''), 120).replace('|', '/')} |")
    out.append("\n## Steps\n")
    for s in data["steps"]:
        if s["type"] == "task":
            out.append(f"### Task\n\n{s['task']}\n")
            continue
        out.append(f"### Step {s['step']} ({s['duration_s']} s)\n")
        if s.get("model_output") and not s["code"]:
            out.append(f"The model wrote (no code found):\n\n```text\n{s['model_output']}\n```\n")
        out.append(f"```python\n{s['code']}\n```\n")
        if s["observations"]:
            out.append(f"```text\n{s['observations']}\n```\n")
        if s["error"]:
            out.append(f"**Error:** {_clip(s['error'], 600)}\n")
    out.append("## Artifacts\n")
    out.extend(f"- {a}" for a in data["artifacts"])
    return "\n".join(out) + "\n"


def write_report(record: RunRecord, *, token: str | None) -> None:
    """Write ``report.md`` and ``report.json`` in the workspace, atomically, token-free."""
    data = build_report(record)
    data["turn_first_step"] = record.first_step
    texts = {"report.json": json.dumps(data, indent=2, ensure_ascii=False, default=str),
             "report.md": render_markdown(data)}
    register(token)
    for name, text in texts.items():
        text = plain(text)
        atomic_write(record.workspace.root / name, text.encode("utf-8"))
