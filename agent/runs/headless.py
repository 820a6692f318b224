"""Goal-file runs: ``spacesmith run GOAL.toml [--json]``, no prompt, exit codes for scripts.

The goal file (TOML)::

    goal = "build a Paris monuments gallery"     # required, a non-empty string
    subjects = ["Panthéon", "Arc de Triomphe"]   # optional, non-empty strings
    model = "offline"                            # optional: "offline", a model id, "litellm/<id>"
    api_base = "http://localhost:11434/v1"       # optional, an OpenAI-compatible server
    output = "runs/paris"                        # optional; relative to the goal file
    offline = false                              # optional: true starts the local stand-ins
    [spaces]                                     # optional; Hub id, agents.md URL or base URL
    image = "ideogram-ai/ideogram4"
    splat = ["VAST-AI/TripoSplat", "other/splat-space"]   # a string, or several sharing the jobs
    [deploy]                                     # optional
    space = "user/monuments-de-paris"
    [limits]                                     # optional, positive numbers
    max_steps = 20
    max_space_calls = 40
    call_timeout = 900        # seconds, one Space call (a hung Space costs this, no more)
    call_attempts = 3         # tries of a call that failed in a way worth repeating
    retry_backoff_s = 1.0     # first wait before a busy Space or model server is retried
    model_timeout = 120       # seconds, one model request (a hung model server costs this)
    max_tokens = 2048         # the most tokens the model writes in one step
    context_window = 8192     # the model's window; default: what the server says, else 8192
    code_cpu_s = 60           # CPU seconds one step of agent code may use
    code_wall_s = 120         # seconds one step may take (waits on Spaces, npm not counted)
    code_memory_mb = 2048     # address space of the process that runs agent code
    code_output_chars = 50000 # printed output kept per step
    stall_after_s = 120       # a call with no progress for max(this, stall_factor x its
    stall_factor = 3.0        #   expected time) is given up and its Space set aside

Unknown keys are errors (a typo must not be ignored silently). Exit codes: 0 the goal was
reached, 1 it was not (or the model server failed), 2 the goal file is bad (the message names
the key), 130 interrupted. Every ending after the agent started writes the report; with
``--json`` stdout holds exactly one JSON document on every outcome.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spacesmith.agent.runs.settings import Settings, default_output
from spacesmith.tools.errors import GoalFileError
from spacesmith.tools.redact import plain

TOP_KEYS = {"goal", "subjects", "model", "api_base", "output", "offline", "spaces", "deploy",
            "limits", "num_gaussians"}
TABLES = {"spaces": {"image", "splat"}, "deploy": {"space"},
          "limits": {"max_steps", "max_space_calls", "call_timeout", "call_attempts",
                     "retry_backoff_s", "model_timeout", "max_tokens", "context_window",
                     "code_cpu_s", "code_wall_s", "code_memory_mb", "code_output_chars",
                     "stall_after_s", "stall_factor"}}


def _load_toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError as exc:
            raise GoalFileError("reading goal files on Python 3.10 needs the tomli package",
                                hint="pip install tomli, or use Python 3.11+") from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GoalFileError(f"the goal file is not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise GoalFileError("the goal file nests arrays or tables too deeply") from exc
    return data


def _string(data: Mapping[str, Any], key: str, where: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise GoalFileError(f"key '{where}{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def _spaces(data: Mapping[str, Any], role: str) -> tuple[str, ...]:
    """``[spaces] image``: a string, or a list of them (several Spaces share the role)."""
    value = data.get(role)
    if value is None or isinstance(value, str):
        one = _string(data, role, "spaces.")
        return (one,) if one else ()
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v.strip() for v in value)):
        raise GoalFileError(f"key 'spaces.{role}' must be a Space or a list of Spaces "
                            f"(non-empty strings), got {value!r}")
    names = [v.strip() for v in value]
    if len(set(names)) != len(names):
        raise GoalFileError(f"key 'spaces.{role}' names a Space twice: {names}")
    return tuple(names)


def _positive(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise GoalFileError(f"key 'limits.{key}' must be a positive integer, got {value!r}")
    return value


def _seconds(data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not 0 < value < float("inf")):
        raise GoalFileError(f"key 'limits.{key}' must be a positive number of seconds, "
                            f"got {value!r}")
    return float(value)


def parse_goal_file(path: Path) -> Settings:
    """Read and check a goal file.

    Args:
        path: the TOML file.

    Returns:
        The settings it describes (no token; the environment adds it later).

    Raises:
        GoalFileError: unreadable, not TOML, an unknown key, a missing or wrong value; the
            message names the key.
    """
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise GoalFileError(f"cannot read goal file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise GoalFileError(f"goal file {path} is not UTF-8 text (byte {exc.start})") from exc
    data = _load_toml(text)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise GoalFileError(f"unknown key '{unknown[0]}' in {path.name}; known: "
                            f"{', '.join(sorted(TOP_KEYS))}")
    tables: dict[str, Mapping[str, Any]] = {}
    for name, allowed in TABLES.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise GoalFileError(f"key '{name}' must be a table ([{name}])")
        extra = sorted(set(table) - allowed)
        if extra:
            raise GoalFileError(f"unknown key '{name}.{extra[0]}'; "
                                f"known: {', '.join(sorted(allowed))}")
        tables[name] = table
    goal = _string(data, "goal")
    if goal is None:
        raise GoalFileError("key 'goal' is missing: say what gallery to build")
    subjects = data.get("subjects", [])
    if not isinstance(subjects, list) or not all(isinstance(s, str) and s.strip()
                                                 for s in subjects):
        raise GoalFileError("key 'subjects' must be a list of non-empty strings")
    offline = data.get("offline", False)
    if not isinstance(offline, bool):
        raise GoalFileError(f"key 'offline' must be true or false, got {offline!r}")
    output = _string(data, "output")
    out_path = Path(output) if output else default_output(goal)
    if not out_path.is_absolute():
        out_path = path.resolve().parent / out_path
    limits = tables["limits"]
    images, splats = _spaces(tables["spaces"], "image"), _spaces(tables["spaces"], "splat")
    settings = Settings(
        goal=goal,
        output=out_path,
        model=_string(data, "model"),
        api_base=_string(data, "api_base"),
        subjects=tuple(s.strip() for s in subjects),
        image_space=images[0] if images else None,
        more_image_spaces=images[1:],
        splat_space=splats[0] if splats else None,
        more_splat_spaces=splats[1:],
        deploy_space=_string(tables["deploy"], "space", "deploy."),
        offline=offline,
        max_steps=_positive(limits, "max_steps", Settings.max_steps),
        max_space_calls=_positive(limits, "max_space_calls", Settings.max_space_calls),
        call_timeout=_seconds(limits, "call_timeout", Settings.call_timeout),
        call_attempts=_positive(limits, "call_attempts", Settings.call_attempts),
        retry_backoff_s=_seconds(limits, "retry_backoff_s", Settings.retry_backoff_s),
        model_timeout=_seconds(limits, "model_timeout", Settings.model_timeout),
        max_tokens=_positive(limits, "max_tokens", Settings.max_tokens),
        context_window=(_positive(limits, "context_window", 1)
                        if "context_window" in limits else None),
        code_cpu_s=_seconds(limits, "code_cpu_s", Settings.code_cpu_s),
        code_wall_s=_seconds(limits, "code_wall_s", Settings.code_wall_s),
        code_memory_mb=_positive(limits, "code_memory_mb", Settings.code_memory_mb),
        code_output_chars=_positive(limits, "code_output_chars", Settings.code_output_chars),
        stall_after_s=_seconds(limits, "stall_after_s", Settings.stall_after_s),
        stall_factor=_seconds(limits, "stall_factor", Settings.stall_factor),
    )
    gaussians = data.get("num_gaussians")
    if gaussians is not None:
        if not isinstance(gaussians, (str, int)) or isinstance(gaussians, bool):
            raise GoalFileError(f"key 'num_gaussians' must be a number, got {gaussians!r}")
        settings = settings.with_(num_gaussians=str(gaussians))
    return settings


def run_goal_file(path: Path, *, as_json: bool = False, offline: bool = False,
                  echo: Callable[[str], None] = print,
                  progress: Callable[[Any], None] | None = None) -> int:
    """Run a goal file to the end and print the report path (or a JSON summary).

    Every outcome is one summary (with ``--json``, exactly one JSON document on stdout):
    the goal reached or not, a bad goal file, a model server that failed, Ctrl-C. Errors
    are also said once on stderr, as one line.

    Args:
        path: the goal file.
        as_json: print a JSON summary instead of text lines.
        offline: force the local stand-in Spaces.
        echo: where lines go (stdout).
        progress: told each Space call's state (the CLI prints plain lines to stderr).

    Returns:
        0 when the goal was reached, 1 when not, 2 for a bad goal file, 130 on Ctrl-C.

    Raises:
        GoalFileError: the goal file is bad (text mode; exit code 2 through the CLI).
        SpacesmithError: the run could not start or the model failed (text mode).
    """
    from spacesmith.agent.runs.report import agent_code_line
    from spacesmith.agent.runs.runner import open_harness, spaces_for
    from spacesmith.tools.errors import SpacesmithError

    summary: dict[str, Any] = {"success": False, "state": "not_started", "final_answer": None,
                               "report": None, "report_json": None, "site": None, "url": None,
                               "model": None, "spaces": None, "elapsed_s": 0.0, "error": None,
                               "agent_code": None, "exit_code": None}
    try:
        settings = parse_goal_file(path)
        if offline:
            settings = settings.with_(offline=True)
        with spaces_for(settings) as (resolved, spaces_line):
            summary["spaces"] = spaces_line
            harness = open_harness(resolved, on_text=_terminal_sink(), progress=progress)
            summary["model"] = harness.model_label
            report = resolved.output.resolve() / "report.md"
            try:
                outcome = harness.run(harness.task_for(resolved.goal))
            finally:
                summary["agent_code"] = harness.isolation()
                harness.close()
                if report.is_file():
                    summary.update(report=str(report), report_json=str(report.with_suffix(
                        ".json")))
                    summary.update(_ending(report.with_suffix(".json")))
    except (SpacesmithError, KeyboardInterrupt) as exc:
        if not as_json:
            if summary["report"]:
                echo(f"goal NOT reached: {summary['final_answer']}")
                echo(f"report: {summary['report']}")
            raise
        code = exc.exit_code if isinstance(exc, SpacesmithError) else 130
        if summary["state"] == "not_started":
            summary["state"] = "bad_input" if code == 2 else (
                "interrupted" if code == 130 else "error")
        summary["error"] = str(exc) if isinstance(exc, SpacesmithError) else "interrupted"
        summary["exit_code"] = code
        print(f"Error: {summary['error']}", file=sys.stderr)
        echo(json.dumps(summary, ensure_ascii=False))
        return code
    except Exception as exc:  # a bug: --json still owes its one document
        if not as_json or os.environ.get("SPACESMITH_DEBUG"):
            raise
        summary.update(state="error", error=f"internal error: {type(exc).__name__}: {exc}",
                       exit_code=1)
        print(f"Error: {summary['error']} (rerun with SPACESMITH_DEBUG=1 for the traceback)",
              file=sys.stderr)
        echo(json.dumps(summary, ensure_ascii=False))
        return 1
    summary.update({
        "success": outcome.success, "state": outcome.state, "final_answer": outcome.output,
        "site": str(outcome.site_dir) if outcome.site_dir else None, "url": outcome.url,
        "elapsed_s": round(outcome.elapsed_s, 2),
        "error": None if outcome.success else outcome.output,
        "exit_code": 0 if outcome.success else 1})
    if not outcome.success:
        print("Error: " + plain(" ".join(str(outcome.output).split())), file=sys.stderr)
    if as_json:
        echo(json.dumps(summary, ensure_ascii=False))
    else:
        echo(f"{'goal reached' if outcome.success else 'goal NOT reached'}: {outcome.output}")
        echo(f"model: {summary['model']}; {summary['spaces']}")
        echo(f"agent code: {agent_code_line(summary['agent_code'])}")
        echo(f"report: {summary['report']}")
    return 0 if outcome.success else 1


def _terminal_sink() -> Callable[[str], None] | None:
    """The model's answer streams to stderr when it is a terminal (progress for a person);
    a script reading the output gets only the summary and one line per error."""
    if not sys.stderr.isatty():
        return None

    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    return write


def _ending(report_json: Path) -> dict[str, Any]:
    """How a run that raised ended, from the report it wrote (state, final answer, time)."""
    try:
        data = json.loads(report_json.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {"state": data.get("state"), "final_answer": data.get("final_answer"),
            "elapsed_s": data.get("elapsed_s", 0.0)}
