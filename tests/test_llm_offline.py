"""An offline run with a local ``api_base`` contacts no host but the named ones.

The run happens in a child process (the offline switches are process-wide) whose every
socket connection and name lookup is recorded by an audit hook, below any HTTP library:
the model server and the stand-in Spaces are on 127.0.0.1, so nothing else may appear.
Neither client path may fetch anything from huggingface.co.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.llm_server import ChatServer
from tests.test_llm_http import planner_script

RECORDER = """
import json, sys
seen = []
def hook(event, args):
    if event == "socket.connect":
        address = args[1]
        seen.append(address[0] if isinstance(address, tuple) else str(address))
    elif event == "socket.getaddrinfo":
        seen.append(str(args[0]))
sys.addaudithook(hook)
from spacesmith.agent.cli.main import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(seen, out)
sys.exit(code)
"""
LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@pytest.mark.parametrize("client", ["openai", "hub"])
def test_an_offline_run_contacts_only_the_named_hosts(
        tmp_path: Path, chat_server: Callable[..., ChatServer], client: str) -> None:
    if client == "openai":
        pytest.importorskip("openai")
    server = chat_server(planner_script())
    goal = tmp_path / "goal.toml"
    goal.write_text(f'goal = "build a Paris monuments gallery"\nsubjects = ["Panthéon"]\n'
                    f'model = "test-model"\napi_base = "{server.url}"\noffline = true\n'
                    f'output = "run"\n[limits]\nmax_steps = 8\nmodel_timeout = 30\n',
                    encoding="utf-8")
    record = tmp_path / "hosts.json"
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK")}
    env["SPACESMITH_LLM_CLIENT"] = client
    proc = subprocess.run([sys.executable, "-c", RECORDER, str(record), "run", str(goal),
                           "--json"], capture_output=True, text=True, timeout=240, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["success"] is True
    hosts = set(json.loads(record.read_text()))
    assert hosts, "the recorder saw no connection at all"
    others = {h for h in hosts if h not in LOCAL and not h.startswith("/")}
    assert not others, f"an offline run contacted {sorted(others)}"
    assert server.requests
