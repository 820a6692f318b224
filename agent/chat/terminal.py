"""The terminal chat: line editing and history on a terminal, plain lines from a pipe.

On a terminal (stdin and stdout both TTYs) input goes through prompt_toolkit, with line
editing and a history saved in the workspace (``chat_history.txt``; up-arrow recalls earlier
lines, across restarts). From a pipe each line is a message and nothing but text is printed.
Each turn shows one live display (``agent/chat/display.py``); Ctrl-C during a turn stops it
and leaves the gallery and site as they were, a second Ctrl-C stops it at once; Ctrl-C at
the prompt clears the line, Ctrl-D or ``/quit`` ends the chat. Every reply ends with where
to look: the live preview's URL.
"""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from spacesmith.agent.chat.display import TurnView
from spacesmith.agent.chat.live import LivePreview
from spacesmith.agent.chat.session import COMMANDS, ChatSession

HISTORY_FILE = "chat_history.txt"
HELP = """Say what you want, in your words, e.g.
  build a Paris monuments gallery · zoom out · make the transitions faster
  use a navy background · replace the Panthéon with the Louvre · remove the obelisk
  put the Louvre first · call it Paris by night
Commands:
  /help              this text
  /status            model, workspace, turns, Space calls, subjects
  /undo              put the gallery back as it was before the last turn
  /preview           the live preview's URL (it reloads itself after each turn)
  /deploy OWNER/NAME push the site to a static Space
  /quit              leave (Ctrl-D too); the session is saved after every turn
Ctrl-C stops a running turn and changes nothing."""

Reader = Callable[[str], str]
# What a pipe must never carry: C0/C1 control characters (escape sequences among them),
# whichever text they come in (a message echoed, a subject name, an answer).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class PlainText(io.TextIOBase):
    """A text stream that drops control characters before writing to ``target``."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.target.write(CONTROL.sub("", text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()


def make_console() -> Any:
    """A rich Console for the chat: live on a terminal; whole plain lines to a pipe."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(file=cast(IO[str], PlainText(sys.stdout)), highlight=False, soft_wrap=True,
                   force_terminal=False, no_color=True)


def terminal_reader(history: Path) -> Reader:
    """prompt_toolkit input with editing and a history file (stdin/stdout are terminals)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    # Cursor-position requests go unanswered by some terminals (and by test ptys) and
    # only size completion menus, which the chat has none of.
    os.environ.setdefault("PROMPT_TOOLKIT_NO_CPR", "1")
    history.parent.mkdir(parents=True, exist_ok=True)
    prompt: PromptSession[str] = PromptSession(history=FileHistory(str(history)))

    def read(text: str) -> str:
        return prompt.prompt(text)

    return read


def pipe_reader(stream: Any = None) -> Reader:
    """One message per line from a pipe; EOFError at its end. Never writes escape codes."""
    source = stream if stream is not None else sys.stdin

    def read(_text: str) -> str:
        line = source.readline()
        if not line:
            raise EOFError
        return str(line).rstrip("\r\n")

    return read


def choose_reader(workspace: Path) -> Reader:
    """The terminal reader when both ends are terminals, else the pipe reader."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return terminal_reader(workspace / HISTORY_FILE)
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:  # a stray byte that is not UTF-8 must not end the chat
        reconfigure(errors="replace")
    return pipe_reader()


@contextmanager
def ctrl_c_cancels(session: ChatSession, view: TurnView) -> Iterator[None]:
    """During a turn the first Ctrl-C cancels it, a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    presses = [0]

    def on_sigint(signum: int, frame: Any) -> None:
        presses[0] += 1
        if presses[0] > 1:
            raise KeyboardInterrupt
        view.notes.append("stopping… (Ctrl-C again to stop at once)")
        session.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def chat_loop(session: ChatSession, console: Any, read: Reader, *,
              preview: LivePreview | None = None, echo: bool = False) -> int:
    """Read messages until /quit or end of input and answer each.

    Args:
        session: the chat session.
        console: a rich Console (its ``is_terminal`` chooses live or plain output).
        read: returns the next line; EOFError ends the chat, KeyboardInterrupt clears it.
        preview: the live preview (None: no preview server).
        echo: print each message read (piped input, so a transcript reads as a dialogue).

    Returns:
        The exit code (0).
    """
    ws = session.harness.workspace
    console.print(f"spacesmith chat · {session.harness.model_label} · {ws.root}\n"
                  f"/help for what you can say; Ctrl-D or /quit leaves", markup=False,
                  highlight=False)
    if session.turns:
        console.print(f"resumed: {len(session.turns)} earlier turn(s), last: "
                      f"{session.turns[-1]['message']!r}", markup=False, highlight=False)
        _look(console, preview)
    while True:
        try:
            message = read("you> ").strip()
        except EOFError:
            return 0
        except KeyboardInterrupt:
            continue
        if not message:
            continue
        if echo:
            console.print(f"you> {message}", markup=False, highlight=False)
        if message in ("/quit", "/exit"):
            return 0
        _answer(session, console, message, preview)


def _answer(session: ChatSession, console: Any, message: str,
            preview: LivePreview | None) -> None:
    """One message: a command, or a turn; then where to look."""
    command = message.split()[0].lower() if message.startswith("/") else ""
    if command == "/help":
        console.print(HELP, markup=False, highlight=False)
    elif command == "/status":
        console.print(session.status(), markup=False, highlight=False)
    elif command == "/undo":
        console.print(session.undo(), markup=False, highlight=False)
    elif command == "/preview":
        if preview is not None and preview.refresh() is None and preview.error:
            console.print(f"no preview: {preview.error}", markup=False, highlight=False)
    elif command == "/deploy":
        target = (message[len("/deploy"):].strip() or session.harness.settings.deploy_space)
        if not target:
            console.print("usage: /deploy OWNER/NAME", markup=False, highlight=False)
        else:
            _turn(session, console, f"deploy to {target}")
    elif command:
        console.print(f"unknown command; known: {' '.join(COMMANDS)}", markup=False,
                      highlight=False)
    else:
        _turn(session, console, message)
    _look(console, preview)


def _turn(session: ChatSession, console: Any, message: str) -> None:
    from spacesmith.tools.errors import SpacesmithError

    view = TurnView(console)
    session.hooks.view = view
    try:
        with ctrl_c_cancels(session, view), view:
            outcome = session.send(message)
    except SpacesmithError as exc:
        console.print(f"Error: {exc}", markup=False, highlight=False)
        return
    finally:
        session.hooks.view = None
    console.print(view.summary(), style="dim", markup=False, highlight=False)
    colour = "green" if outcome.success else ("yellow" if outcome.state == "cancelled" else "red")
    console.print(outcome.output, style=colour, markup=False, highlight=False)


def _look(console: Any, preview: LivePreview | None) -> None:
    """The line every reply ends with: where to look."""
    if preview is None:
        return
    url = preview.refresh()
    if url is not None:
        console.print(f"look: {url}", markup=False, highlight=False)
    elif preview.error:
        console.print(f"no live preview: {preview.error}", markup=False, highlight=False)
    else:
        console.print("look: nothing built yet (describe a gallery to build one)",
                      markup=False, highlight=False)
