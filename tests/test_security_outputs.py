"""Security of what a run leaves behind: no token anywhere in the workspace, logs or executor
state after an offline build and a chat turn; hostile titles cannot inject markup into the
site's index.html nor break the Space card's README.md front matter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.site.gallery import gallery_from_dict
from spacesmith.tools.site.render import build_site
from tests.corpus.files import valid_ply

CANARY = "hf_CANARYoutputs0c9e8d7f6a5b4"


def test_offline_build_and_chat_leave_no_token_anywhere(
        offline_settings: Settings, open_agent: Callable[..., Harness],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    from spacesmith.agent.chat.session import ChatSession

    monkeypatch.setenv("HF_TOKEN", CANARY)
    monkeypatch.setenv("SPACESMITH_DEBUG", "1")
    settings = offline_settings.with_(subjects=("Panthéon",))
    with caplog.at_level(logging.DEBUG):
        harness = open_agent(settings)
        assert harness.settings.token == CANARY  # the environment's token is in play
        outcome = harness.run(harness.task_for(settings.goal))
        assert outcome.success, outcome.output
        chat = ChatSession.open(harness)
        chat.send("make the transitions slower")
        chat.save()
        state = repr(harness.agent.python_executor.state)
        memory = repr(harness.agent.memory.steps)
    out, err = capsys.readouterr()
    workspace = harness.workspace.root
    files = [p for p in workspace.rglob("*") if p.is_file()]
    names = {p.relative_to(workspace).as_posix() for p in files}
    assert {"report.md", "report.json", "journal.jsonl", "site/index.html",
            "site/README.md"} <= names
    assert any(n.endswith("session.json") for n in names), sorted(names)
    assert any(n.startswith("cache/") for n in names), sorted(names)
    leaks = [p for p in files if CANARY.encode() in p.read_bytes()]
    assert leaks == []
    assert CANARY not in caplog.text + out + err
    assert CANARY not in state and CANARY not in memory


# --- the site -----------------------------------------------------------------------------

HOSTILE = [
    "<script>alert('t')</script>",
    "</script><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "&lt;b&gt;entity&lt;/b&gt; & <!-- comment -->",
    "title\n---\nsdk: docker\napp_port: 1\n---",
    "line\r\nbreak: yes",
    "quote \" and ' and `back` and \\ backslash",
    "colon: value # comment",
    "tab\there\u2028sep\u0085nel",
    "{{ 7*7 }} {% raw %}",
    "emoji 🏛️ ünïcödé",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def _site(tmp: Path, title: str, *, name: str = "Item", caption: str = "",
          description: str = "") -> Path:
    if not (tmp / "a.ply").exists():
        valid_ply(tmp / "a.ply")
    gallery = gallery_from_dict({"title": title, "description": description, "items": [
        {"name": name, "caption": caption, "splat": "a.ply"},
        {"name": name + " 2", "splat": "a.ply"}]}, base_dir=tmp)
    out = tmp / f"site-{abs(hash((title, name, caption, description)))}"
    build_site(gallery, out, npm=None)
    return out


@pytest.fixture(scope="module")
def benign(tmp_path_factory: pytest.TempPathFactory) -> _Tags:
    site = _site(tmp_path_factory.mktemp("benign"), "Plain title")
    return _tags((site / "index.html").read_text("utf-8"))


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_titles_inject_no_markup(tmp_path: Path, benign: _Tags, payload: str) -> None:
    site = _site(tmp_path, payload, name=payload, caption=payload, description=payload)
    html = (site / "index.html").read_text("utf-8")
    parsed = _tags(html)
    assert parsed.tags == benign.tags  # the same elements, whatever the text
    assert parsed.handlers == benign.handlers == []
    for raw in ("<script>alert", "<img src=x", "<svg", "</script><script>", "<!-- comment"):
        assert raw not in html
    data = json.loads((site / "gallery.json").read_text("utf-8")) if (
        site / "gallery.json").exists() else None
    if data is not None:
        assert data["title"] == payload


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_titles_cannot_break_the_space_card(tmp_path: Path, payload: str) -> None:
    site = _site(tmp_path, payload, name=payload, caption=payload, description=payload)
    text = (site / "README.md").read_text("utf-8")
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    card = yaml.safe_load(front)
    assert set(card) == {"title", "emoji", "colorFrom", "colorTo", "sdk", "app_file", "pinned",
                         "short_description", "tags"}
    assert card["sdk"] == "static" and card["app_file"] == "index.html"
    assert "app_port" not in card and isinstance(card["title"], str)
    if not any(c in payload for c in "\u2028\u0085\r"):  # YAML folds those line breaks
        assert card["title"] == payload
    assert "\n---" not in body  # no second front matter block or rule from the title
    assert "<script" not in body and "<img" not in body and "<svg" not in body


def test_front_matter_reader_agrees_with_huggingface_hub(tmp_path: Path) -> None:
    from huggingface_hub import SpaceCardData
    from huggingface_hub.repocard import RepoCard

    site = _site(tmp_path, HOSTILE[5], description=HOSTILE[0])
    card = RepoCard((site / "README.md").read_text("utf-8"))
    data: Any = card.data
    assert data.sdk == "static"
    assert data.title == HOSTILE[5]
    assert isinstance(SpaceCardData(**data.to_dict()), SpaceCardData)
