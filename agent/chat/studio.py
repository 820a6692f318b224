"""``spacesmith studio``: the chat in a browser, with the live gallery beside it.

A Gradio app: on the left the conversation, the chat box (an ordinary textbox, ``#chat-input``;
typing and Enter sends), the Space-call progress of the running turn and the Undo, Stop and
Deploy buttons; on the right the gallery, an iframe of the session's live preview server
(``tools/site/preview.py``), which reloads itself when a turn changes the site.

Each browser gets its own agent session (harness, workspace, ``session.json``), opened when
its page loads and closed when no page of that browser is open any more. A browser is known
by an id the page keeps in ``localStorage``, so reloading the page finds the same session.
The first takes the workspace named by ``-o``/``--session``, so a restarted studio resumes
it like ``spacesmith chat``; a second browser open at the same time gets
``<workspace>-2``, and so on.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gradio as gr  # at module level: handlers name gr.Request, which Gradio must resolve

from spacesmith.agent.chat.display import TurnView
from spacesmith.agent.chat.live import LivePreview
from spacesmith.agent.chat.session import ChatSession

Message = dict[str, str]
PROGRESS_POLL_S = 0.4
FRAME_STYLE = "width:100%;height:72vh;border:0;border-radius:8px;background:#111"
# The browser's id: kept in localStorage, so a reload finds the same agent session.
BROWSER_ID_JS = """(known) => {
  const name = "spacesmith-studio-browser";
  let id = null;
  try { id = localStorage.getItem(name); } catch (e) { return known || ""; }
  if (!id) {
    id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    try { localStorage.setItem(name, id); } catch (e) { /* private mode: per page */ }
  }
  return id;
}"""


class Harnesses(Protocol):
    """Opens a harness on a workspace (the CLI's ``open_harness`` with the studio's settings)."""

    def __call__(self, workspace: Path) -> Any: ...


@dataclass
class StudioSession:
    """One browser session's chat and live preview."""

    chat: ChatSession
    preview: LivePreview
    workspace: Path

    def close(self) -> None:
        self.preview.close()
        self.chat.harness.close()


@dataclass
class SessionPool:
    """Browser sessions → agent sessions; workspaces handed out one per open session.

    Args:
        workspace: the first session's workspace (later ones add ``-2``, ``-3``…).
        open_harness: builds a harness on a workspace.
        preview_port: the first session's preview port (0: any free port).
    """

    workspace: Path
    open_harness: Harnesses
    preview_port: int = 0
    sessions: dict[str, StudioSession] = field(default_factory=dict)
    pages: dict[str, set[str]] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str, page: str | None = None) -> StudioSession:
        """The session of browser ``key`` (opened on first use), held by ``page``.

        A page that spoke before it knew its browser's id (``key == page``) keeps the
        session it got, and that session becomes its browser's when the id arrives.
        """
        page = page or key
        with self._lock:
            known = self.owner.get(page)
            if key == page and known is not None:
                key = known  # the page's browser is known: its session
            elif known == page and key != page and key not in self.sessions \
                    and page in self.sessions:
                self.sessions[key] = self.sessions.pop(page)  # adopt the anonymous session
                self.pages[key] = self.pages.pop(page, set())
            self.owner[page] = key
            self.pages.setdefault(key, set()).add(page)
            if key in self.sessions:
                return self.sessions[key]
            taken = {s.workspace for s in self.sessions.values()}
            n = 1
            workspace = self.workspace
            while workspace in taken:
                n += 1
                workspace = self.workspace.with_name(f"{self.workspace.name}-{n}")
            harness = self.open_harness(workspace)
            try:
                chat = ChatSession.open(harness)
            except BaseException:
                harness.close()
                raise
            port = self.preview_port if n == 1 else 0
            session = StudioSession(chat, LivePreview(harness.workspace.site_dir, port),
                                    workspace)
            self.sessions[key] = session
            return session

    def release(self, page: str) -> None:
        """A page went away: close the sessions no open page holds any more."""
        closing: list[StudioSession] = []
        with self._lock:
            self.owner.pop(page, None)
            for key, pages in list(self.pages.items()):
                pages.discard(page)
                if not pages:
                    del self.pages[key]
                    if key in self.sessions:
                        closing.append(self.sessions.pop(key))
        for session in closing:
            session.chat.cancel()
            session.close()

    def close(self) -> None:
        with self._lock:
            closing = list(self.sessions.values())
            self.sessions.clear()
            self.pages.clear()
            self.owner.clear()
        for session in closing:
            session.close()


def gallery_html(url: str | None) -> str:
    """The right-hand panel: the live gallery, or a note before the first build."""
    if url is None:
        return ('<div id="gallery-empty" style="padding:2em;opacity:.7">No gallery yet: '
                'describe one in the chat box, e.g. “build a Paris monuments gallery”.</div>')
    src = html.escape(url, quote=True)
    return (f'<iframe id="gallery-frame" src="{src}" style="{FRAME_STYLE}" '
            f'title="the gallery" allow="fullscreen"></iframe>'
            f'<p style="opacity:.7">open it on its own: '
            f'<a href="{src}" target="_blank">{src}</a></p>')


def history_of(chat: ChatSession) -> list[Message]:
    """A resumed session's turns as chat messages."""
    messages: list[Message] = []
    for turn in chat.turns:
        messages.append({"role": "user", "content": str(turn.get("message", ""))})
        messages.append({"role": "assistant", "content": str(turn.get("output", ""))})
    return messages


def run_turn(session: StudioSession, message: str, history: list[Message],
             send: Callable[[ChatSession, str], Any] | None = None
             ) -> Iterator[tuple[list[Message], str, str | None]]:
    """Run one turn in a worker thread, yielding (history, progress text, gallery panel).

    The panel is None while the turn runs (unchanged: the frame reloads itself) and the
    gallery's HTML at the end.
    """
    chat = session.chat
    history = [*history, {"role": "user", "content": message}]
    if chat.busy:
        yield ([*history, {"role": "assistant", "content": "A turn is running; wait for it "
                           "or press Stop."}], "", gallery_html(session.preview.url))
        return
    view = TurnView(None)
    result: dict[str, Any] = {}

    def work() -> None:
        chat.hooks.view = view
        try:
            result["outcome"] = (send or ChatSession.send)(chat, message)
        except Exception as exc:  # shown in the conversation, one line
            result["error"] = f"Error: {exc}"
        finally:
            chat.hooks.view = None

    worker = threading.Thread(target=work, name="spacesmith-studio-turn", daemon=True)
    worker.start()
    while worker.is_alive():
        yield history, "\n".join(view.lines()), None
        worker.join(PROGRESS_POLL_S)
    outcome = result.get("outcome")
    reply = result.get("error") or (outcome.output if outcome is not None else "")
    url = session.preview.refresh()
    where = f"\n\nlook: {url}" if url else ""
    history = [*history, {"role": "assistant", "content": f"{reply}{where}"}]
    yield history, view.summary(), gallery_html(url)


def build_app(pool: SessionPool, *, title: str = "spacesmith studio") -> Any:
    """The Gradio Blocks app over ``pool``."""

    def get(browser: str, request: gr.Request) -> StudioSession:
        page = str(request.session_hash)
        return pool.get((browser or "").strip()[:80] or page, page)

    def on_load(browser: str, request: gr.Request
                ) -> tuple[list[Message], str, str, str]:
        session = get(browser, request)
        url = session.preview.refresh()
        ws = session.chat.harness.workspace.root
        return history_of(session.chat), f"workspace: {ws}", gallery_html(url), browser

    def on_send(message: str, history: list[Message], browser: str, request: gr.Request
                ) -> Iterator[tuple[list[Message], str, str, Any]]:
        text = (message or "").strip()
        session = get(browser, request)
        if not text:
            yield history, "", "Type what you want, then Enter.", gallery_html(session.preview.url)
            return
        for shown, progress, panel in run_turn(session, text, history):
            yield shown, "", progress, gr.skip() if panel is None else panel

    def on_undo(history: list[Message], browser: str, request: gr.Request
                ) -> tuple[list[Message], str, str]:
        session = get(browser, request)
        if session.chat.busy:
            return history, "A turn is running; press Stop first.", gallery_html(
                session.preview.url)
        said = session.chat.undo()
        url = session.preview.refresh()
        return ([*history, {"role": "assistant", "content": said}], said, gallery_html(url))

    def on_stop(browser: str, request: gr.Request) -> str:
        session = get(browser, request)
        if not session.chat.busy:
            return "Nothing is running."
        session.chat.cancel()
        return "Stopping: the gallery stays as it was before this turn."

    def on_deploy(target: str, history: list[Message], browser: str, request: gr.Request
                  ) -> Iterator[tuple[list[Message], str, Any]]:
        session = get(browser, request)
        space = (target or "").strip() or session.chat.harness.settings.deploy_space
        if not space:
            yield history, "Name the Space to deploy to: OWNER/NAME.", gallery_html(
                session.preview.url)
            return
        for shown, progress, panel in run_turn(session, f"deploy to {space}", history):
            yield shown, progress, gr.skip() if panel is None else panel

    def on_unload(request: gr.Request) -> None:
        pool.release(str(request.session_hash))

    with gr.Blocks(title=title) as app:
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                gr.Markdown(f"### {html.escape(title)}")
                chatbot = gr.Chatbot(elem_id="conversation", height=420, label="conversation")
                box = gr.Textbox(elem_id="chat-input", label="Message", lines=1, max_lines=4,
                                 placeholder="e.g. build a Paris monuments gallery · zoom out",
                                 autofocus=True, submit_btn=False)
                progress = gr.Textbox(elem_id="progress", label="Space calls", lines=6,
                                      max_lines=14, interactive=False)
                with gr.Row():
                    undo = gr.Button("Undo", elem_id="undo")
                    stop = gr.Button("Stop", elem_id="stop", variant="stop")
                with gr.Row():
                    target = gr.Textbox(elem_id="deploy-target", label="Deploy to",
                                        placeholder="OWNER/NAME", scale=3)
                    deploy = gr.Button("Deploy", elem_id="deploy", scale=1)
            with gr.Column(scale=3):
                panel = gr.HTML(gallery_html(None), elem_id="gallery")
        browser = gr.Textbox(visible=False, elem_id="browser-id")
        app.load(on_load, [browser], [chatbot, progress, panel, browser], js=BROWSER_ID_JS)
        box.submit(on_send, [box, chatbot, browser], [chatbot, box, progress, panel],
                   concurrency_limit=None)
        undo.click(on_undo, [chatbot, browser], [chatbot, progress, panel],
                   concurrency_limit=None)
        stop.click(on_stop, [browser], [progress], concurrency_limit=None, queue=False)
        deploy.click(on_deploy, [target, chatbot, browser], [chatbot, progress, panel],
                     concurrency_limit=None)
        app.unload(on_unload)
    return app


def launch(pool: SessionPool, *, port: int, host: str = "127.0.0.1") -> Any:
    """Build the app and serve it on ``host:port`` in the background; returns the app.

    Raises:
        SiteError: the port cannot be bound.
    """
    from spacesmith.tools.errors import SiteError

    app = build_app(pool)
    # system fonts: the default theme would fetch web fonts from the internet
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
    try:
        app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                   ssr_mode=False, theme=theme, footer_links=[], show_error=True)
    except OSError as exc:
        raise SiteError(f"cannot listen on {host}:{port}: {exc}",
                        hint="pick another --port") from exc
    return app
