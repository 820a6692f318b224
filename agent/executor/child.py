"""The agent-code process: runs the model's code, holds no token, no client, no workspace.

Started by :class:`spacesmith.agent.executor.process.ProcessExecutor` as
``python -I -B -m spacesmith.agent.executor.child FD`` with a scrubbed environment, resource
limits and the channel's socket as its only extra file descriptor. It imports what agent
code may import, confines itself (:mod:`spacesmith.agent.executor.jail`), then serves:

- ``tools`` (names): every tool becomes a stub that sends ``call`` to the parent and waits
  for ``result`` or ``raise``; ``final_answer`` stays local.
- ``vars`` (wire values): variables to (re)load, e.g. after a restart.
- ``run`` (code): runs it in the sandboxed interpreter and answers ``done`` or ``error``,
  with the data variables (``vars``) the parent keeps in case this process must be
  restarted, and the names it could not keep (``unkept``).
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from spacesmith.agent.executor import wire
from spacesmith.agent.executor.jail import Confinement, confine

MAX_VARS_BYTES = 2_000_000


class Child:
    """The serving loop over one channel."""

    def __init__(self, sock: socket.socket, init: dict[str, Any]) -> None:
        from spacesmith.agent.executor.sandbox import SandboxExecutor

        self.sock = sock
        self.limit = int(init["message_bytes"])
        self.output_chars = int(init["output_chars"])
        self.executor = SandboxExecutor(list(init["imports"]),
                                        max_print_outputs_length=self.output_chars,
                                        timeout_seconds=None)
        self.errors: dict[str, type[Exception]] = {}
        self.install([])

    # --- tools ----------------------------------------------------------------------------

    def install(self, names: Sequence[str]) -> None:
        tools: dict[str, Callable[..., Any]] = {str(n): self.stub(str(n)) for n in names
                                                if n != "final_answer"}

        def final_answer(answer: Any) -> Any:
            return answer

        tools["final_answer"] = final_answer
        self.executor.send_tools(tools)

    def stub(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            wire.send(self.sock, {"t": "call", "tool": name, "args": wire.encode(list(args)),
                                  "kwargs": wire.encode(kwargs)})
            reply = wire.recv_blocking(self.sock, self.limit)
            if reply.get("tools") is not None:
                self.install([str(n) for n in reply["tools"]])
            if reply["t"] == "result":
                return wire.decode(reply.get("value"))
            if reply["t"] == "raise":
                raise self.error(str(reply.get("type", "ToolError")))(str(reply.get("message")))
            raise wire.ChannelError(f"unexpected reply {reply['t']!r} to a tool call")

        call.__name__ = call.__qualname__ = name
        return call

    def error(self, name: str) -> type[Exception]:
        """An exception class named like the parent's (``WorkspaceError``), for messages."""
        name = name if name.isidentifier() and len(name) < 60 else "ToolError"
        if name not in self.errors:
            self.errors[name] = type(name, (Exception,), {})
        return self.errors[name]

    # --- running --------------------------------------------------------------------------

    def run(self, code: str) -> dict[str, Any]:
        reply: dict[str, Any]
        try:
            out = self.executor(code)
            reply = {"t": "done", "output": self.output(out.output, out.is_final_answer),
                     "logs": out.logs, "final": bool(out.is_final_answer)}
        except Exception as exc:
            reply = {"t": "error", "message": wire._clip(str(exc), self.output_chars),
                     "logs": self.logs()}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit, …
            reply = {"t": "error", "logs": self.logs(),
                     "message": f"your code raised {type(exc).__name__}: agent code cannot stop "
                                "or interrupt the run; call final_answer(...) when done"}
        kept, unkept = self.snapshot()
        reply["vars"], reply["unkept"] = kept, unkept
        return reply

    def logs(self) -> str:
        return wire._clip(str(self.executor.state.get("_print_outputs", "")), self.output_chars)

    def output(self, value: Any, final: bool) -> Any:
        try:
            encoded = wire.encode(value)
            if len(json.dumps(encoded, ensure_ascii=False)) <= self.output_chars * 4:
                return encoded
        except (ValueError, RecursionError, MemoryError):
            pass
        text = wire._safe_repr(value) if not final else wire._clip(str(value), self.output_chars)
        return {"$r": "str", "a": {}, "s": text}

    def snapshot(self) -> tuple[dict[str, Any], list[str]]:
        """The data variables (JSON-able, within the size cap) and the names left out."""
        kept: dict[str, Any] = {}
        unkept: list[str] = []
        total = 0
        for name, value in list(self.executor.state.items()):
            if name.startswith("_"):
                continue
            try:
                if not is_data(value):
                    raise ValueError
                encoded = wire.encode(value)
                size = len(json.dumps(encoded, ensure_ascii=False))
            except (ValueError, RecursionError, MemoryError, TypeError):
                unkept.append(name)
                continue
            if total + size > MAX_VARS_BYTES:
                unkept.append(name)
                continue
            total += size
            kept[name] = encoded
        unkept.extend(str(n) for n in self.executor.custom_tools)  # functions, classes
        return kept, unkept[:200]

    def serve(self) -> int:
        while True:
            message = wire.recv_blocking(self.sock, self.limit)
            try:
                if self.handle(message):
                    return 0
            except (wire.ChannelError, OSError):
                raise
            except Exception as exc:  # never die of one message: say so and go on
                if message["t"] == "run":
                    wire.send(self.sock, {"t": "error", "logs": "",
                                          "message": f"the code could not be run "
                                                     f"({type(exc).__name__})"})

    def handle(self, message: dict[str, Any]) -> bool:
        """Serve one message; True when told to quit."""
        kind = message["t"]
        if kind == "run":
            wire.send(self.sock, self.run(str(message.get("code", ""))))
        elif kind == "tools":
            self.install([str(n) for n in message.get("names", [])])
        elif kind == "vars":
            values = message.get("vars")
            if isinstance(values, dict):
                self.executor.send_variables({str(k): wire.decode(v)
                                              for k, v in values.items()})
        elif kind == "quit":
            return True
        return False


def is_data(value: Any, depth: int = 0) -> bool:
    """True for JSON-like data (and records) that survive a restart unchanged."""
    if depth > wire.MAX_DEPTH:
        return False
    if value is None or isinstance(value, (bool, int, float, str, wire.Record)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_data(v, depth + 1) for k, v in value.items())
    return False


def light_interpreter() -> None:
    """Import smolagents' interpreter without the rest of smolagents.

    The package's ``__init__`` imports its agents, models, Hub client and UI (over a second
    of CPU); the interpreter needs none of it, and ``Tool`` only as an annotation. So, in this
    process only, the package is a bare namespace and ``smolagents.tools`` a stand-in, which
    makes a (re)start of this process about six times cheaper. Falls back to the full import
    if the interpreter module does not load that way.
    """
    import importlib.util
    import types

    if "smolagents" in sys.modules:
        return
    spec = importlib.util.find_spec("smolagents")
    if spec is None or not spec.submodule_search_locations:
        return
    package = types.ModuleType("smolagents")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    tools = types.ModuleType("smolagents.tools")
    tools.Tool = object  # type: ignore[attr-defined]
    sys.modules["smolagents"], sys.modules["smolagents.tools"] = package, tools
    try:
        importlib.import_module("smolagents.local_python_executor")
    except ImportError:
        for name in [n for n in sys.modules if n == "smolagents" or n.startswith("smolagents.")]:
            del sys.modules[name]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    sock = socket.socket(fileno=int(args[0]))
    light_interpreter()
    init = wire.recv_blocking(sock, 1 << 20)
    for module in init["imports"]:  # before the jail closes the filesystem
        importlib.import_module(module)
    from spacesmith.agent.executor.sandbox import harden

    harden(int(init["output_chars"]))
    child = Child(sock, init)
    if init.get("jail", True):
        confinement = confine([str(p) for p in init.get("readable", [])])
    else:
        confinement = Confinement(0, False, ("turned off by the run's settings",))
    wire.send(sock, {"t": "ready", "pid": os.getpid(), "confinement": confinement.to_json()})
    try:
        return child.serve()
    except wire.ChannelError:
        return 3


if __name__ == "__main__":
    sys.exit(main())
