"""Turn semantics on the default Paris gallery, with the offline planner and the stand-ins.

One chat builds the six-monument gallery once; every phrasing below is then sent as one
turn, its effect on gallery.json and its Space calls are checked, and the turn is undone —
which must put gallery.json and every file of the site back byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from smolagents.models import ChatMessage, MessageRole, Model
from smolagents.monitoring import TokenUsage

from spacesmith.agent.chat.session import ChatSession
from spacesmith.agent.chat.turns import fingerprint
from spacesmith.agent.planner.vocabulary import THEMES, is_thin
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.standins import Standins

Gallery = dict[str, Any]
SIX = list(THEMES["paris"][1][:6])


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory,
          agent_spaces: Standins) -> Iterator[ChatSession]:
    """A chat whose first turn built the default Paris gallery (12 Space calls)."""
    from spacesmith.agent.runs.runner import open_harness

    with pytest.MonkeyPatch.context() as mp:
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "SPACESMITH_MODEL"):
            mp.delenv(name, raising=False)
        settings = Settings(goal="chat", output=tmp_path_factory.mktemp("paris") / "run",
                            model="offline", image_space=agent_spaces.image_url,
                            splat_space=agent_spaces.splat_url, max_steps=8,
                            num_gaussians="8192")
        harness = open_harness(settings)
    try:
        chat = ChatSession.open(harness)
        first = chat.send("build a Paris monuments gallery")
        assert first.success, first.output
        assert [it["name"] for it in gallery(chat)["items"]] == SIX
        assert harness.session.calls_made == 12
        yield chat
    finally:
        harness.close()


def gallery(chat: ChatSession) -> Gallery:
    data: Gallery = json.loads(chat.harness.workspace.gallery_json.read_text("utf-8"))
    return data


def names(g: Gallery) -> list[str]:
    return [it["name"] for it in g["items"]]


def zoom(g: Gallery, name: str) -> float:
    return float(next(it for it in g["items"] if it["name"] == name).get("zoom", 1.0))


def viewer(g: Gallery, key: str, default: float | str) -> Any:
    return g.get("viewer", {}).get(key, default)


Check = Callable[[Gallery, Gallery], bool]

EDITS: list[tuple[str, int, Check]] = [
    ("make it zoomed out", 0, lambda b, a: all(zoom(a, n) > zoom(b, n) for n in SIX)),
    ("zoom out", 0, lambda b, a: all(zoom(a, n) == 1.25 for n in SIX)),
    ("zoom out a bit", 0, lambda b, a: all(1 < zoom(a, n) < 1.25 for n in SIX)),
    ("Zoom out a LOT!", 0, lambda b, a: all(zoom(a, n) > 1.25 for n in SIX)),
    ("please zoom in a bit", 0, lambda b, a: all(0.8 < zoom(a, n) < 1 for n in SIX)),
    ("zoom in on the Eiffel Tower", 0,
     lambda b, a: zoom(a, "Eiffel Tower") < 1 and all(zoom(a, n) == 1 for n in SIX
                                                       if n != "Eiffel Tower")),
    ("the Eiffel Tower looks too small", 0,
     lambda b, a: zoom(a, "Eiffel Tower") < 1 and zoom(a, "Panthéon") == 1),
    ("make the arc de triomphe bigger", 0,
     lambda b, a: zoom(a, "Arc de Triomphe") < 1 and zoom(a, "Panthéon") == 1),
    ("the Sacre Coeur is way too big", 0,
     lambda b, a: zoom(a, "Sacré-Cœur") > 1.25 and zoom(a, "Panthéon") == 1),
    ("ZOOM IN ON THE NOTRE DAME", 0,
     lambda b, a: zoom(a, "Notre-Dame de Paris") < 1 and zoom(a, "Panthéon") == 1),
    ("make the transitions faster", 0,
     lambda b, a: viewer(a, "transition_s", 0) < viewer(b, "transition_s", 0)),
    ("the transition lingers too long", 0,
     lambda b, a: viewer(a, "transition_s", 0) < viewer(b, "transition_s", 0)),
    ("the fade feels too abrupt", 0,
     lambda b, a: viewer(a, "transition_s", 0) > viewer(b, "transition_s", 0)),
    ("make it spin slower", 0,
     lambda b, a: viewer(a, "auto_rotate_speed", 0.6) < 0.6
     and viewer(a, "transition_s", 0) == viewer(b, "transition_s", 0)),
    ("stop the rotation", 0, lambda b, a: viewer(a, "auto_rotate_speed", 0.6) == 0),
    ("use a navy background", 0, lambda b, a: viewer(a, "background", "") == "#0b1a33"),
    ("make the background like the night sky", 0,
     lambda b, a: viewer(a, "background", "") == "#0b1026"),
    ("Could you make the background a bit lighter, please?", 0,
     lambda b, a: viewer(a, "background", "") not in ("", "#000000")),
    ("warm background", 0, lambda b, a: viewer(a, "background", "") == "#2b1d14"),
    ("call it Paris by night", 0, lambda b, a: a["title"] == "Paris by night"),
    ('rename the gallery to "Paris en 3D"', 0, lambda b, a: a["title"] == "Paris en 3D"),
    ("replace the Panthéon with the Louvre", 2,
     lambda b, a: names(a) == [n if n != "Panthéon" else "Louvre" for n in SIX]),
    ("remove the obelisk", 0, lambda b, a: names(a) == [n for n in SIX if "Obelisk" not in n]),
    ("replace the obelisk with something better for splatting", 2,
     lambda b, a: len(names(a)) == 6 and "Luxor Obelisk" not in names(a)
     and not is_thin(names(a)[5]) and names(a)[5] not in SIX),
    ("put the Notre-Dame first", 0, lambda b, a: names(a)[0] == "Notre-Dame de Paris"),
    ("move the pantheon to the end", 0, lambda b, a: names(a)[-1] == "Panthéon"),
    ("swap the Panthéon and the Eiffel Tower", 0,
     lambda b, a: names(a)[SIX.index("Eiffel Tower")] == "Panthéon"
     and names(a)[SIX.index("Panthéon")] == "Eiffel Tower"),
    ("add the Louvre", 2, lambda b, a: names(a) == [*SIX, "Louvre"]),
    ("get rid of the tower", 0, lambda b, a: "Eiffel Tower" not in names(a)
     and len(names(a)) == 5),
    ("zoom out and use a navy background", 0,
     lambda b, a: zoom(a, "Panthéon") > 1 and viewer(a, "background", "") == "#0b1a33"),
    ("sort them alphabetically", 0, lambda b, a: names(a) == sorted(SIX, key=lambda n: n[0])),
    ("instead of the obelisk, use the Madeleine Church", 2,
     lambda b, a: names(a)[5] == "Madeleine Church"),
    ("I don't want the obelisk anymore", 0, lambda b, a: "Luxor Obelisk" not in names(a)),
    ("rename the Panthéon to Pantheon", 0, lambda b, a: "Pantheon" in names(a)
     and "Panthéon" not in names(a)),
    ("put the obelisk second", 0, lambda b, a: names(a)[1] == "Luxor Obelisk"),
    ("move the Sacré-Cœur before the arc", 0, lambda b, a: names(a)[0] == "Sacré-Cœur"),
    ("swap the obelisk with the Panthéon", 0,
     lambda b, a: sorted(names(a)) == sorted(SIX) and names(a)[5] == "Panthéon"),
    ("add another monument", 2, lambda b, a: len(names(a)) == 7 and not is_thin(names(a)[6])),
    ("go warmer", 0, lambda b, a: viewer(a, "background", "") != "#000000"),
    ("reverse the order", 0, lambda b, a: names(a) == SIX[::-1]),
    ("The arc looks too far away, zoom in on it", 0,
     lambda b, a: zoom(a, "Arc de Triomphe") == 0.8 and zoom(a, "Panthéon") == 1),
    ("set the transitions to 2 seconds", 0, lambda b, a: viewer(a, "transition_s", 0) == 2.0),
    ("the obelisk looks bad, replace it with something that splats better", 2,
     lambda b, a: "Luxor Obelisk" not in names(a) and len(names(a)) == 6),
    ("make a navy background for the gallery", 0,
     lambda b, a: viewer(a, "background", "") == "#0b1a33" and names(a) == SIX),
    ("hey, could you please make the transitions a bit quicker? thanks", 0,
     lambda b, a: viewer(b, "transition_s", 0) * 0.6 < viewer(a, "transition_s", 0)
     < viewer(b, "transition_s", 0)),
]


@pytest.mark.parametrize(("message", "calls", "check"), EDITS, ids=[m for m, _, _ in EDITS])
def test_an_edit_does_what_it_says_and_undo_restores_it(paris: ChatSession, message: str,
                                                        calls: int, check: Check) -> None:
    ws = paris.harness.workspace
    base_json = ws.gallery_json.read_bytes()
    base_site = fingerprint(ws.gallery_json, ws.site_dir)
    session = paris.harness.session
    before, made = gallery(paris), session.calls_made + session.calls_cached
    try:
        outcome = paris.send(message)
        assert outcome.success, outcome.output
        after = gallery(paris)
        assert check(before, after), (message, after)
        assert session.calls_made + session.calls_cached - made == calls
    finally:
        assert paris.send("undo that").output.startswith("Undid")
    assert ws.gallery_json.read_bytes() == base_json
    assert fingerprint(ws.gallery_json, ws.site_dir) == base_site


UNCHANGED = [
    "asdf", "can you make the captions shorter?", "don't zoom", "remove the Colosseum",
    "make the Eiffel Tower red", "hmm", "what can you do?", "Rome",
    "make the captions shorter and zoom out", "replace the tower with the Arc de Triomphe",
    "pitch black background", "thanks!", "zoom in on the Statue of Liberty",
    "the tower", "undo the colour, no wait", "a bit darker", "ok, thanks!", "deploy",
    "never mind", "make a new gallery", "build a gallery of four famous dinosaurs",
]


@pytest.mark.parametrize("message", UNCHANGED)
def test_what_is_not_understood_changes_nothing_and_calls_no_space(paris: ChatSession,
                                                                   message: str) -> None:
    ws = paris.harness.workspace
    base_json = ws.gallery_json.read_bytes()
    base_site = fingerprint(ws.gallery_json, ws.site_dir)
    journal = ws.root / "journal.jsonl"
    lines = journal.read_text("utf-8").count("\n")
    made = paris.harness.session.calls_made
    outcome = paris.send(message)
    assert not outcome.success
    assert outcome.output.startswith(("Not understood", "Nothing changed")), outcome.output
    assert len(outcome.output.splitlines()) == 1
    assert paris.harness.session.calls_made == made
    assert journal.read_text("utf-8").count("\n") == lines, "no Space call was journaled"
    assert ws.gallery_json.read_bytes() == base_json
    assert fingerprint(ws.gallery_json, ws.site_dir) == base_site
    assert paris.turns[-1]["changed"] is False


def test_undo_skips_turns_that_changed_nothing(paris: ChatSession) -> None:
    ws = paris.harness.workspace
    base_json = ws.gallery_json.read_bytes()
    assert paris.send("call it Nuit").success
    titled = ws.gallery_json.read_bytes()
    assert not paris.send("asdf").success
    assert paris.undo().startswith("Undid: call it Nuit")
    assert ws.gallery_json.read_bytes() == base_json != titled


def test_a_new_gallery_only_when_asked_and_undo_brings_the_old_one_back(
        paris: ChatSession) -> None:
    ws = paris.harness.workspace
    base_json = ws.gallery_json.read_bytes()
    base_site = fingerprint(ws.gallery_json, ws.site_dir)
    outcome = paris.send("build a Rome gallery with the Colosseum and the Pantheon")
    assert outcome.success, outcome.output
    assert names(gallery(paris)) == ["Colosseum", "Pantheon"]
    assert gallery(paris)["title"] == "Monuments of Rome"
    assert paris.send("revert").output.startswith("Undid")
    assert ws.gallery_json.read_bytes() == base_json
    assert fingerprint(ws.gallery_json, ws.site_dir) == base_site


def test_the_readme_examples_in_order(paris: ChatSession) -> None:
    """The README's chat examples, one after the other, on the default gallery."""
    steps = ["zoom out", "make the transitions faster", "use a navy background",
             "replace the Panthéon with the Louvre", "remove the obelisk",
             "put the Louvre first", "call it Paris by night"]
    start = len(paris.turns)
    for message in steps:
        outcome = paris.send(message)
        assert outcome.success, (message, outcome.output)
    final = gallery(paris)
    assert final["title"] == "Paris by night"
    assert names(final) == ["Louvre", "Arc de Triomphe", "Eiffel Tower", "Notre-Dame de Paris",
                            "Sacré-Cœur"]
    assert viewer(final, "background", "") == "#0b1a33"
    assert all(it["zoom"] == 1.25 for it in final["items"])
    for _ in steps:
        assert paris.undo().startswith("Undid")
    assert len(paris.turns) == start
    assert names(gallery(paris)) == SIX


def test_edits_before_any_gallery_say_so(tmp_path: Path, offline_settings: Settings,
                                         open_agent: Callable[..., Any]) -> None:
    chat = ChatSession.open(open_agent(offline_settings.with_(subjects=())))
    outcome = chat.send("zoom out")
    assert not outcome.success and "no gallery yet" in outcome.output
    outcome = chat.send("asdf")
    assert not outcome.success and "list the subjects" in outcome.output
    assert chat.harness.session.calls_made == 0
    assert not chat.harness.workspace.gallery_json.exists()
    assert chat.undo() == "Nothing to undo."


class ClaimingModel(Model):  # type: ignore[misc]
    """An LLM that answers every turn "Zoomed out!" without changing anything."""

    def __init__(self) -> None:
        super().__init__(model_id="claims")
        self.tasks: list[str] = []

    def generate(self, messages: list[Any], stop_sequences: list[str] | None = None,  # type: ignore[override]
                 **kwargs: Any) -> ChatMessage:
        return ChatMessage(role=MessageRole.ASSISTANT,
                           content="Thought: done.\n<code>\nfinal_answer('Zoomed out!')\n</code>",
                           token_usage=TokenUsage(input_tokens=10, output_tokens=5))


def test_an_llm_turn_that_changes_nothing_is_not_reported_as_done(
        tmp_path: Path, agent_spaces: Standins) -> None:
    from spacesmith.agent.codeagent.harness import build_harness

    settings = Settings(goal="chat", output=tmp_path / "run", image_space=agent_spaces.image_url,
                        splat_space=agent_spaces.splat_url, max_steps=3)
    harness = build_harness(settings, model=ClaimingModel(), model_label="claims", npm=None)
    try:
        chat = ChatSession.open(harness)
        outcome = chat.send("zoom out")
        assert not outcome.success
        assert outcome.output == "Nothing changed: Zoomed out!"
        assert chat.turns[-1]["changed"] is False
        task = json.dumps([m.dict() for m in harness.agent.write_memory_to_messages()],
                          ensure_ascii=False)
        assert "Current gallery: none yet" in task, "every model is told what it edits"
        assert chat.undo() == "Nothing to undo."
    finally:
        harness.close()


def test_undo_beyond_the_kept_snapshots_rebuilds_the_same_bytes(paris: ChatSession) -> None:
    import hashlib

    from spacesmith.agent.chat.turns import KEEP_SNAPSHOTS, UNDO_DIR

    def files() -> dict[str, str]:
        return {p.relative_to(ws.site_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(ws.site_dir.rglob("*")) if p.is_file()}

    ws = paris.harness.workspace
    base_files = files()
    base_json = ws.gallery_json.read_bytes()
    base_site = fingerprint(ws.gallery_json, ws.site_dir)
    edits = ["zoom out a bit", "faster", "call it A", "navy", "zoom in a bit", "slower",
             "call it B", "white background", "zoom out", "call it C"]
    assert len(edits) > KEEP_SNAPSHOTS
    for message in edits:
        assert paris.send(message).success, message
    assert len(list((ws.root / UNDO_DIR).glob("site-*"))) <= KEEP_SNAPSHOTS
    for _ in edits:
        assert paris.undo().startswith("Undid")
    assert ws.gallery_json.read_bytes() == base_json
    after = files()
    assert {k for k in base_files.keys() | after.keys()
            if base_files.get(k) != after.get(k)} == set()
    assert fingerprint(ws.gallery_json, ws.site_dir) == base_site


def test_a_deploy_turn_is_done_even_when_the_gallery_did_not_change(
        offline_settings: Settings, open_agent: Callable[..., Any], fake_hub: Any) -> None:
    from spacesmith.tools.hub.deploy import deploy
    from tests.fixtures.fake_hub import WRITE_TOKEN

    def push(folder: Path, space_id: str) -> str:
        return deploy(folder, space_id, token=WRITE_TOKEN, endpoint=fake_hub.url).url

    chat = ChatSession.open(open_agent(offline_settings.with_(token=WRITE_TOKEN),
                                       deployer=push))
    assert chat.send("build a Paris monuments gallery").success
    for _ in range(2):
        outcome = chat.send("deploy to tester/paris")
        assert outcome.success, outcome.output
        assert outcome.output.startswith("Deployed") and "tester/paris" in outcome.output
    assert not chat.send("asdf").success
    assert chat.harness.deployed_url == f"{fake_hub.url}/spaces/tester/paris"
