"""The OS jail on its own: deliberately unrestricted Python (sockets, writes, programs,
other processes' secrets) run inside the jail wrapper must fail at the OS level.

No Python-level checks are involved: the code is plain ``python -c`` that confines itself
with :func:`spacesmith.agent.executor.jail.confine`, exactly as the agent-code process does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from spacesmith.agent.executor.jail import Confinement, landlock_abi, seccomp_program
from spacesmith.agent.executor.process import child_environment, readable_paths

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the OS jail is Linux-only")

ATTACKS = {
    "tcp socket": "s = socket.socket(); s.connect(('127.0.0.1', PORT))",
    "unix socket": "socket.socket(socket.AF_UNIX)",
    "udp socket": "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
    "write /etc": "open('/etc/spacesmith-jail-test', 'w').write('x')",
    "write tmp": "open(OUTSIDE + '/escaped.txt', 'w').write('x')",
    "mkdir": "os.mkdir(OUTSIDE + '/newdir')",
    "remove": "os.remove(OUTSIDE + '/keep.txt')",
    "read secret": "open(OUTSIDE + '/keep.txt').read()",
    "own environ": "open('/proc/self/environ', 'rb').read()",
    "parent environ": "open(f'/proc/{os.getppid()}/environ', 'rb').read()",
    "token file": "open(os.path.expanduser('~/.cache/huggingface/token')).read()",
    "os.system": "rc = os.system('touch ' + OUTSIDE + '/by-shell'); assert rc == 0, rc",
    "subprocess": "subprocess.run(['/bin/true'], check=True)",
    "fork": "os.fork()",
    "execv": "os.execv('/bin/true', ['/bin/true'])",
    "signal parent": "os.kill(os.getppid(), 0)",
    "raise limits": "resource.setrlimit(resource.RLIMIT_AS, (-1, -1))",
    "parent memory": "open(f'/proc/{os.getppid()}/mem', 'rb')",
}

SCRIPT = """
import json, os, resource, socket, subprocess, sys
sys.path[:0] = PATHS
from spacesmith.agent.executor.jail import confine
result = {"confinement": confine(READABLE).to_json(), "attacks": {}}
for name, code in ATTACKS.items():
    try:
        exec(code, {"os": os, "socket": socket, "subprocess": subprocess,
                    "resource": resource, "PORT": PORT, "OUTSIDE": OUTSIDE})
        result["attacks"][name] = "ALLOWED"
    except BaseException as exc:
        result["attacks"][name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(result))
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    yield server
    server.close()


def _run_jailed(outside: Path, port: int) -> dict[str, object]:
    script = (f"PATHS = {sys.path!r}\nREADABLE = {readable_paths()!r}\n"
              f"ATTACKS = {ATTACKS!r}\nPORT = {port}\nOUTSIDE = {str(outside)!r}\n"
              + textwrap.dedent(SCRIPT))
    env = {**child_environment(), "HF_TOKEN": "hf_CANARYjail000000000000000000"}
    done = subprocess.run([sys.executable, "-I", "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_unrestricted_python_fails_inside_the_jail(tmp_path: Path,
                                                   listener: socket.socket) -> None:
    if landlock_abi() < 4:
        pytest.skip("this kernel has no landlock with network rules (ABI >= 4)")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("TOP-SECRET")
    found = _run_jailed(outside, listener.getsockname()[1])
    confinement = Confinement.from_json(found["confinement"])
    assert confinement.landlock_abi >= 4 and confinement.seccomp, confinement.describe()
    attacks = found["attacks"]
    assert isinstance(attacks, dict)
    allowed = sorted(name for name, outcome in attacks.items() if outcome == "ALLOWED")
    assert allowed == [], attacks
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "TOP-SECRET"
    assert not Path("/etc/spacesmith-jail-test").exists()
    with pytest.raises(socket.timeout):
        listener.accept()  # nobody connected


def test_the_same_attacks_succeed_without_the_jail(tmp_path: Path) -> None:
    """The control: the attacks above are real (they work when nothing confines them)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    code = ("import os, socket\nsocket.socket().close()\n"
            f"open({str(outside / 'escaped.txt')!r}, 'w').write('x')\n"
            f"assert os.system('touch {outside}/by-shell') == 0\n")
    subprocess.run([sys.executable, "-I", "-c", code], check=True, timeout=60)
    assert {"escaped.txt", "by-shell"} <= {p.name for p in outside.iterdir()}


def test_confinement_is_described_for_the_report() -> None:
    assert "landlock ABI 6" in Confinement(6, True).describe()
    assert "seccomp" in Confinement(6, True).describe()
    off = Confinement(0, False, ("the kernel offers no landlock",))
    assert not off.active and off.describe().startswith("none (the kernel offers no landlock)")
    assert Confinement.from_json({"landlock_abi": "x", "seccomp": 1}) == Confinement(0, False)


def test_seccomp_filter_is_well_formed() -> None:
    program = seccomp_program()
    assert all(len(instruction) == 8 for instruction in program)
    assert 20 < len(program) < 256  # BPF jumps are 8-bit: the filter must stay small
    assert os.environ.get("HF_TOKEN") is None
