"""The terminal chat as a person meets it: the real CLI in a pseudo-terminal, and piped.

In a terminal: line editing (left arrow moves the cursor, it does not print ``^[[D``),
history (up-arrow recalls the previous line, also after a restart), Ctrl-C during a turn
stops it and leaves the gallery and the site byte for byte as before, and the chat goes on.
From a pipe: plain text only (no escape codes), short ids, every reply ends with where to
look, a build stays short.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from spacesmith.tools.standins import Standins, start_standins

SPACESMITH = str(Path(sys.executable).with_name("spacesmith"))
UP, LEFT = "\x1b[A", "\x1b[D"
PROMPT = "you>"  # prompt_toolkit draws the space after it as a cursor move
TWO = "build a gallery of Panthéon and Arc de Triomphe"
LATENCY_S = 2.0  # each Space call waits this long before it is queued: time to press Ctrl-C


def chat_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_TOKEN", "OPENAI"))}
    env.update(TERM="xterm", COLUMNS="100", LINES="40", NO_PROXY="127.0.0.1,localhost",
               GRADIO_ANALYTICS_ENABLED="False")
    return env


def spawn_chat(workspace: Path, *extra: str) -> pexpect.spawn:
    child = pexpect.spawn(SPACESMITH, ["chat", "--model", "offline", "-o", str(workspace),
                                       *extra],
                          env=chat_env(), encoding="utf-8", timeout=60,
                          dimensions=(40, 100))
    child.expect(PROMPT)
    return child


def quit_chat(child: pexpect.spawn) -> int:
    child.send("/quit\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return child.exitstatus


@pytest.fixture(scope="module")
def slow_spaces() -> Iterator[Standins]:
    with start_standins(faults=0.0, latency=LATENCY_S) as standins:
        yield standins


def test_line_editing_and_history(tmp_path: Path, agent_spaces: Standins) -> None:
    spaces = ["--image-space", agent_spaces.image_url, "--splat-space", agent_spaces.splat_url]
    child = spawn_chat(tmp_path / "ws", *spaces)
    # "/sttus", three steps left, "a": an editing prompt makes "/status" of it
    child.send("/sttus" + LEFT * 3 + "a\r")
    child.expect("subjects: none yet")
    child.expect(PROMPT)
    child.send(UP + "\r")  # the previous line again
    child.expect("subjects: none yet")
    child.expect(PROMPT)
    assert "^[[" not in (child.before or "")
    assert quit_chat(child) == 0
    history = (tmp_path / "ws" / "chat_history.txt").read_text("utf-8")
    assert "+/status" in history and "+/quit" in history  # a repeat is stored once

    again = spawn_chat(tmp_path / "ws", *spaces)  # a restart keeps the history
    again.send(UP + UP + "\r")  # before "/quit" came "/status"
    again.expect("subjects: none yet")
    again.expect(PROMPT)
    assert quit_chat(again) == 0


def test_ctrl_c_mid_turn_keeps_gallery_and_chat(tmp_path: Path, slow_spaces: Standins) -> None:
    ws = tmp_path / "ws"
    child = spawn_chat(ws, "--image-space", slow_spaces.image_url,
                       "--splat-space", slow_spaces.splat_url)
    child.send(TWO + "\r")
    child.expect(r"look: (http://127\.0\.0\.1:\d+/)", timeout=120)
    child.expect(PROMPT)
    gallery = (ws / "gallery.json").read_bytes()
    page = (ws / "site" / "index.html").read_bytes()
    session = (ws / "session.json").read_bytes()

    child.send("replace the Panthéon with the Louvre\r")
    child.expect("queued")  # a Space call of this turn is under way
    child.sendintr()
    child.expect("Cancelled", timeout=60)
    child.expect("look: ")
    child.expect(PROMPT)
    shown = child.before or ""
    assert "Bad file descriptor" not in shown
    assert (ws / "gallery.json").read_bytes() == gallery
    assert (ws / "site" / "index.html").read_bytes() == page
    assert (ws / "session.json").read_bytes() == session

    child.send("/status\r")  # the chat is alive, and the cancelled turn left no trace
    child.expect(r"turns: 1;")
    child.expect("subjects: Panthéon, Arc de Triomphe")
    child.expect(PROMPT)
    assert quit_chat(child) == 0


def test_piped_chat_is_plain_text(tmp_path: Path, agent_spaces: Standins) -> None:
    ws = tmp_path / "ws"
    stdin = f"/help\n{TWO}\nzoom out\n/nonsense \x1b[31mred\x1b[0m \xff\n"
    done = subprocess.run(
        [SPACESMITH, "chat", "--model", "offline", "-o", str(ws),
         "--image-space", agent_spaces.image_url, "--splat-space", agent_spaces.splat_url],
        input=stdin.encode("utf-8").replace(b"\xc3\xbf", b"\xff"),  # a byte that is not UTF-8
        capture_output=True, env=chat_env(), timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert "\x1b" not in out and "\x1b" not in err
    assert "Ctrl-C stops" in out  # /help
    assert "unknown command" in out
    looks = re.findall(r"^look: (\S+)", out, re.M)
    assert len(looks) == 4 and looks[0] == "nothing", looks
    assert all(u.startswith("http://127.0.0.1:") for u in looks[1:]), looks
    assert not re.search(r"[0-9a-f]{32}", out), "long hex ids shown"
    build = out.split(f"you> {TWO}", 1)[1].split("you> zoom out", 1)[0]
    assert len(build.strip().splitlines()) <= 25, build
    data = (ws / "gallery.json").read_text("utf-8")
    assert "Panthéon" in data and "Arc de Triomphe" in data
