"""Agent code runs in a child process; the run (the parent) keeps the token, clients and files.

:class:`ProcessExecutor` is the smolagents executor of every CodeAgent we build. It starts
:mod:`spacesmith.agent.executor.child` with a scrubbed environment (no token, no keys, no
proxy settings, no ``HOME``), ``-I`` isolation, resource limits set from here with
``prlimit`` (address space, open files, no file writes, no core dumps) and one socket of a
socketpair as its only channel. Each tool the child calls arrives here as JSON; the real
tool runs here, in the parent, with its own checks (workspace paths, Space policy), and its
result goes back as JSON (:mod:`spacesmith.agent.executor.wire`), scrubbed of secrets.

Every step is bounded from outside: CPU seconds (the kernel's ``RLIMIT_CPU``, moved each step,
and our own reading of the child's CPU time), wall-clock time not counting the time spent in
tools here, the message size. A step past a limit, or a child that dies (a signal, a
segfault), costs the child: it is killed, a new one starts at the next step with the tools
and the data variables kept after the last finished step, and the model is told exactly
what happened and which variables were lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smolagents import CodeAgent
from smolagents.local_python_executor import CodeOutput, InterpreterError, PythonExecutor

from spacesmith.agent.executor import wire
from spacesmith.agent.executor.jail import Confinement
from spacesmith.tools.errors import AgentError
from spacesmith.tools.redact import plain, scrub

START_TIMEOUT_S = 60.0
TICK_S = 0.25  # how often a running step's CPU time and deadline are checked


@dataclass(frozen=True)
class CodeLimits:
    """Limits of one step of agent code (``[limits]`` in a goal file).

    Attributes:
        cpu_s: CPU seconds one step may use.
        wall_s: seconds one step may take, time spent in tools not counted.
        memory_mb: the agent-code process's address space, MiB.
        output_chars: printed output and results kept per step.
        message_bytes: the largest message either side accepts.
        tool_calls: tool calls one step may make (time in tools is not counted against
            the wall-clock limit, so this bounds a loop of tool calls).
    """

    cpu_s: float = 60.0
    wall_s: float = 120.0
    memory_mb: int = 2048
    output_chars: int = 50_000
    message_bytes: int = 32 * 1024 * 1024
    tool_calls: int = 1000


@dataclass
class ExecutorEvents:
    """What happened to agent-code processes during a run, for the report."""

    starts: int = 0
    kills: list[str] = field(default_factory=list)


def child_environment() -> dict[str, str]:
    """The child's whole environment: nothing inherited (no token, keys, proxies, HOME)."""
    return {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


def readable_paths() -> list[str]:
    """What the jailed child may still read: the Python installation and our package."""
    import spacesmith.agent
    import spacesmith.tools

    found = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    found |= {str(Path(m.__file__ or "").resolve().parent)
              for m in (spacesmith.agent, spacesmith.tools)}
    return sorted(p for p in found if p and os.path.exists(p))


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux ``/proc``), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[-1].split()
    try:
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError):
        return None


def _prlimit(pid: int, which: int, value: tuple[int, int]) -> bool:
    import resource

    try:
        resource.prlimit(pid, which, value)
    except (AttributeError, OSError, ValueError):
        return False
    return True


class _Stopped(Exception):
    """The step was stopped or the child died: ``why`` says how, in the model's words.
    ``died`` is set when the child died on its own (not stopped for a limit)."""

    def __init__(self, why: str, *, died: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.died = died


class ProcessExecutor(PythonExecutor):  # type: ignore[misc]
    """A smolagents executor that runs code in a jailed, limited child process.

    Args:
        authorized_imports: modules agent code may import.
        limits: the per-step limits.
        jail: confine the child with the OS jail (tests of the jail itself turn it off).
    """

    def __init__(self, authorized_imports: list[str], *, limits: CodeLimits | None = None,
                 jail: bool = True) -> None:
        self.authorized_imports = list(authorized_imports)
        self.limits = limits or CodeLimits()
        self.jail = jail
        self.tools: dict[str, Callable[..., Any]] = {}
        self.static_tools: dict[str, Callable[..., Any]] = {}
        self.kept: dict[str, Any] = {}
        self.unkept: list[str] = []
        self.state: dict[str, Any] = {}
        self.timeout_seconds = None  # smolagents' in-process timeout stays off
        self.confinement: Confinement | None = None
        self.events = ExecutorEvents()
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.reader: wire.Reader | None = None
        self.ready = False
        self.tools_changed = False
        self.step_calls = 0
        self.step_heard = False

    # --- the smolagents interface -------------------------------------------------------

    def start(self) -> None:
        """Start the child now (it is started on first use otherwise)."""
        if self.proc is None:
            self._spawn()

    def send_tools(self, tools: Mapping[str, Any]) -> None:
        """Register the tools (here, in the parent); the child gets their names only."""
        self.tools = dict(tools)
        self.static_tools = {name: _named(name) for name in self.tools}
        self.tools_changed = True
        if self.proc is None:
            self._spawn()

    def send_variables(self, variables: Mapping[str, Any]) -> None:
        """Keep the data among ``variables`` for the child (now, and after restarts)."""
        from spacesmith.agent.executor.child import is_data

        for name, value in variables.items():
            if isinstance(name, str) and not name.startswith("_") and is_data(value):
                self.kept[name] = wire.encode(value)
        self.state.update({k: wire.decode(v) for k, v in self.kept.items()})
        if self.ready:
            self._send({"t": "vars", "vars": self.kept})

    def __call__(self, code_action: str) -> CodeOutput:
        self.state["_print_outputs"] = ""
        try:
            self._ensure_ready()
            return self._run(code_action)
        except _Stopped as stop:
            if not (stop.died and self.step_calls == 0 and not self.step_heard):
                raise InterpreterError(self._lost(stop.why)) from None
            # it died before saying anything or calling a tool (e.g. still freeing what the
            # previous step left): nothing of this step happened, so run it once more
            self.events.kills.append(stop.why)
            self.cleanup(polite=False)
        try:
            self._ensure_ready()
            return self._run(code_action)
        except _Stopped as stop:
            raise InterpreterError(self._lost(stop.why)) from None

    def cleanup(self, *, polite: bool = True) -> None:
        """Stop the child (when idle and ``polite``, asked to quit first; then for good)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if polite and self.sock is not None and self.ready:
                    self._send({"t": "quit"})
                    proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired, _Stopped):
                pass
            _kill(proc)
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None
        self.ready = False

    # --- the child ----------------------------------------------------------------------

    def _spawn(self) -> None:
        import resource

        parent, child = socket.socketpair()
        command = [sys.executable, "-I", "-B", "-m", "spacesmith.agent.executor.child",
                   str(child.fileno())]
        try:
            proc = subprocess.Popen(command, env=child_environment(), cwd="/",
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, pass_fds=(child.fileno(),),
                                    start_new_session=True, close_fds=True)
        except OSError as exc:
            parent.close()
            raise AgentError(f"cannot start the agent-code process: {exc}") from exc
        finally:
            child.close()
        memory = self.limits.memory_mb * 1024 * 1024
        for which, value in ((resource.RLIMIT_AS, (memory, memory)),
                             (resource.RLIMIT_FSIZE, (0, 0)), (resource.RLIMIT_CORE, (0, 0)),
                             (resource.RLIMIT_NOFILE, (32, 32))):
            _prlimit(proc.pid, which, value)
        self.proc, self.sock = proc, parent
        self.reader = wire.Reader(parent, self.limits.message_bytes)
        self.ready = False
        self.events.starts += 1
        self._send({"t": "init", "imports": self.authorized_imports, "jail": self.jail,
                    "readable": readable_paths(), "output_chars": self.limits.output_chars,
                    "message_bytes": self.limits.message_bytes})

    def _ensure_ready(self) -> None:
        if self.proc is not None and self.ready and self.proc.poll() is not None:
            # it died after its last answer (e.g. freeing a huge nested object): start anew,
            # the variables of that step were kept
            self.events.kills.append(f"the process exited between steps "
                                     f"(code {self.proc.returncode})")
            self.cleanup(polite=False)
        if self.proc is None:
            self._spawn()
        if not self.ready:
            assert self.reader is not None
            deadline = time.monotonic() + START_TIMEOUT_S
            message = None
            try:
                while message is None and time.monotonic() < deadline:
                    message = self.reader.poll(0.2)
                    if message is None and self.proc is not None and self.proc.poll() is not None:
                        break
            except wire.ChannelError:
                message = None
            if message is None or message.get("t") != "ready":
                code = self.proc.poll() if self.proc is not None else None
                self.cleanup()
                raise AgentError("the agent-code process did not start"
                                 + (f" (exit code {code})" if code is not None else ""),
                                 hint="check that the memory limit (limits.code_memory_mb) "
                                      "leaves room for Python")
            self.confinement = Confinement.from_json(message.get("confinement"))
            _warn_once(self.confinement)
            self.ready = True
            self._send({"t": "tools", "names": sorted(self.tools)})
            self.tools_changed = False
            if self.kept:
                self._send({"t": "vars", "vars": self.kept})

    def _send(self, message: Mapping[str, Any]) -> None:
        assert self.sock is not None
        body = scrub(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        data = body.encode("utf-8", "surrogatepass")
        try:
            self.sock.sendall(wire.HEADER.pack(len(data)) + data)
        except OSError as exc:
            raise _Stopped("the process running your code stopped answering") from exc

    def _run(self, code: str) -> CodeOutput:
        assert self.proc is not None and self.reader is not None
        pid = self.proc.pid
        if self.tools_changed:
            self._send({"t": "tools", "names": sorted(self.tools)})
            self.tools_changed = False
        cpu_start = _cpu_seconds(pid) or 0.0
        import resource

        soft = int(cpu_start + self.limits.cpu_s) + 1
        _prlimit(pid, resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        self._send({"t": "run", "code": code})
        self.step_calls = 0
        self.step_heard = False
        deadline = time.monotonic() + self.limits.wall_s
        while True:
            now = time.monotonic()
            try:
                message = self.reader.poll(min(TICK_S, max(deadline - now, 0.0)))
            except wire.ChannelError as exc:
                raise _Stopped(self._death(str(exc)), died=self.proc.poll() is not None) from None
            if message is None:
                if self.proc.poll() is not None:
                    raise _Stopped(self._death("the channel was closed"), died=True)
                used = (_cpu_seconds(pid) or cpu_start) - cpu_start
                if used > self.limits.cpu_s:
                    raise _Stopped(self._cpu_message())
                if time.monotonic() > deadline:
                    raise _Stopped(f"it ran past the {self.limits.wall_s:g} s time limit of "
                                   "one step (time waiting on Spaces, site builds and "
                                   "screenshots is not counted)")
                continue
            kind = message["t"]
            self.step_heard = True
            if kind == "call":
                started = time.monotonic()
                reply = self._call_tool(message)
                self._send(reply)
                if self._waits_on_io(message):  # Spaces, npm, Chromium: not the code's time
                    deadline += time.monotonic() - started
            elif kind in ("done", "error"):
                return self._finish(message)
            else:
                raise _Stopped(f"the process running your code sent {kind!r} out of turn")

    def _finish(self, message: dict[str, Any]) -> CodeOutput:
        kept = message.get("vars")
        if isinstance(kept, dict):
            self.kept = {str(k): v for k, v in kept.items()}
            unkept = message.get("unkept")
            self.unkept = [str(n) for n in unkept][:200] if isinstance(unkept, list) else []
            self.state = {k: wire.decode(v) for k, v in self.kept.items()}
        logs = plain(str(message.get("logs", "")))
        self.state["_print_outputs"] = logs
        if message["t"] == "error":
            raise InterpreterError(plain(str(message.get("message", "the code failed"))))
        output = wire.decode(message.get("output"))
        if isinstance(output, str):
            output = plain(output)
        elif isinstance(output, wire.Record):
            output = wire.Record(output.kind, output.attributes, plain(output.text))
        return CodeOutput(output=output, logs=logs, is_final_answer=bool(message.get("final")))

    def _waits_on_io(self, message: dict[str, Any]) -> bool:
        """Whether the tool called waits on the network or a program (a Space call, a site
        build, a screenshot): its time is left off the step's clock. Local tools (fix_splat,
        look_at, write_file, …) count, so a loop of them cannot outlast the step."""
        name = message.get("tool")
        tool = self.tools.get(name) if isinstance(name, str) else None
        return bool(getattr(tool, "waits_on_io", False))

    def _call_tool(self, message: dict[str, Any]) -> dict[str, Any]:
        name = message.get("tool")
        tool = self.tools.get(name) if isinstance(name, str) else None
        reply: dict[str, Any]
        self.step_calls += 1
        if self.step_calls > self.limits.tool_calls:
            reply = {"t": "raise", "type": "ToolError",
                     "message": f"more than {self.limits.tool_calls} tool calls in one step; "
                                "end this step and continue in the next"}
        elif tool is None:
            reply = {"t": "raise", "type": "NameError", "message": f"there is no tool {name!r}"}
        else:
            try:
                args = wire.decode(message.get("args", []), records=False)
                kwargs = wire.decode(message.get("kwargs", {}), records=False)
                if not isinstance(args, list) or not isinstance(kwargs, dict):
                    raise TypeError("bad call")
                kwargs.pop("sanitize_inputs_outputs", None)
                value = wire.encode(tool(*args, **kwargs))
                reply = {"t": "result", "value": value}
                if len(json.dumps(value, ensure_ascii=False)) > self.limits.message_bytes // 2:
                    reply = {"t": "raise", "type": "ToolError",
                             "message": f"{name} returned a result too large to pass back"}
            except Exception as exc:  # the tool's error is the code's error, as in-process
                reply = {"t": "raise", "type": type(exc).__name__, "message": str(exc)}
        if self.tools_changed:
            reply["tools"] = sorted(self.tools)
            self.tools_changed = False
        return reply

    def _cpu_message(self) -> str:
        return f"it used more than the {self.limits.cpu_s:g} s CPU limit of one step"

    def _death(self, detail: str) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return f"the process running your code broke the channel ({detail})"
        if code == -signal.SIGXCPU:
            return self._cpu_message()
        if code == -signal.SIGXFSZ:
            return "it tried to write a file (use write_file)"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            return (f"the process running your code crashed with {name} (very deep nesting or "
                    f"recursion, or over the {self.limits.memory_mb} MiB memory limit)")
        return f"the process running your code exited (code {code})"

    def _lost(self, why: str) -> str:
        """Kill the child and say what the model lost (a new child starts at the next step)."""
        self.events.kills.append(why)
        self.cleanup(polite=False)
        kept = ", ".join(sorted(self.kept)) or "none"
        lost = ", ".join(sorted(set(self.unkept))) or "none"
        return (f"Your code was stopped: {why}. The Python process running your code was "
                f"restarted. Variables kept from the last finished step: {kept}; lost: {lost} "
                "(only data such as numbers, strings, lists, dicts and tool results is kept), "
                "and whatever this step assigned. Files and Space results are kept. Continue "
                "from there; split heavy work into smaller steps.")


_warned: list[str] = []


def _warn_once(confinement: Confinement) -> None:
    """Say once per process, on stderr, that no OS jail confines agent code."""
    if not confinement.active and not _warned:
        _warned.append(confinement.describe())
        print(f"Warning: agent code runs without an OS jail: {confinement.describe()}",
              file=sys.stderr)


def _named(name: str) -> Callable[..., Any]:
    """What ``static_tools`` shows for a tool: a plain function that holds nothing."""

    def call(*args: Any, **kwargs: Any) -> Any:
        raise InterpreterError(f"{name} runs only inside agent code")

    call.__name__ = call.__qualname__ = name
    return call


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5.0)


class IsolatedCodeAgent(CodeAgent):  # type: ignore[misc]
    """A CodeAgent whose executor is a :class:`ProcessExecutor`.

    ``executor_kwargs`` may hold ``limits`` (:class:`CodeLimits`) and ``jail`` (bool).
    """

    def create_python_executor(self) -> ProcessExecutor:
        kwargs = dict(self.executor_kwargs or {})
        executor = ProcessExecutor(list(self.additional_authorized_imports),
                                   limits=kwargs.get("limits"), jail=kwargs.get("jail", True))
        executor.start()  # it imports while the run gets ready
        return executor
