"""The offline planner's vocabulary, phrase by phrase: what each message means (edits, undo,
a new gallery, not understood) and what each goal builds or what it says is missing."""

from __future__ import annotations

import ast

import pytest

from spacesmith.agent.planner.edit_code import edit_code
from spacesmith.agent.planner.intents import (
    LIST_HINT,
    THEMES,
    asks_for_new_gallery,
    is_undo,
    parse_goal,
    read_edits,
)
from spacesmith.agent.planner.vocabulary import is_thin, solid_candidates

# (message, [(kind, check on the Feedback)]) — every clause understood
EDITS = [
    ("make it zoomed out", [("zoom", lambda f: f.factor > 1 and f.names == ())]),
    ("zoom out", [("zoom", lambda f: f.factor == 1.25)]),
    ("Zoom out a bit", [("zoom", lambda f: 1 < f.factor < 1.25)]),
    ("zoom out a lot", [("zoom", lambda f: f.factor > 1.25)]),
    ("zoom out a little more please", [("zoom", lambda f: 1 < f.factor < 1.25)]),
    ("could you zoom in slightly?", [("zoom", lambda f: 0.8 < f.factor < 1)]),
    ("zoom in on the Eiffel Tower", [("zoom", lambda f: f.factor < 1
                                      and f.names == ("Eiffel Tower",))]),
    ("the Eiffel Tower looks too small", [("zoom", lambda f: f.factor < 1
                                           and f.names == ("Eiffel Tower",))]),
    ("make the Arc de Triomphe and the Panthéon bigger",
     [("zoom", lambda f: f.factor < 1 and f.names == ("Arc de Triomphe", "Panthéon"))]),
    ("the sacre coeur is way too big", [("zoom", lambda f: f.factor > 1.25
                                         and f.names == ("sacre coeur",))]),
    ("I can't see the whole Arc de Triomphe", [("zoom", lambda f: f.factor > 1)]),
    ("the monuments look tiny", [("zoom", lambda f: f.factor < 1 and f.names == ())]),
    ("make the transitions faster", [("speed", lambda f: f.factor < 1)]),
    ("the transition lingers too long", [("speed", lambda f: f.factor < 1)]),
    ("transitions take forever", [("speed", lambda f: f.factor < 1)]),
    ("the fade is too abrupt", [("speed", lambda f: f.factor > 1)]),
    ("slow down the transitions a lot", [("speed", lambda f: f.factor > 1.6)]),
    ("make it spin slower", [("spin", lambda f: f.factor < 1)]),
    ("the spinning makes me dizzy", [("spin", lambda f: f.factor < 1)]),
    ("stop the rotation", [("spin", lambda f: f.value == "off")]),
    ("rotate faster", [("spin", lambda f: f.factor > 1)]),
    ("use a navy background", [("background", lambda f: f.value == "#0b1a33")]),
    ("pitch black background please", [("background", lambda f: f.value == "#000000")]),
    ("make it look like the night sky", [("background", lambda f: f.value == "#0b1026")]),
    ("a bit darker", [("background", lambda f: f.other == "darker" and f.factor == 0.5)]),
    ("warmer background", [("background", lambda f: f.other == "warmer")]),
    ("change the background to #123", [("background", lambda f: f.value == "#112233")]),
    ("call it Paris by night", [("title", lambda f: f.value == "Paris by night")]),
    ("Rename it to “Nuit à Paris”", [("title", lambda f: f.value == "Nuit à Paris")]),
    ("the title should be Paris at Night", [("title", lambda f: f.value == "Paris at Night")]),
    ("replace the Panthéon with the Louvre",
     [("replace", lambda f: (f.value, f.other) == ("Panthéon", "Louvre"))]),
    ("replace the obelisk with something better for splatting",
     [("replace", lambda f: f.value == "obelisk" and f.other == "")]),
    ("instead of the obelisk, use the Louvre",
     [("replace", lambda f: (f.value, f.other) == ("obelisk", "Louvre"))]),
    ("remove the obelisk", [("remove", lambda f: f.value == "obelisk")]),
    ("get rid of the tower and the obelisk", [("remove", lambda f: f.value == "tower"),
                                               ("remove", lambda f: f.value == "obelisk")]),
    ("I don't want the obelisk anymore", [("remove", lambda f: f.value == "obelisk")]),
    ("add the Louvre and the Madeleine", [("add", lambda f: f.value == "Louvre"),
                                          ("add", lambda f: f.value == "Madeleine")]),
    ("put the Louvre first", [("reorder", lambda f: f.value == "first"
                               and f.names == ("Louvre",))]),
    ("start with Notre-Dame", [("reorder", lambda f: f.value == "first")]),
    ("move the pantheon to the end", [("reorder", lambda f: f.value == "last")]),
    ("swap the Louvre and the Panthéon", [("reorder", lambda f: f.value == "swap")]),
    ("put the Louvre after the Panthéon", [("reorder", lambda f: f.value == "after"
                                            and f.other == "Panthéon")]),
    ("sort them alphabetically", [("reorder", lambda f: f.value == "alpha")]),
    ("zoom out and use a navy background", [("zoom", lambda f: f.factor > 1),
                                            ("background", lambda f: f.value == "#0b1a33")]),
    ("please remove the obelisk, then call it Paris la nuit. Thanks!",
     [("remove", lambda f: f.value == "obelisk"), ("title", lambda f: f.value == "Paris la nuit")]),
    ("deploy to me/paris-3d", [("deploy", lambda f: f.value == "me/paris-3d")]),
    ("Zoon out", [("zoom", lambda f: f.factor > 1)]),
    ("remvoe the obelisk", [("remove", lambda f: f.value == "obelisk")]),
    ("backgroud navy", [("background", lambda f: f.value == "#0b1a33")]),
    ("It's too zoomed in", [("zoom", lambda f: f.factor > 1)]),
    ("The arc looks too far away, zoom in on it",
     [("zoom", lambda f: f.factor < 1 and f.names == ("arc",))]),
    ("put the tower second", [("reorder", lambda f: f.value == "at" and f.other == "2")]),
    ("rename the gallery Paris by night", [("title", lambda f: f.value == "Paris by night")]),
    ("call it Rotations", [("title", lambda f: f.value == "Rotations")]),
    ("the gallery should be called Paris at Night",
     [("title", lambda f: f.value == "Paris at Night")]),
    ("Change the title to: Paris by Night", [("title", lambda f: f.value == "Paris by Night")]),
    ("the eiffel tower should be bigger", [("zoom", lambda f: f.names == ("eiffel tower",))]),
    ("I want the obelisk gone", [("remove", lambda f: f.value == "obelisk")]),
    ("no rotation", [("spin", lambda f: f.value == "off")]),
    ("the obelisk looks bad, replace it with something that splats better",
     [("replace", lambda f: f.value == "obelisk" and f.other == "")]),
    ("set transition time to 2 seconds", [("speed", lambda f: f.value == "2")]),
    ("make a navy background for the gallery", [("background", lambda f: f.value == "#0b1a33")]),
]


@pytest.mark.parametrize(("message", "expected"), EDITS, ids=[m for m, _ in EDITS])
def test_edits_are_understood(message: str, expected: list[tuple[str, object]]) -> None:
    reading = read_edits(message)
    assert reading.understood, (message, reading)
    assert [e.kind for e in reading.edits] == [kind for kind, _ in expected]
    for edit, (_, check) in zip(reading.edits, expected, strict=True):
        assert check(edit), (message, edit)  # type: ignore[operator]
    ast.parse(edit_code(reading.edits, ["Les Invalides"]))


NOT_UNDERSTOOD = ["asdf", "can you make the captions shorter?", "what can you do?",
                  "make everything closer except the tower", "replace it with the Louvre",
                  "make the Eiffel Tower red", "make the captions shorter and zoom out",
                  "hmm, not sure", "Rome", "more pizazz", "make it pop"]


@pytest.mark.parametrize("message", NOT_UNDERSTOOD)
def test_what_is_not_understood_is_not_an_edit(message: str) -> None:
    assert not read_edits(message).understood


@pytest.mark.parametrize("message", ["don't zoom", "do not change the background",
                                     "thanks!", "ok"])
def test_declined_and_polite_messages_are_no_edit(message: str) -> None:
    reading = read_edits(message)
    assert reading.edits == () and reading.unknown == ()


@pytest.mark.parametrize(("message", "undo"), [
    ("undo", True), ("undo that", True), ("Undo that, please", True), ("revert", True),
    ("oops, go back", True), ("/undo", True), ("revert the last change", True),
    ("put it back", True), ("go back to a black background", False), ("zoom out", False),
])
def test_undo_phrases(message: str, undo: bool) -> None:
    assert is_undo(message) is undo


@pytest.mark.parametrize(("message", "new"), [
    ("build a Rome gallery", True), ("make me a new gallery of London", True),
    ("a gallery of A, B and C", True), ("start over with Japan", True),
    ("make the gallery darker", False), ("Rome", False), ("zoom out", False),
])
def test_a_new_gallery_only_when_asked(message: str, new: bool) -> None:
    assert asks_for_new_gallery(message) is new


@pytest.mark.parametrize(("goal", "subjects", "title"), [
    ("build a Paris monuments gallery", THEMES["paris"][1][:6], "Monuments de Paris"),
    ("build a Rome gallery with the Colosseum, the Pantheon and Trajan's Column",
     ("Colosseum", "Pantheon", "Trajan's Column"), "Monuments of Rome"),
    ("our sneaker line: runner, high-top and slip-on", ("runner", "high-top", "slip-on"),
     "Our sneaker line"),
    ("a gallery of the Colosseum, Big Ben, and the Taj Mahal, please",
     ("Colosseum", "Big Ben", "Taj Mahal"), "Gallery: Colosseum, Big Ben, Taj Mahal"),
    ("four Roman monuments", THEMES["rome"][1][:4], "Monuments of Rome"),
    ('build a Paris gallery called "Paris by night"', THEMES["paris"][1][:6], "Paris by night"),
    ("a gallery of the Eiffel Tower", ("Eiffel Tower",), "Gallery: Eiffel Tower"),
    ("build a gallery: Louvre; Panthéon; Eiffel Tower", ("Louvre", "Panthéon", "Eiffel Tower"),
     "Gallery: Louvre, Panthéon, Eiffel Tower"),
    ("the Colosseum and the Parthenon", ("Colosseum", "Parthenon"),
     "Gallery: Colosseum, Parthenon"),
    ("gallery of my cats: Tom, Felix and Garfield", ("Tom", "Felix", "Garfield"), "My cats"),
])
def test_goals_name_their_subjects(goal: str, subjects: tuple[str, ...], title: str) -> None:
    parsed = parse_goal(goal)
    assert parsed.missing == ""
    assert parsed.subjects == subjects and parsed.title == title


@pytest.mark.parametrize("goal", ["build a gallery of four famous dinosaurs", "asdf", "",
                                  "   ", "make something nice", "a gallery of dinosaurs"])
def test_goals_without_subjects_say_what_is_missing(goal: str) -> None:
    parsed = parse_goal(goal)
    assert parsed.subjects == () and LIST_HINT in parsed.missing
    if not goal.strip():
        assert parsed.missing.startswith("the goal is empty")


def test_the_default_paris_gallery_fits_the_readme_examples() -> None:
    six = THEMES["paris"][1][:6]
    assert "Panthéon" in six and "Louvre Palace" not in six
    assert any("Obelisk" in s for s in six) and any("Eiffel" in s for s in six)
    solid = solid_candidates("paris")
    assert not any(is_thin(s) for s in solid) and "Les Invalides" in solid
    assert is_thin("Luxor Obelisk") and is_thin("Eiffel Tower")
