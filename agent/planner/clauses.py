"""Cutting a chat message into clauses, and the words around edits that carry no edit.

Politeness ("please", "could you", "thanks"), negation ("don't …"), one-letter typos of
the vocabulary's keywords, and where one edit ends and the next begins ("zoom out a bit,
and use a navy background"). The edits themselves are read by
:mod:`spacesmith.agent.planner.edits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

LEAD = re.compile(
    r"^(?:(?:please|pls|plz|kindly|ok(?:ay)?|so|and|also|then|now|hey|hi|hello|hmm+|um+|uh+|"
    r"well|oh|alright|right|actually|maybe|perhaps|just|honestly|i think|i feel like|"
    r"i'?d like (?:you )?to|i would like (?:you )?to|i want (?:you )?to|i wanna|i need (?:you )?to|"
    r"let'?s|let us|can you|could you|would you|will you|can we|could we|would you mind|"
    r"would it be possible to|is it possible to|try to|you should|we should|you could|"
    r"go ahead and|how about you|do you think you could|can i get you to|i'?d love (?:it )?if you)"
    r"[\s,]+)+", re.I)
TRAIL = re.compile(r"(?:[\s,]*\b(?:please|pls|plz|thanks|thank you|thx|cheers|if you can|"
                    r"if possible|for me|ok|okay|now|again|kindly)\b)+[\s.!?]*$", re.I)
FILLER = re.compile(r"^(?:thanks|thank you|thx|cheers|great|nice|cool|awesome|perfect|good|"
                     r"lovely|ok|okay|yes|yeah|yep|hi|hello|hey|wow|hmm+|please|sure|"
                     r"looks good|that'?s (?:good|great|better|nice))\W*$", re.I)
NEGATED = re.compile(r"\b(?:don'?t|do not|dont|never|no need to|doesn'?t need to|"
                      r"shouldn'?t|should not|must not|mustn'?t|let'?s not|not necessary)\b",
                      re.I)
VERBS = {"zoom", "make", "use", "set", "change", "replace", "swap", "switch", "remove", "drop",
          "delete", "add", "include", "put", "move", "call", "rename", "retitle", "title",
          "name", "deploy", "publish", "speed", "slow", "stop", "start", "turn", "spin",
          "rotate", "show", "get", "take", "bring", "go", "give", "try", "sort", "order",
          "reorder", "lose", "ditch", "hide", "end", "begin", "lead", "finish", "paint",
          "pull", "push", "frame", "undo", "instead", "have", "i"}
_KEYWORDS = ("remove", "replace", "delete", "background", "backdrop", "transition",
             "transitions", "rename", "faster", "slower", "quicker", "bigger", "smaller",
             "darker", "lighter", "rotation", "rotate", "spinning", "closer", "further",
             "zoomed", "title", "swap", "order", "add", "first", "last")
_ZOOM_TYPOS = re.compile(r"\b(?:zoon|zom|zooom|zomm|zoo m|zoim|xoom)\b", re.I)


def _one_edit_apart(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def fix_typos(text: str) -> str:
    """Common one-letter typos of the vocabulary's keywords ("remvoe", "backgroud", "zoon")."""
    text = _ZOOM_TYPOS.sub("zoom", text)

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        before = text[: match.start()].rstrip()
        starts = not before or before.endswith((".", "!", "?", ",", ";"))
        if len(low) < 5 or low in _KEYWORDS or (word[0].isupper() and not starts):
            return word  # a capitalised word inside a sentence is a name or a title
        for keyword in _KEYWORDS:
            if len(keyword) >= 5 and _one_edit_apart(low, keyword):
                return keyword
        return word

    return re.sub(r"[A-Za-z]+", fix, text)


def strip_politeness(text: str) -> str:
    """The clause without "please", "could you", "thanks" and the like around it."""
    previous = None
    text = text.strip(" \t.!?,;")
    while previous != text:
        previous = text
        text = LEAD.sub("", text)
        text = TRAIL.sub("", text).strip(" \t.!?,;")
    return text


_HARD = re.compile(r"(?<![A-Z][a-z])(?<!\bSt)[.!?;]+(?:\s+|$)|\n+")
_SOFT = re.compile(r"(\s*,\s*(?:and\s+|then\s+|also\s+|but\s+|plus\s+)?|\s+(?:and then|"
                   r"and also|and|then|also|but|plus|as well as)\s+)", re.I)


def _starts_with_verb(text: str) -> bool:
    words = strip_politeness(text).lower().split()
    return bool(words) and words[0].strip("'") in VERBS


def clauses(message: str, parse: Callable[[str], Any]) -> list[str]:
    """The clauses of a message: sentences, then "and"/"," parts that are edits themselves."""
    out: list[str] = []
    for sentence in _HARD.split(message):
        pieces = _SOFT.split(sentence.strip())
        if not pieces or not pieces[0].strip():
            pieces = pieces[2:] if len(pieces) > 2 else []
        if not pieces:
            continue
        current = pieces[0]
        for joint, part in zip(pieces[1::2], pieces[2::2], strict=False):
            if not part.strip():
                continue
            alone = parse(part) is not None
            if alone and (_starts_with_verb(part) or parse(current) is not None):
                out.append(current)
                current = part
            elif FILLER.match(part.strip()):
                continue
            else:
                current = current + joint + part
        out.append(current)
    return [c.strip() for c in out if c.strip()]
