"""Read a goal or a piece of taste feedback from plain English, for the offline planner.

Deliberately small: an explicit subject list, a built-in table of themes, and the common
edits a chat asks for (zoom, transition speed, background, title, add / remove / replace /
reorder a subject, deploy). Anything else is treated as a new gallery goal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_COUNT = 6

THEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "paris": ("Monuments de Paris", (
        "Panthéon", "Arc de Triomphe", "Notre-Dame de Paris", "Sacré-Cœur",
        "Palais Garnier", "Les Invalides", "Louvre Palace", "Madeleine Church")),
    "egypt": ("Monuments of Egypt", (
        "Great Sphinx of Giza", "Pyramid of Khufu", "Abu Simbel temple", "Karnak temple pylon",
        "Temple of Hatshepsut", "Colossi of Memnon", "Luxor Temple obelisk")),
    "japan": ("Monuments of Japan", (
        "Himeji Castle", "Kinkaku-ji", "Tōdai-ji", "Itsukushima torii gate",
        "Osaka Castle", "Kotoku-in Great Buddha", "Yasaka Pagoda")),
    "rome": ("Monuments of Rome", (
        "Colosseum", "Pantheon of Rome", "Arch of Constantine", "Trevi Fountain",
        "Castel Sant'Angelo", "Temple of Hercules Victor")),
    "london": ("Monuments of London", (
        "Tower of London", "St Paul's Cathedral", "Big Ben clock tower",
        "Tower Bridge", "Westminster Abbey", "Marble Arch")),
    "greece": ("Monuments of Greece", (
        "Parthenon", "Erechtheion", "Temple of Hephaestus", "Temple of Poseidon at Sounion",
        "Lion Gate of Mycenae", "Tholos of Delphi")),
    "india": ("Monuments of India", (
        "Taj Mahal", "Qutb Minar", "Hawa Mahal", "Gateway of India",
        "Konark Sun Temple", "Charminar")),
}

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10}

COLOURS = {"black": "#000000", "white": "#ffffff", "grey": "#808080", "gray": "#808080",
           "dark grey": "#202020", "dark gray": "#202020", "navy": "#0b1a33", "blue": "#1e3a8a",
           "midnight blue": "#191970", "red": "#7f1d1d", "green": "#14532d", "beige": "#e8dcc4",
           "cream": "#fffdd0", "sky blue": "#87ceeb", "purple": "#3b0764", "brown": "#3e2723"}

_SPACE_ID = r"([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)"


@dataclass(frozen=True)
class Goal:
    """A gallery to build."""

    subjects: tuple[str, ...]
    title: str
    deploy_space: str | None = None


@dataclass(frozen=True)
class Feedback:
    """One edit of an existing gallery."""

    kind: str  # zoom, speed, background, title, remove, add, replace, reorder, deploy
    summary: str
    factor: float = 1.0
    value: str = ""
    other: str = ""
    names: tuple[str, ...] = ()


def parse_goal(task: str) -> Goal:
    """Subjects, title and deploy target of a goal sentence.

    An explicit ``Subjects: A; B`` line (the harness adds one when the user gave a list)
    wins; then a list after "of"/"with"/":"; then the theme table; else the goal itself.

    Args:
        task: the task text.

    Returns:
        The goal.
    """
    deploy = re.search(r"[Dd]eploy (?:it |the site )?to " + _SPACE_ID, task)
    deploy_space = deploy.group(1).rstrip(".") if deploy else None
    explicit = re.search(r"^Subjects:\s*(.+)$", task, re.MULTILINE)
    theme = next((key for key in THEMES if key in task.lower()), None)
    count = _count(task)
    if explicit:
        subjects = tuple(s.strip() for s in explicit.group(1).split(";") if s.strip())
    elif theme:
        subjects = THEMES[theme][1][: count or DEFAULT_COUNT]
    else:
        subjects = _listed(task.splitlines()[0]) or (task.splitlines()[0].strip(" ."),)
    title = THEMES[theme][0] if theme else _title(subjects)
    titled = re.search(r"(?:titled|called) [\"“']([^\"”']+)[\"”']", task)
    return Goal(subjects, titled.group(1) if titled else title, deploy_space)


def _count(task: str) -> int | None:
    nouns = r"(?:monuments|subjects|buildings|landmarks)"
    found = re.search(r"\b(\d+|" + "|".join(_NUMBERS) + r")\s+(?:[\w-]+\s+)?" + nouns,
                      task.lower())
    if not found:
        return None
    word = found.group(1)
    return int(word) if word.isdigit() else _NUMBERS[word]


def _listed(line: str) -> tuple[str, ...]:
    found = re.search(r"(?:\bof|\bwith|:)\s+(.+)$", line)
    if not found or ("," not in found.group(1) and " and " not in found.group(1)):
        return ()
    parts = re.split(r",\s*|\s+and\s+", found.group(1).strip(" ."))
    return tuple(re.sub(r"^(?:the|a|an)\s+", "", p.strip(), flags=re.I) for p in parts if p.strip())


def _title(subjects: tuple[str, ...]) -> str:
    return "Gallery: " + ", ".join(subjects[:3]) + ("…" if len(subjects) > 3 else "")


def _subject(text: str) -> str:
    cleaned = re.sub(r"^(?:the|a|an)\s+", "", text.strip(" .!\"'“”"), flags=re.I)
    return cleaned.strip()


_FEEDBACK: list[tuple[str, str]] = [
    ("replace", r"\b(?:replace|swap)\s+(.+?)\s+(?:with|by|for)\s+(.+)$"),
    ("remove", r"\b(?:remove|drop|delete)\s+(.+)$"),
    ("add", r"\badd\s+(.+?)(?:\s+to the gallery)?$"),
    ("reorder", r"\b(?:move|put)\s+(.+?)\s+(first|last|to the front|to the end)\b"),
    ("reorder", r"\b(?:reorder|order)(?: them| the subjects)?(?: as| to)?:?\s+(.+)$"),
    ("title", r"\b(?:retitle(?: it| the gallery)?|rename (?:it|the gallery) to|title it|call it)"
              r"\s+[\"“']?([^\"”']+)[\"”']?$"),
    ("deploy", r"\bdeploy(?: it| the site)? to " + _SPACE_ID),
    ("background", r"\bbackground(?: colou?r)?(?: to| in| of)?\s+(#[0-9a-fA-F]{6}|[a-z ]+?)\.?$"),
    ("background", r"(#[0-9a-fA-F]{6}|[a-z ]+?) background\b"),
]


def parse_feedback(task: str) -> Feedback | None:
    """Read one edit of the current gallery, or None when the text is a new goal.

    Args:
        task: the chat message.

    Returns:
        The edit, or None.
    """
    text = task.strip().splitlines()[0].strip() if task.strip() else ""
    low = text.lower()
    if re.search(r"\bzoom(?:ed)? out\b|\bfurther away\b|\bfarther\b", low):
        return Feedback("zoom", "Zoomed out.", factor=1.25)
    if re.search(r"\bzoom(?:ed)? in\b|\bcloser\b", low):
        return Feedback("zoom", "Zoomed in.", factor=0.8)
    if re.search(r"\bfaster\b|\bquicker\b", low):
        return Feedback("speed", "Faster transitions.", factor=0.6)
    if re.search(r"\bslower\b", low):
        return Feedback("speed", "Slower transitions.", factor=1.6)
    for kind, pattern in _FEEDBACK:
        found = re.search(pattern, text, flags=re.IGNORECASE)
        if found:
            made = _feedback(kind, found.groups())
            if made is not None:
                return made
    return None


def _feedback(kind: str, groups: tuple[str, ...]) -> Feedback | None:
    if kind == "replace":
        old, new = _subject(groups[0]), _subject(groups[1])
        return Feedback("replace", f"Replaced {old} with {new}.", value=old, other=new)
    if kind == "remove":
        return Feedback("remove", f"Removed {_subject(groups[0])}.", value=_subject(groups[0]))
    if kind == "add":
        return Feedback("add", f"Added {_subject(groups[0])}.", value=_subject(groups[0]))
    if kind == "reorder":
        if len(groups) == 2:
            where = "last" if groups[1].lower() in ("last", "to the end") else "first"
            name = _subject(groups[0])
            return Feedback("reorder", f"Moved {name} {where}.", value=where, names=(name,))
        names = tuple(_subject(p) for p in re.split(r",\s*|\s+then\s+|\s+and\s+", groups[0]))
        return Feedback("reorder", "Reordered the subjects.", value="first", names=names)
    if kind == "title":
        return Feedback("title", f"Retitled the gallery {groups[0].strip()!r}.",
                        value=groups[0].strip())
    if kind == "deploy":
        return Feedback("deploy", f"Deployed to {groups[0]}.", value=groups[0].rstrip("."))
    words = groups[0].strip().lower().split()
    candidates = [" ".join(words[-2:]), words[-1]] if words else []
    colour = next((c for c in candidates if c.startswith("#") or c in COLOURS), None)
    if colour is None:
        return None
    hex_value = colour if colour.startswith("#") else COLOURS[colour]
    return Feedback("background", f"Background set to {colour}.", value=hex_value)
