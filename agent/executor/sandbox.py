"""The executor agent-written code runs in: smolagents' local interpreter, narrowed.

smolagents' ``LocalPythonExecutor`` refuses unauthorised imports and dunder attributes, but
left as is it still lets agent code reach things it must not:

- ``"{0.__init__.__globals__[os].environ}".format(obj)``: ``str.format`` walks attributes
  in C, past the dunder check, to any module's globals and so to ``os.environ`` (the token);
- ``tool.session._token``: a Tool instance's private state, which holds the token;
- ``write_file.workspace.root.parent.joinpath(...).write_text(...)``: a Tool's attributes
  lead to live ``Path`` objects, i.e. file reads and writes anywhere.

So this executor (1) rejects, before running anything, code that names an attribute
starting with ``_`` or the ``format``/``format_map`` methods (f-strings work and are
evaluated safely); (2) gives the code each tool as a plain function that only calls it, so
no tool attribute is reachable; (3) replaces ``getattr``/``hasattr``/``setattr`` by versions
that refuse the same names, so the check cannot be dodged with a computed name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from smolagents import CodeAgent
from smolagents.local_python_executor import CodeOutput, InterpreterError, LocalPythonExecutor

FORMAT_METHODS = frozenset({"format", "format_map"})
# frames and code objects lead to module globals (classic interpreter escapes)
INTROSPECTION = frozenset({"gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code",
                           "tb_frame", "tb_next", "f_globals", "f_locals", "f_builtins", "f_back",
                           "f_code", "func_globals"})


def forbidden_attribute(name: str) -> str | None:
    """Why agent code may not use attribute ``name``, or None when it may."""
    if name.startswith("_"):
        return f"access to the private attribute '{name}' is not allowed"
    if name in FORMAT_METHODS:
        return f"str.{name} is not allowed here; use an f-string"
    if name in INTROSPECTION:
        return f"access to the interpreter attribute '{name}' is not allowed"
    return None


def check_code(code: str) -> None:
    """Refuse code that names a forbidden attribute (see :func:`forbidden_attribute`).

    Raises:
        InterpreterError: the first forbidden attribute, with its line.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return  # the interpreter reports syntax errors itself, with its own message
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (why := forbidden_attribute(node.attr)):
            raise InterpreterError(f"line {node.lineno}: {why}")


def _checked(name: object) -> str:
    if not isinstance(name, str):
        raise InterpreterError("attribute name must be a string")
    if why := forbidden_attribute(name):
        raise InterpreterError(why)
    return name


_MISSING = object()


def safe_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """``getattr`` that refuses private attributes and the format methods."""
    name = _checked(name)
    return getattr(obj, name) if default is _MISSING else getattr(obj, name, default)


def safe_hasattr(obj: Any, name: str) -> bool:
    """``hasattr`` that refuses private attributes and the format methods."""
    return hasattr(obj, _checked(name))


def safe_setattr(obj: Any, name: str, value: Any) -> None:
    """``setattr`` that refuses private attributes and the format methods."""
    setattr(obj, _checked(name), value)


SAFE_BUILTINS: dict[str, Callable[..., Any]] = {
    "getattr": safe_getattr, "hasattr": safe_hasattr, "setattr": safe_setattr,
}


def opaque(tool: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A plain function that calls ``tool``: the code can call it but reach nothing in it
    (a closure's cell is only reachable through dunder attributes, which are refused)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return tool(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = getattr(tool, "description", None)
    return call


class SandboxExecutor(LocalPythonExecutor):  # type: ignore[misc]
    """``LocalPythonExecutor`` with the checks described in this module."""

    def __call__(self, code_action: str) -> CodeOutput:
        check_code(code_action)
        return super().__call__(code_action)

    def send_tools(self, tools: dict[str, Any]) -> None:
        super().send_tools({name: opaque(tool, name) for name, tool in tools.items()})
        self.static_tools.update(SAFE_BUILTINS)


class SandboxedCodeAgent(CodeAgent):  # type: ignore[misc]
    """A CodeAgent whose local executor is a :class:`SandboxExecutor`."""

    def create_python_executor(self) -> Any:
        if self.executor_type != "local":
            return super().create_python_executor()
        return SandboxExecutor(
            self.additional_authorized_imports,
            **{"max_print_outputs_length": self.max_print_outputs_length} | self.executor_kwargs,
        )
