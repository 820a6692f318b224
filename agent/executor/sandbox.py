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
evaluated safely), imports such a name (``from json import __loader__``), or names the
interpreter's own variables (the operation counter, dunder names); (2) gives the code each
tool as a plain function that only calls it, so no tool attribute is reachable; (3) replaces
``getattr``/``hasattr``/``setattr`` by versions that refuse the same names, so the check
cannot be dodged with a computed name; (4) in the agent-code process (:func:`harden`),
checks results inside containers too and caps the print buffer.

It is the innermost wall: the code runs in its own process without the token
(:mod:`spacesmith.agent.executor.process`), confined by the OS
(:mod:`spacesmith.agent.executor.jail`).
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable
from typing import Any

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


# the interpreter's own bookkeeping in the code's namespace (the operation counter, the
# print buffer): agent code may not name them, so it cannot reset the counter
INTERNAL_NAMES = frozenset({"_operations_count", "_print_outputs"})


def forbidden_name(name: str) -> str | None:
    """Why agent code may not name the variable ``name``, or None when it may."""
    if name in INTERNAL_NAMES or (name.startswith("__") and name != "__name__"):
        return f"the name '{name}' is the interpreter's own and is not allowed"
    return None


def check_code(code: str) -> None:
    """Refuse code that names a forbidden attribute (see :func:`forbidden_attribute`), imports
    one with ``from X import NAME`` (checked like an attribute), or names the interpreter's
    own variables (:func:`forbidden_name`).

    Raises:
        InterpreterError: the first forbidden name, with its line.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return  # the interpreter reports syntax errors itself, with its own message
    for node in ast.walk(tree):
        why = None
        if isinstance(node, ast.Attribute):
            why = forbidden_attribute(node.attr)
        elif isinstance(node, ast.ImportFrom):
            why = next((w for a in node.names if a.name != "*"
                        and (w := forbidden_attribute(a.name))), None)
        elif isinstance(node, ast.Name):
            why = forbidden_name(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # methods such as __init__ may be defined; the interpreter's names may not
            why = forbidden_name(node.name) if node.name in INTERNAL_NAMES else None
        elif isinstance(node, ast.arg):
            why = forbidden_name(node.arg)
        if why:
            raise InterpreterError(f"line {getattr(node, 'lineno', '?')}: {why}")


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


_INTERPRETER_TYPES = (types.FrameType, types.CodeType, types.TracebackType)
_PLAIN = frozenset({int, float, str, bool, bytes, type(None), complex})
_CONTAINERS = frozenset({list, tuple, set, frozenset})
_IMPORT_MACHINERY = ("_frozen_importlib", "importlib")
_MAX_WALK = 64


def check_value(value: Any, authorized_imports: list[str], *, deep: bool = True) -> None:
    """Refuse a value that leads out of the sandbox, also inside containers.

    Modules that were not authorised, frames, code objects, tracebacks and the import
    machinery's objects (loaders, module specs) are refused wherever they sit in nested
    lists, tuples, sets and dicts (``deep``; at most 64 items per check). :func:`harden`
    looks inside the results of calls (where ``map``, ``filter``, ``sorted``… could hide a
    value) and at the value alone for every other expression, so big lists stay cheap; an
    item taken out of a container is checked again when it is evaluated.

    Raises:
        InterpreterError: what was found.
    """
    if type(value) in _PLAIN or (not deep and type(value) in _CONTAINERS | {dict}):
        return
    queue: list[Any] = [value]
    seen = 0
    while queue and seen < _MAX_WALK:
        item = queue.pop()
        seen += 1
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind in _CONTAINERS:
            queue.extend(item)
        elif kind is dict:
            queue.extend(item.keys())
            queue.extend(item.values())
        elif isinstance(item, types.ModuleType):
            if not _authorized(item.__name__, authorized_imports):
                raise InterpreterError(f"Forbidden access to module: {item.__name__}")
        elif isinstance(item, _INTERPRETER_TYPES):
            raise InterpreterError(f"access to {kind.__name__} objects is not allowed")
        elif str(getattr(kind, "__module__", "")).startswith(_IMPORT_MACHINERY):
            raise InterpreterError(f"access to the import machinery ({kind.__name__}) is "
                                   "not allowed")


def _authorized(name: str, authorized_imports: list[str]) -> bool:
    from smolagents.local_python_executor import check_import_authorized

    return bool(check_import_authorized(name, authorized_imports))


class CappedPrint:
    """The print buffer, capped: a flood of prints costs time, not memory."""

    def __init__(self, cap: int) -> None:
        self.value = ""
        self.cap = cap
        self.dropped = 0

    def append(self, text: str) -> CappedPrint:
        return self.__iadd__(text)

    def __iadd__(self, other: object) -> CappedPrint:
        text = str(other)
        room = self.cap - len(self.value)
        if room > 0:
            self.value += text[:room]
        self.dropped += max(len(text) - max(room, 0), 0)
        return self

    def __str__(self) -> str:
        if self.dropped:
            return self.value + f"\n[{self.dropped} more characters of output were dropped]"
        return self.value

    def __repr__(self) -> str:
        return f"CappedPrint({len(self.value)} chars)"

    def __len__(self) -> int:
        return len(self.value)


def harden(print_cap: int) -> None:
    """Tighten smolagents' interpreter in this process (the agent-code process only).

    Its result check also looks inside containers (:func:`check_value`), and its print
    buffer is capped at ``print_cap`` characters.
    """
    import smolagents.local_python_executor as lpe

    original = lpe.check_safer_result

    def check(result: Any, static_tools: Any = None, authorized_imports: Any = None) -> None:
        original(result, static_tools, authorized_imports)
        check_value(result, list(authorized_imports or []), deep=False)

    evaluate_call = lpe.evaluate_call

    def call_checked(call: Any, state: Any, static_tools: Any, custom_tools: Any,
                     authorized_imports: Any) -> Any:
        result = evaluate_call(call, state, static_tools, custom_tools, authorized_imports)
        check_value(result, list(authorized_imports or []))
        return result

    lpe.check_safer_result = check
    lpe.evaluate_call = call_checked
    lpe.PrintContainer = lambda: CappedPrint(print_cap)


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
    """``LocalPythonExecutor`` with the checks described in this module.

    It runs inside the agent-code process (:mod:`spacesmith.agent.executor.child`), the
    second wall behind the process boundary and the OS jail. Agent code imports exactly the
    modules it is given, not smolagents' built-in list as well (``time``, ``re``, ``queue``
    and the rest are hang and escape material that glue code does not need)."""

    def __init__(self, additional_authorized_imports: list[str], **kwargs: Any) -> None:
        super().__init__(additional_authorized_imports, **kwargs)
        self.authorized_imports = list(additional_authorized_imports)

    def __call__(self, code_action: str) -> CodeOutput:
        check_code(code_action)
        return super().__call__(code_action)

    def send_tools(self, tools: dict[str, Any]) -> None:
        super().send_tools({name: opaque(tool, name) for name, tool in tools.items()})
        self.static_tools.update(SAFE_BUILTINS)
