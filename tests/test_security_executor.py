"""Security: agent-written code cannot import os & co., touch files outside the workspace, or
reach the environment or the token, through the escape vectors we know of.

Runs the real harness (offline stand-ins) with a canary token in HF_TOKEN and in the
settings, then throws each escape at ``agent.python_executor``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import FunctionType
from typing import Any

import pytest

from spacesmith.agent.codeagent.harness import AUTHORIZED_IMPORTS
from spacesmith.agent.executor.sandbox import SandboxExecutor, check_code
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.standins import Standins

CANARY = "hf_CANARYexecutor7f3a9c2e5b1d"


@pytest.fixture(scope="module")
def executor(tmp_path_factory: pytest.TempPathFactory, agent_spaces: Standins) -> Iterator[Any]:
    """One harness for the module (its agent-code process takes seconds to start on a busy
    machine); every test throws its escapes at the same executor."""
    from spacesmith.agent.runs.runner import open_harness

    settings = Settings(goal="build a Paris monuments gallery",
                        output=tmp_path_factory.mktemp("sec") / "run", model="offline",
                        subjects=("Panthéon",), image_space=agent_spaces.image_url,
                        splat_space=agent_spaces.splat_url, token=CANARY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_TOKEN", CANARY)
        harness = open_harness(settings)
        try:
            ex = harness.agent.python_executor
            ex.send_variables(harness.agent.state)
            ex.send_tools({**harness.agent.tools})
            ex.workspace = harness.workspace  # for the tests, not for the code
            ex.tool_names = sorted(harness.agent.tools)
            yield ex
        finally:
            harness.close()


def _run(ex: Any, code: str) -> str:
    """The code's output and logs, or the error text when it was refused."""
    try:
        out = ex(code)
    except Exception as exc:
        return f"REFUSED {type(exc).__name__}: {exc}"
    return f"RAN {out.output!r} {out.logs!r}"


IMPORTS = ["os", "sys", "subprocess", "socket", "pathlib", "shutil", "io", "builtins",
           "importlib", "ctypes", "numpy", "plyfile", "posix", "pty", "multiprocessing"]


@pytest.mark.parametrize("module", IMPORTS)
def test_dangerous_modules_cannot_be_imported(executor: Any, module: str) -> None:
    for code in (f"import {module}", f"from {module} import *", f"import {module} as m"):
        assert _run(executor, code).startswith("REFUSED"), code


def test_authorised_imports_are_glue_only() -> None:
    assert set(AUTHORIZED_IMPORTS) == {"math", "json", "statistics", "unicodedata"}


ENV_ESCAPES = {
    # worked before agent/executor/sandbox.py: str.format walks attributes in C, past the
    # dunder check
    "str.format globals": ("import statistics\n"
                           "'{0.__globals__[sys].modules[os].environ[HF_TOKEN]}'"
                           ".format(statistics.mean)"),
    "str.format on a tool": "'{0.__globals__[sys].modules[os].environ}'.format(write_file)",
    "format_map": "'{x.__class__}'.format_map({'x': 1})",
    "getattr format": "getattr('{0.__class__}', 'format')(1)",
    "getattr computed": "getattr('{0.__class__}', 'for' + 'mat')(1)",
    "str.format unbound": "str.format('{0.__class__}', 1)",
    "tool private token": "call_many.session._token",
    "tool token via getattr": "getattr(getattr(call_many, 'session'), '_' + 'token')",
    "tool attributes": "call_many.session",
    "tool dict": "vars(call_many)",
    "space tool client": "image_standin_generate.session",
    "dunder class walk": "().__class__.__base__.__subclasses__()",
    "getattr dunder": "getattr((), '__cla' + 'ss__')",
    "globals": "globals()",
    "locals": "locals()",
    "eval": "eval('1')",
    "exec": "exec('x = 1')",
    "compile": "compile('1', 'x', 'eval')",
    "__import__": "__import__('os')",
    "generator frame": "g = (x for x in [1])\ng.gi_frame.f_globals",
    "function globals": "def f():\n    return 1\nf.__globals__",
    "json submodule": "import json\njson.decoder",
    "json codecs": "import json\njson.codecs.open('/etc/hostname').read()",
    "statistics sys": "import statistics\nstatistics.sys.modules",
    "math loader": "import math\nmath.__loader__",
    "type tricks": "type(write_file).__dict__",
    "print outputs": "_print_outputs.__class__",
}


@pytest.mark.parametrize("name", sorted(ENV_ESCAPES))
def test_environment_and_token_are_unreachable(executor: Any, name: str) -> None:
    result = _run(executor, ENV_ESCAPES[name])
    assert CANARY not in result
    assert "environ" not in result.split(":", 1)[0]
    assert result.startswith("REFUSED"), result[:300]


def test_token_is_not_in_executor_state_or_tools(executor: Any) -> None:
    _run(executor, "x = 1")
    assert CANARY not in repr(executor.state)
    assert "write_file" in executor.tool_names and "call_many" in executor.tool_names
    for name in executor.tool_names:
        tool = executor.static_tools[name]
        assert isinstance(tool, FunctionType), name
        assert CANARY not in repr(tool), name
        assert not tool.__dict__, f"{name} exposes attributes"


def test_files_outside_the_workspace_are_unreachable(executor: Any, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    (executor.workspace.root / "link").symlink_to(outside)
    target = outside / "escaped.txt"
    attempts = [
        f"open({str(secret)!r}).read()",
        f"write_file({str(target)!r}, 'x')",
        "write_file('../../outside/escaped.txt', 'x')",
        "write_file('link/escaped.txt', 'x')",
        "write_file('cache/../../outside/escaped.txt', 'x')",
        f"write_file({str(target).replace('/', '//')!r}, 'x')",
        f"look_at({str(secret)!r})",
        "look_at('link/secret.txt')",
        f"inspect_splat({str(secret)!r})",
        "write_file.workspace.root.parent.joinpath('outside/escaped.txt').write_text('x')",
        "build_site.workspace",
    ]
    for code in attempts:
        result = _run(executor, code)
        assert "TOP-SECRET-CONTENT" not in result, code
        assert result.startswith("REFUSED"), (code, result[:300])
    assert not target.exists()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_ordinary_glue_code_still_runs(executor: Any) -> None:
    code = ("import json, math, unicodedata, statistics\n"
            "n = 3\n"
            "text = f'{n} splats, {math.pi:.2f}, {json.dumps([1])}'\n"
            "r = write_file('notes/ok.txt', text)\n"
            "s = statistics.mean([1, 2, 3])\n"
            "has = hasattr(r, 'upper') and getattr(r, 'upper')() != ''\n"
            "text")
    out = executor(code)
    assert out.output == "3 splats, 3.14, [1]"
    assert (executor.workspace.root / "notes" / "ok.txt").read_text() == "3 splats, 3.14, [1]"


def test_check_code_names_the_offending_line() -> None:
    with pytest.raises(Exception, match=r"line 2: .*private attribute '_token'"):
        check_code("x = 1\ny = x._token")
    with pytest.raises(Exception, match="use an f-string"):
        check_code("'{}'.format(1)")
    check_code("def _helper(s):\n    return s.lower()\n")  # private *names* are fine


def test_a_bare_sandbox_executor_refuses_numpy_file_io() -> None:
    ex = SandboxExecutor(list(AUTHORIZED_IMPORTS), timeout_seconds=None)
    ex.send_tools({})
    with pytest.raises(Exception, match="not allowed"):
        ex("import numpy as np\nnp.fromfile('/etc/hostname', dtype='uint8')")
