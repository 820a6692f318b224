"""Read a goal or a chat message in plain English, for the offline planner.

A goal names its subjects (a list after "of", "with" or ":"; ``--subjects``; a theme of
the table in :mod:`spacesmith.agent.planner.vocabulary`) or it cannot be planned, and
:attr:`Goal.missing` says what to add. A chat message is an undo, edits
(:mod:`spacesmith.agent.planner.edits`), a new gallery when it asks for one, or not
understood. Nothing here guesses: an LLM handles what this vocabulary does not cover.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from spacesmith.agent.planner.edits import SPACE_ID, Feedback, Reading, read_edits
from spacesmith.agent.planner.vocabulary import (
    COLOURS,
    DEFAULT_COUNT,
    MAX_MESSAGE_CHARS,
    MAX_SUBJECTS,
    NUMBERS,
    THEME_WORDS,
    THEMES,
    fold,
    theme_of,
)

__all__ = [
    "COLOURS",
    "CONTEXT_PREFIX",
    "DEFAULT_COUNT",
    "LIST_HINT",
    "THEMES",
    "Feedback",
    "Goal",
    "Reading",
    "asks_for_new_gallery",
    "gallery_context",
    "is_undo",
    "parse_feedback",
    "parse_goal",
    "read_edits",
]

CONTEXT_PREFIX = "Current gallery:"
LIST_HINT = "list the subjects: --subjects A,B,C or 'a gallery of A, B and C'"
KNOWN_THEMES = ", ".join(t.capitalize() for t in THEMES)


@dataclass(frozen=True)
class Goal:
    """A gallery to build, or what is missing to build one (``missing`` non-empty)."""

    subjects: tuple[str, ...]
    title: str
    deploy_space: str | None = None
    missing: str = ""


def message_of(task: str) -> str:
    """The person's words in a task: its first line (the harness adds context lines)."""
    lines = [line for line in task.strip().splitlines() if line.strip()]
    return lines[0].strip() if lines and not lines[0].startswith(CONTEXT_PREFIX) else ""


def gallery_context(task: str) -> dict[str, Any] | bool | None:
    """The ``Current gallery:`` line of a chat turn: its dict, None ("none yet"), or False
    when the task has no such line (not a chat turn)."""
    found = re.findall(rf"^{re.escape(CONTEXT_PREFIX)}\s*(.*)$", task, re.MULTILINE)
    if not found:
        return False
    try:
        value = json.loads(found[-1])  # the harness's line is the last one
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def context_line(gallery: dict[str, Any] | None) -> str:
    """The line a chat adds to each turn: the gallery's title and item names (or none)."""
    if gallery is None:
        return f"{CONTEXT_PREFIX} none yet"
    raw = gallery.get("items")
    items: list[Any] = raw if isinstance(raw, list) else []
    names = [str(it.get("name")) for it in items if isinstance(it, dict)]
    summary = {"title": str(gallery.get("title", "")), "items": names}
    return f"{CONTEXT_PREFIX} {json.dumps(summary, ensure_ascii=False)}"


_UNDO = re.compile(
    r"^(?:/undo|undo|undo (?:that|this|it|the last (?:change|edit|step|turn|one|thing)|"
    r"the change|my last (?:change|request)|please)|revert(?: that| it| this| the last "
    r"(?:change|edit)| the change| back)?|go back(?: to (?:how it was|the previous (?:one|"
    r"version)|before))?|put it back(?: (?:how|the way) it was)?|change it back|take (?:that|it)"
    r" back|roll (?:it |that )?back|back to (?:how it was|the previous (?:one|version)|before)|"
    r"restore (?:it|the previous (?:one|version)|how it was)|"
    r"cancel (?:that|the last (?:change|edit))|ctrl[- ]?z|i liked it better before|"
    r"(?:make it )?(?:like|as) it was(?: before)?|scratch that|forget (?:that|the last change)|"
    r"that'?s worse,? (?:undo|revert|go back)(?: it| that)?)$", re.I)


def is_undo(message: str) -> bool:
    """True when the whole message asks to undo the last change ("undo that", "revert")."""
    from spacesmith.agent.planner.clauses import strip_politeness

    if len(message) > MAX_MESSAGE_CHARS:
        return False
    text = strip_politeness(message.strip().lower().replace("’", "'"))
    text = re.sub(r"^(?:oops|no|nope|ugh|hmm+|oh no|argh|meh)[\s,!.]+", "", text)
    return bool(_UNDO.match(strip_politeness(text)))


_NEW_GALLERY = re.compile(
    r"\b(?:build|create|make|generate|start|give|show|produce|set up|do|i want|i'?d like|"
    r"let'?s (?:do|have|make|build))\s+(?:me\s+|us\s+)?(?:a|an|another|new|some|one|"
    r"\d+|" + "|".join(k for k in NUMBERS if " " not in k) + r")\b[^.]{0,80}?"
    r"\b(?:gallery|galleries|collection|exhibit|exhibition|showcase)\b"
    r"|\b(?:new|another|different|fresh|second|separate)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:gallery|collection)\b"
    r"|^(?:an?\s+)?(?:[\w'-]+\s+){0,3}?gallery\s+(?:of|with|featuring|about|showing)\b"
    r"|\bstart (?:over|again|afresh|from scratch)\b", re.I)


def asks_for_new_gallery(message: str) -> bool:
    """True when a message asks for a new gallery in so many words ("build a Rome gallery")."""
    if len(message) > MAX_MESSAGE_CHARS:
        return False
    return bool(_NEW_GALLERY.search(message.strip()))


def parse_feedback(task: str) -> Feedback | None:
    """The first edit of a message when all of it was understood, else None."""
    reading = read_edits(message_of(task))
    return reading.edits[0] if reading.understood else None


# --- goals ---------------------------------------------------------------------------------

_COUNT_WORDS = "|".join(sorted((re.escape(k) for k in NUMBERS), key=len, reverse=True))
_MARKER = re.compile(r"(?:\s+(?:of|with|featuring|including|showing|containing|having|like)|"
                     r"\s*:|\s+[—–-]{1,2})\s+", re.I)
_NOT_A_NAME = re.compile(rf"^(?:\d+|{_COUNT_WORDS}|some|famous|the best|many|various|all)\b",
                         re.I)


def parse_goal(task: str) -> Goal:
    """Subjects, title and deploy target of a goal, or what is missing.

    An explicit ``Subjects: A; B`` line (the harness adds one for ``--subjects``) wins;
    then a list after "of"/"with"/":" (exactly those, even after a theme word); then one
    proper name after "of"; then a theme of the table, with a count ("four Rome
    monuments"). Otherwise :attr:`Goal.missing` names what to add.

    Args:
        task: the task text.

    Returns:
        The goal.
    """
    text = message_of(task)
    if len(text) > MAX_MESSAGE_CHARS:
        return Goal((), "", None, f"the goal is {len(text)} characters long (at most "
                    f"{MAX_MESSAGE_CHARS}): {LIST_HINT}")
    deploy = re.search(r"\b[Dd]eploy(?: it| the site)? to " + SPACE_ID, task)
    deploy_space = deploy.group(1) if deploy else None
    line = re.sub(r"[,;]?\s*(?:and\s+)?(?:then\s+)?[Dd]eploy(?: it| the site)? to \S+", "",
                  text).strip()
    line = re.sub(r"(?:[\s,]*\b(?:please|thanks|thank you)\b)+[\s.!?]*$", "", line,
                  flags=re.I).strip(" .!?")
    titled = re.search(r"\b(?:titled|called|named|entitled)\s+[\"“']([^\"”']+)[\"”']", line) \
        or re.search(r"\b(?:titled|called|named|entitled)\s+([^,;]+?)\s*$", line)
    body = (line[: titled.start()] + line[titled.end():]).strip(" ,.") if titled else line
    explicit = re.search(r"^Subjects:\s*(.+)$", task, re.MULTILINE)
    theme = theme_of(body)
    prefix, listed = _listed(body)
    if explicit:
        subjects = tuple(s.strip() for s in explicit.group(1).split(";") if s.strip())
    elif listed:
        subjects = listed
    elif theme:
        subjects = THEMES[theme][1][: _count(body) or DEFAULT_COUNT]
    else:
        subjects = ()
    if titled:
        title = titled.group(1).strip()
    elif theme:
        title = THEMES[theme][0]
    else:
        title = _title_from(prefix) or _title(subjects)
    if not subjects:
        return Goal((), title, deploy_space, _missing(text))
    if len(subjects) > MAX_SUBJECTS:
        return Goal((), title, deploy_space,
                    f"{len(subjects)} subjects is more than one gallery holds "
                    f"({MAX_SUBJECTS}): name fewer")
    return Goal(subjects, title, deploy_space)


def _missing(text: str) -> str:
    if not text.strip():
        return ("the goal is empty: say what to build, e.g. 'build a Paris monuments gallery', "
                f"or {LIST_HINT}")
    short = text if len(text) <= 60 else text[:59] + "…"
    count = _count(text)
    what = "which subjects" if count is None else f"which {count} subjects"
    return (f"I cannot tell {what} to show for {short!r}: {LIST_HINT} "
            f"(themes I know: {KNOWN_THEMES})")


def _count(text: str) -> int | None:
    low = text.lower()
    found = re.search(rf"\b(\d+|{_COUNT_WORDS})\s+(?:[\w'-]+\s+){{0,3}}?[\w'-]+s\b", low)
    if not found:
        return None
    word = found.group(1)
    value = int(word) if word.isdigit() else NUMBERS[word]
    return max(1, min(value, MAX_SUBJECTS + 1))


def _listed(body: str) -> tuple[str, tuple[str, ...]]:
    """(the words before the list, the list) of a goal line; the list is empty when none."""
    from spacesmith.agent.planner.edits import split_names

    for found in reversed(list(_MARKER.finditer(body))):
        rest = body[found.end():].strip(" .")
        if not rest:
            continue
        multiple = re.search(r"[,;]|\s(?:and|&|plus)\s", rest)
        names = split_names(rest) if multiple else ()
        if len(names) >= 2 and not any(_NOT_A_NAME.match(n) for n in names):
            return body[: found.start()].strip(), _dedupe(names)
        single = rest if not multiple else ""
        if (single and found.group(0).strip() in ("of", "with", "featuring", ":")
                and re.search(r"[A-Z]", single) and not _NOT_A_NAME.match(single)
                and theme_of(single) is None
                and len(single.split()) <= 6):
            name = split_names(single)
            if name:
                return body[: found.start()].strip(), name[:1]
    if re.search(r"[,;]|\s(?:and|&)\s", body):  # a bare list of proper names
        names = split_names(body)
        if (len(names) >= 2 and all(re.search(r"[A-Z]", n) for n in names)
                and not any(n.lower() in THEME_WORDS for n in names)):
            return "", _dedupe(names)
    return body, ()


def _dedupe(names: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if fold(name) not in seen:
            seen.add(fold(name))
            out.append(name)
    return tuple(out)


_GENERIC = re.compile(
    r"^(?:(?:please|can you|could you|build|make|create|generate|give|show|do|start|produce|"
    r"i want|i'?d like|let'?s (?:do|have|make|build)|me|us|a|an|new|another|the|3d|splat|"
    r"gaussian|gallery|galleries|site|page|collection|showcase|exhibit|exhibition|of|for|"
    r"with|about)(?:\s+|$))+", re.I)


def _title_from(prefix: str) -> str:
    """A title from the words before a list ("our sneaker line" → "Our sneaker line")."""
    words = _GENERIC.sub("", prefix.strip()).strip(" ,.:-—")
    words = re.sub(r"\s+(?:gallery|galleries|collection)$", "", words, flags=re.I).strip()
    if not words or not re.search(r"[A-Za-z]", words):
        return ""
    return words[0].upper() + words[1:]


def _title(subjects: tuple[str, ...]) -> str:
    return "Gallery: " + ", ".join(subjects[:3]) + ("…" if len(subjects) > 3 else "")
