"""Reading taste feedback: one chat message → edits of the current gallery, and what was not
understood.

A message is cut into clauses ("zoom out a bit, and make the transitions faster"); each
clause is one edit, a declined one ("don't zoom"), politeness ("thanks"), or not understood.
Item names are matched later, against the gallery itself, by the code the planner writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from spacesmith.agent.planner.clauses import (
    FILLER,
    NEGATED,
    TRAIL,
    clauses,
    fix_typos,
    strip_politeness,
)
from spacesmith.agent.planner.vocabulary import (
    BACKGROUND,
    COLOURS,
    FASTER,
    GENERIC_SPEED,
    HALF,
    LEFTOVER_OK,
    MAX_MESSAGE_CHARS,
    ROTATION,
    SHIFTS,
    SLOWER,
    TOO_IN,
    TOO_OUT,
    TRANSITION,
    TWICE,
    ZOOM_IN,
    ZOOM_OUT,
    degree,
    fold,
)

SPACE_ID = r"([A-Za-z0-9][\w.-]*/[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9_])?)"


@dataclass(frozen=True)
class Feedback:
    """One edit of an existing gallery.

    ``kind`` is one of zoom, speed (transitions), spin (auto-rotate), background, title,
    remove, add, replace, reorder, rename, deploy. ``names`` are the items an edit is about
    (empty: all items, for zoom); ``value``/``other``/``factor`` depend on the kind.
    """

    kind: str
    summary: str
    factor: float = 1.0
    value: str = ""
    other: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """What a message asks: the edits, the clauses not understood, the declined ones."""

    edits: tuple[Feedback, ...] = ()
    unknown: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()

    @property
    def understood(self) -> bool:
        """True when every clause was understood and at least one is an edit."""
        return bool(self.edits) and not self.unknown


ALL_WORDS = re.compile(
    r"^(?:it|this|that|them|they|everything|every ?thing|all|all of them|each|each one|"
    r"things|the (?:whole )?(?:gallery|view|views|camera|cameras|scene|site|page|thing|"
    r"monuments?|splats?|items?|models?|objects?|buildings?|subjects?|landmarks?|pictures?|"
    r"images?|whole thing)|all the \w+|everything in it)$", re.I)
_SETTINGS = re.compile(r"\b(?:background|backdrop|colou?r|title|name|caption\w*|transition\w*|"
                       r"speed|zoom|rotation|spin\w*|camera|font|text|label\w*|music|sound)\b",
                       re.I)


def clean_name(text: str) -> str:
    """An item name as typed: quotes, articles and trailing politeness removed."""
    text = TRAIL.sub("", text.strip())
    text = text.strip(" .,!?;:\"'“”‘’")
    text = re.sub(r"^(?:the|a|an|that|this|our|my)\s+", "", text, flags=re.I)
    text = re.sub(r"\s+(?:one|thing|please|from (?:the )?(?:gallery|list|it|there)|"
                  r"in (?:the )?(?:gallery|list)|to (?:the )?(?:gallery|list|it)|too|as well|"
                  r"also|anymore|any more)$", "", text, flags=re.I)
    return text.strip(" .,!?;:\"'“”‘’")


def split_names(text: str) -> tuple[str, ...]:
    """Names in a list: "the Louvre, the Panthéon and Notre-Dame"."""
    parts = re.split(r"\s*[,;]\s*(?:and\s+|then\s+|&\s+)?|\s+(?:and|then|&|plus)\s+",
                     text.strip())
    return tuple(n for p in parts if (n := clean_name(p)))


def _is_all(text: str) -> bool:
    return not text.strip() or bool(ALL_WORDS.match(clean_name(text) or "it")) or bool(
        ALL_WORDS.match(text.strip(" .!?").lower()))


def _about_a_setting(text: str) -> bool:
    return bool(_SETTINGS.search(text))


def _names(text: str) -> tuple[str, ...] | None:
    """Target items of a clause ("" or "it" → all: ()); None when it names a setting."""
    if _is_all(text):
        return ()
    if _about_a_setting(text):
        return None
    names = split_names(text)
    if any(_is_all(n) for n in names):
        return ()
    return names


def _factor(base: float, clause: str) -> float:
    low = clause.lower()
    if TWICE.search(low):
        return 0.5 if base < 1 else 2.0
    if HALF.search(low):
        return 0.5 if base < 1 else 2.0
    return float(round(base ** degree(clause), 3))


def _degree_word(clause: str) -> str:
    exponent = degree(clause)
    return " a bit" if exponent < 1 else " a lot" if exponent > 1 else ""


# --- recognisers, tried in order on one clause --------------------------------------------

def _deploy(clause: str) -> list[Feedback] | None:
    found = re.search(r"\b(?:deploy|publish|push|upload|ship)\b(?:\s+(?:it|the site|this|"
                      r"the gallery))?\s+to\s+(?:the\s+space\s+)?" + SPACE_ID, clause, re.I)
    if not found:
        return None
    return [Feedback("deploy", f"Deployed to {found.group(1)}.", value=found.group(1))]


_GALLERY_WORDS = r"(?:it|the gallery|this|the site|the page|the collection|the whole thing)"
_TITLE = [
    rf"\b(?:call|name)\s+{_GALLERY_WORDS}\s+(.+)$",
    rf"\brename\s+(?:{_GALLERY_WORDS}\s+)?(?:to|as)\s+(.+)$",
    rf"\brename\s+{_GALLERY_WORDS}\s+(?!to\b|as\b)(.+)$",
    rf"\bretitle(?:\s+{_GALLERY_WORDS})?(?:\s+(?:to|as))?\s+(.+)$",
    r"\btitle\s+it\s+(.+)$",
    r"\b(?:change|set|make|update|switch|put)\s+the\s+(?:gallery(?:'s)?\s+)?(?:title|name|"
    r"heading)(?:\s+of (?:the gallery|it))?\s+(?:to|as|into)\s*:?\s+(.+)$",
    r"\b(?:it|the gallery|this)\s+(?:should|must|could|will)\s+be\s+(?:called|named|titled)"
    r"\s+(.+)$",
    r"\b(?:the\s+)?(?:gallery(?:'s)?\s+)?(?:title|name)\s+(?:should be|must be|is|will be|=|:)"
    r"\s+(.+)$",
    r"^(?:new\s+)?title\s*:?\s+(.+)$",
    r"\bgive it (?:the|a) (?:title|name)(?:\s+of)?\s+(.+)$",
]


def _title(clause: str) -> list[Feedback] | None:
    for pattern in _TITLE:
        found = re.search(pattern, clause, re.I)
        if found:
            title = TRAIL.sub("", found.group(1)).strip(" .!?\"'“”‘’")
            title = re.sub(r"\s+instead$", "", title, flags=re.I)
            if title and len(title) <= 120:
                return [Feedback("title", f"Retitled the gallery {title!r}.", value=title)]
    return None


def _rename(clause: str) -> list[Feedback] | None:
    found = re.search(r"\brename\s+(.+?)\s+(?:to|as|into)\s+(.+)$", clause, re.I)
    if not found or _is_all(found.group(1)) or _about_a_setting(found.group(1)):
        return None
    old, new = clean_name(found.group(1)), TRAIL.sub("", found.group(2)).strip(" .!?\"'“”")
    if not old or not new:
        return None
    return [Feedback("rename", f"Renamed {old} to {new}.", value=old, other=new)]


_SOMETHING = re.compile(r"^(?:something|anything|some ?thing|one|an?other|a (?:better|more|"
                        r"different|new|solid)|better|more solid|a monument|a subject)\b"
                        r"|\b(?:better for splatting|splats? better|more solid|solid one)\b",
                        re.I)


def _is_something(text: str) -> bool:
    cleaned = text.strip()
    return bool(_SOMETHING.search(cleaned)) and not re.search(r"\b[A-Z]", cleaned[1:])


_REPLACE = [
    (r"\b(?:replace|substitute)\s+(.+?)\s+(?:with|by|for)\s+(.+)$", False, "replace"),
    (r"\b(?:swap|switch|exchange|trade|change)\s+(?:out\s+)?(.+?)\s+(?:for|with|to|into)\s+(.+)$",
     False, "swap"),
    (r"\binstead of\s+(.+?),?\s+(?:use|show|put in|put|have|try|go with|add|i want|let'?s have)"
     r"\s+(.+)$", False, "replace"),
    (r"\b(?:use|show|put|have|try|go with|add)\s+(.+?)\s+instead of\s+(.+)$", True, "replace"),
    (r"^(.+?)\s*(?:->|→|=>)\s*(.+)$", False, "replace"),
    (r"^(.+?)\s+(?:looks?|is|seems?)\s+[^,]*?,?\s+(?:so\s+)?(?:please\s+)?(?:replace|swap|"
     r"change)\s+(?:it|that|this one)\s+(?:with|for|by)\s+(.+)$", False, "replace"),
    (r"\b(?:replace|substitute|swap out|switch out|change)\s+(.+)$", None, "replace"),
]


def _replace(clause: str) -> list[Feedback] | None:
    for pattern, reverse, verb in _REPLACE:
        found = re.search(pattern, clause, re.I)
        if not found:
            continue
        if reverse is None:
            if re.search(r"\s(?:with|by|for|to|into|instead)\s", found.group(1)):
                continue
            old_text, new_text = found.group(1), "something better"
        else:
            old_text, new_text = ((found.group(2), found.group(1)) if reverse
                                  else (found.group(1), found.group(2)))
        if _about_a_setting(old_text) or _about_a_setting(new_text) or _is_all(old_text):
            continue
        old = clean_name(old_text)
        if not old:
            continue
        if _is_something(new_text):
            return [Feedback("replace", f"Replaced {old} with a subject that splats well.",
                             value=old, other="")]
        new = clean_name(new_text)
        if not new:
            return None
        return [Feedback("replace", f"Replaced {old} with {new}.", value=old, other=new,
                         names=("swap",) if verb == "swap" else ())]
    return None


def _swap_order(clause: str) -> list[Feedback] | None:
    found = re.search(r"\b(?:swap|switch|exchange|flip|trade)\s+(?:the\s+(?:order|places|"
                      r"positions|spots)\s+of\s+)?(.+?)\s+(?:and|&)\s+(.+?)"
                      r"(?:\s+(?:around|round|places|positions))?$", clause, re.I)
    if not found or _about_a_setting(found.group(0)):
        return None
    a, b = clean_name(found.group(1)), clean_name(found.group(2))
    if not a or not b:
        return None
    return [Feedback("reorder", f"Swapped {a} and {b}.", value="swap", names=(a, b))]


_FIRST = (r"first|at the (?:start|front|beginning|top)|to the (?:front|start|beginning|top)|"
          r"in front|up front|on top|upfront|number one|as the first(?: one| item)?|"
          r"at the very (?:start|beginning)")
_LAST = (r"last|at the (?:end|back|bottom)|to the (?:end|back|bottom)|as the last(?: one| item)?|"
         r"at the very end")


_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8}


def _reorder(clause: str) -> list[Feedback] | None:
    low = clause.lower()
    if re.search(r"\b(?:sort|order|arrange|put)\b.*\balphabetic", low):
        return [Feedback("reorder", "Sorted the items alphabetically.", value="alpha")]
    if re.search(r"\b(?:reverse|flip|invert)\b.*\border\b", low):
        return [Feedback("reorder", "Reversed the order.", value="reverse")]
    patterns = [
        (rf"\b(?:put|move|place|show|bring|make|set|have|shift)\s+(.+?)\s+(?:the\s+)?"
         rf"(?:{_FIRST})\b", "first"),
        (rf"\b(?:put|move|place|show|bring|make|set|have|shift)\s+(.+?)\s+(?:the\s+)?"
         rf"(?:{_LAST})\b", "last"),
        (r"\b(?:start|begin|open|lead|kick off)\s+with\s+(.+)$", "first"),
        (r"\b(?:end|finish|close|wrap up)\s+with\s+(.+)$", "last"),
        (rf"^(.+?)\s+(?:should\s+|must\s+|needs to\s+|has to\s+)?(?:go(?:es)?|come(?:s)?|be|is)"
         rf"\s+(?:{_FIRST})\b", "first"),
        (rf"^(.+?)\s+(?:should\s+|must\s+|needs to\s+|has to\s+)?(?:go(?:es)?|come(?:s)?|be|is)"
         rf"\s+(?:{_LAST})\b", "last"),
    ]
    for pattern, where in patterns:
        found = re.search(pattern, clause, re.I)
        if found:
            names = _names(found.group(1))
            if not names:
                return None
            return [Feedback("reorder", f"Moved {', '.join(names)} {where}.", value=where,
                             names=names)]
    found = re.search(rf"\b(?:put|move|place|show|make)\s+(.+?)\s+(?:the\s+)?(?:in\s+)?"
                      rf"({'|'.join(_ORDINALS)})(?:\s+(?:place|position|one|item|slot))?$",
                      clause, re.I)
    if found:
        names = _names(found.group(1))
        if names and len(names) == 1:
            place = _ORDINALS[found.group(2).lower()]
            return [Feedback("reorder", f"Moved {names[0]} to place {place}.", value="at",
                             other=str(place), names=names)]
    found = re.search(r"\b(?:put|move|place|show)\s+(.+?)\s+(before|after|ahead of|behind|"
                      r"in front of|right after|right before)\s+(.+)$", clause, re.I)
    if found:
        names, anchor = _names(found.group(1)), clean_name(found.group(3))
        if not names or not anchor:
            return None
        where = "before" if found.group(2).lower() in ("before", "ahead of", "in front of",
                                                       "right before") else "after"
        return [Feedback("reorder", f"Moved {', '.join(names)} {where} {anchor}.", value=where,
                         names=names, other=anchor)]
    found = re.search(r"\b(?:re-?order|order|sort|arrange|rearrange)\b(?:\s+(?:them|it|the "
                      r"(?:items|subjects|monuments|gallery|pictures)))?(?:\s+(?:as|to|like|"
                      r"into|so that it goes|so it goes))?\s*:?\s+(.+)$", clause, re.I)
    if found:
        names = split_names(found.group(1))
        if len(names) >= 2:
            return [Feedback("reorder", "Reordered the items.", value="first", names=names)]
    return None


def _remove(clause: str) -> list[Feedback] | None:
    patterns = [
        r"\b(?:remove|drop|delete|take out|take away|get rid of|lose|ditch|cut out|eliminate|"
        r"exclude|kill|scrap|nix|bin|toss|throw out|throw away|kick out|take off|leave out|"
        r"hide|axe|dump)\s+(.+)$",
        r"^(.+?)\s+(?:has to|must|can|should|needs to|gotta)\s+go\b",
        r"^no(?: more)?\s+(.+)$",
        r"\b(?:want|need|get|have)\s+(.+?)\s+gone\b",
        r"^without\s+(.+)$",
        r"\bi don'?t (?:want|need)\s+(.+?)(?:\s+(?:anymore|any more|in (?:it|there|the gallery)))"
        r"?$",
    ]
    for pattern in patterns:
        found = re.search(pattern, clause, re.I)
        if found:
            target = re.sub(r"\s+from\s+(?:the\s+)?(?:gallery|list|it|there|site)$", "",
                            found.group(1), flags=re.I)
            names = _names(target)
            if not names:
                return None
            return [Feedback("remove", f"Removed {n}.", value=n) for n in names]
    return None


def _add(clause: str) -> list[Feedback] | None:
    found = re.search(r"\b(?:add|include|also show|put in|insert|throw in|bring in|append|"
                      r"show me|i want to see)\s+(.+)$", clause, re.I)
    if not found:
        return None
    target = re.sub(r"\s+(?:to|in|into|at the end of|on)\s+(?:the\s+)?(?:gallery|list|it|there|"
                    r"collection|site|end|mix)$", "", found.group(1), flags=re.I)
    if _about_a_setting(target) or _is_all(target):
        return None
    if _is_something(target) or re.match(r"^(?:one more|more|another one)\b", target, re.I):
        return [Feedback("add", "Added a subject that splats well.", value="")]
    names = split_names(target)
    if not names:
        return None
    return [Feedback("add", f"Added {n}.", value=n) for n in names]


def _spin(clause: str) -> list[Feedback] | None:
    if not ROTATION.search(clause):
        return None
    low = clause.lower()
    if re.search(r"\b(?:stop|off|no|disable|freeze|halt|without|kill|end|pause|still)\b", low):
        return [Feedback("spin", "Stopped the auto-rotation.", value="off", factor=0.0)]
    if re.search(r"\btoo (?:slow\w*|sluggish)\b|\bfast\w*|\bquick\w*|\bspeed\w* up\b|"
                 r"\bmore\b|\bup\b", low) and not re.search(r"\btoo (?:fast|quick)", low):
        factor = _factor(1.6, clause)
        return [Feedback("spin", f"Faster auto-rotation{_degree_word(clause)}.", factor=factor)]
    if re.search(r"\bslow\w*|\bless\b|\bgentl\w*|\bcalm\w*|\btoo (?:fast|quick)\b|\bdizz\w*|"
                 r"\bnause\w*|\bsick\b|\bdown\b", low):
        factor = _factor(0.6, clause)
        return [Feedback("spin", f"Slower auto-rotation{_degree_word(clause)}.", factor=factor)]
    if re.search(r"\b(?:start|on|enable|resume|begin)\b|^(?:make it )?(?:spin|rotate)$", low):
        return [Feedback("spin", "Turned the auto-rotation on.", value="on")]
    return None


def _speed(clause: str) -> list[Feedback] | None:
    if not TRANSITION.search(clause) and not GENERIC_SPEED.match(clause.strip(" .!?")):
        return None
    seconds = re.search(r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)\b", clause, re.I)
    if seconds and 0.1 <= float(seconds.group(1)) <= 10:
        value = f"{float(seconds.group(1)):g}"
        return [Feedback("speed", f"Transitions of {value} s.", value=value)]
    if SLOWER.search(clause):
        factor = _factor(1.6, clause)
        return [Feedback("speed", f"Slower transitions{_degree_word(clause)}.", factor=factor)]
    if FASTER.search(clause):
        factor = _factor(0.6, clause)
        return [Feedback("speed", f"Faster transitions{_degree_word(clause)}.", factor=factor)]
    return None


_PRONOUN = re.compile(r"^(?:it|them|that|this|that one|this one|those|these)$", re.I)
_TARGETED = [
    r"\bzoom(?:ed|ing)?\s*(?:wa+y\s+|a bit\s+)?(?:in|out)\s+(?:more\s+)?(?:on|to|onto|at|of|"
    r"around|from)\s+(.+?)(?:\s+(?:a bit|a little|a lot|more|much more|please|slightly))*$",
    r"\b(?:make|get|have)\s+(.+?)\s+(?:look\s+|appear\s+|seem\s+)?(?:a (?:bit|little|lot|tad)\s+"
    r"|much\s+|way\s+|slightly\s+|even\s+)?(?:bigger|larger|smaller|closer|nearer|further|"
    r"farther|wider|tighter|more visible|zoomed (?:in|out))\b",
    r"^(.+?)\s+(?:should|must|needs? to|could|has to)\s+(?:be|look)\s+(?:\w+\s+)?(?:bigger|"
    r"larger|smaller|closer|further|farther|more visible)\b",
    r"^(.+?)\s+(?:looks?|seems?|is|are|appears?|feels?|gets?)\s+(?:\w+\s+){0,2}?(?:too\s+)?"
    r"(?:small|tiny|far(?: away)?|distant|big|large|huge|close|cramped|cut off|cropped|"
    r"little|zoomed (?:in|out))\b",
    r"\b(?:closer|nearer|zoom)\s+(?:to|on|onto|into)\s+(.+)$",
    r"\b(?:shrink|enlarge|grow)\s+(.+?)(?:\s+(?:a bit|a little|a lot|more))?$",
    r"\bsee\s+(?:the\s+)?(?:whole|entire|all of)\s+(.+)$",
]


PREVIOUS = ("@previous",)  # "zoom in on it": the items the clause before named


def _zoom(clause: str) -> list[Feedback] | None:
    low = clause.lower()
    direction = "in" if ZOOM_IN.search(low) else "out" if ZOOM_OUT.search(low) else None
    if TOO_OUT.search(low):
        direction = "out"
    elif TOO_IN.search(low):
        direction = "in"
    if direction == "in" and re.search(r"\bzoom(?:ed|ing|s)?\s*(?:way\s+|a bit\s+)?out\b|"
                                       r"\bsee (?:the )?(?:whole|entire|all of)\b", low):
        direction = "out"
    if direction is None:
        return None
    names: tuple[str, ...] | None = ()
    for pattern in _TARGETED:
        found = re.search(pattern, clause, re.I)
        if found:
            target = re.sub(r"(?:\s+(?:less|more|a bit|a little|a lot|much|way|slightly|even))+$",
                            "", found.group(1).strip(), flags=re.I)
            names = PREVIOUS if _PRONOUN.match(target) else _names(target)
            break
    if names is None:
        return None
    factor = _factor(1.25 if direction == "out" else 0.8, clause)
    where = f" on {', '.join(names)}" if names and names != PREVIOUS else ""
    verb = "Zoomed out" if direction == "out" else "Zoomed in"
    return [Feedback("zoom", f"{verb}{where}{_degree_word(clause)}.", factor=factor,
                     names=names)]


_COLOUR_WORDS = sorted(COLOURS, key=len, reverse=True)
def _background(clause: str) -> list[Feedback] | None:
    folded = fold(clause)
    hex_found = re.search(r"#([0-9a-f]{6}|[0-9a-f]{3})\b", folded)
    colour, value = None, ""
    if hex_found:
        digits = hex_found.group(1)
        value = "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits))
        colour = value
    else:
        for word in _COLOUR_WORDS:
            if re.search(rf"\b{re.escape(word)}\b", folded):
                colour, value = word, COLOURS[word]
                break
    shift = ""
    for word, (name, _) in SHIFTS.items():
        if re.search(rf"\b{word}\b", folded):
            shift = name
            break
    if re.search(r"\btoo (?:bright|light|white|pale|glaring)\b|\bless bright\b", folded):
        shift = "darker"
    elif re.search(r"\btoo dark\b|\bless dark\b", folded):
        shift = "lighter"
    if not colour and not shift:
        return None
    if not BACKGROUND.search(clause):
        rest = re.sub(r"#[0-9a-f]+", " ", folded)
        if colour and not colour.startswith("#"):
            rest = re.sub(rf"\b{re.escape(colour)}\b", " ", rest)
        for word in SHIFTS:
            rest = re.sub(rf"\b{word}\b", " ", rest)
        leftover = [w for w in re.findall(r"[a-z']+", rest) if w not in LEFTOVER_OK]
        if leftover:
            return None
    if shift and colour and colour in ("dark", "light"):
        colour, value = None, ""
    if colour and shift:
        summary = f"Background set to {colour}, {shift}."
    elif colour:
        summary = f"Background set to {colour}" + (f" ({value})." if colour != value else ".")
    else:
        summary = f"Background {shift}{_degree_word(clause)}."
    return [Feedback("background", summary, value=value, other=shift,
                     factor=degree(clause))]


RECOGNISERS: tuple[Callable[[str], list[Feedback] | None], ...] = (
    _deploy, _title, _rename, _swap_order, _reorder, _replace, _remove, _add, _spin, _speed,
    _zoom, _background)


def parse_clause(clause: str) -> list[Feedback] | None:
    """The edits one clause asks for, or None when it is not understood."""
    text = strip_politeness(clause)
    if not text or re.search(r"\b(?:except|apart from|other than|but not|unless)\b", text, re.I):
        return None  # exceptions are not in the vocabulary: better not understood than wrong
    for recognise in RECOGNISERS:
        found = recognise(text)
        if found:
            return found
    return None


def read_edits(message: str) -> Reading:
    """Every clause of ``message`` read as an edit, declined, politeness or not understood."""
    edits: list[Feedback] = []
    unknown: list[str] = []
    declined: list[str] = []
    if len(message) > MAX_MESSAGE_CHARS:
        return Reading(unknown=(f"a message of {len(message)} characters (at most "
                                f"{MAX_MESSAGE_CHARS})",))
    for clause in clauses(fix_typos(message), parse_clause):
        text = strip_politeness(clause)
        if not text or FILLER.match(text) or FILLER.match(clause.strip()):
            continue
        if NEGATED.search(text) and not re.search(r"\bi don'?t (?:want|need)\b", text, re.I):
            declined.append(clause)
            continue
        found = parse_clause(text)
        if found is None:
            unknown.append(clause)
            continue
        for edit in found:
            if edit.names == PREVIOUS:
                before = [e for e in edits if e.kind == edit.kind]
                if before and before[-1].names:
                    continue  # "the arc looks too far, zoom in on it": one edit, not two
                edit = Feedback(edit.kind, edit.summary, edit.factor, edit.value, edit.other, ())
            edits.append(edit)
    return Reading(tuple(edits), tuple(unknown), tuple(declined))
