"""The offline planner's deliberate vocabulary: themes, colours, degrees and the words of edits.

Everything the planner understands is listed here or in the patterns of
:mod:`spacesmith.agent.planner.edits` and :mod:`spacesmith.agent.planner.intents`; the
README section "What the offline planner understands" describes it for people. What is
not here is not understood, and the planner says so instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_COUNT = 6
MAX_SUBJECTS = 12
MAX_MESSAGE_CHARS = 600  # longer messages are not read (the patterns are not linear-time)

# theme key: (title, subjects in the order they are picked). The first six are the default.
THEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "paris": ("Monuments de Paris", (
        "Arc de Triomphe", "Eiffel Tower", "Notre-Dame de Paris", "Panthéon", "Sacré-Cœur",
        "Luxor Obelisk", "Les Invalides", "Palais Garnier", "Louvre Palace",
        "Madeleine Church")),
    "egypt": ("Monuments of Egypt", (
        "Great Sphinx of Giza", "Pyramid of Khufu", "Abu Simbel temple", "Karnak temple pylon",
        "Temple of Hatshepsut", "Colossi of Memnon", "Luxor Temple obelisk", "Temple of Edfu")),
    "japan": ("Monuments of Japan", (
        "Himeji Castle", "Kinkaku-ji", "Tōdai-ji", "Itsukushima torii gate",
        "Osaka Castle", "Kotoku-in Great Buddha", "Yasaka Pagoda", "Nijō Castle")),
    "rome": ("Monuments of Rome", (
        "Colosseum", "Pantheon of Rome", "Arch of Constantine", "Trevi Fountain",
        "Castel Sant'Angelo", "Temple of Hercules Victor", "Trajan's Column",
        "St. Peter's Basilica")),
    "london": ("Monuments of London", (
        "Tower of London", "St Paul's Cathedral", "Big Ben clock tower",
        "Tower Bridge", "Westminster Abbey", "Marble Arch", "Buckingham Palace",
        "Royal Albert Hall")),
    "greece": ("Monuments of Greece", (
        "Parthenon", "Erechtheion", "Temple of Hephaestus", "Temple of Poseidon at Sounion",
        "Lion Gate of Mycenae", "Tholos of Delphi", "Odeon of Herodes Atticus")),
    "india": ("Monuments of India", (
        "Taj Mahal", "Qutb Minar", "Hawa Mahal", "Gateway of India",
        "Konark Sun Temple", "Charminar", "Victoria Memorial", "Mysore Palace")),
}

# words in a goal that name a theme (whole words, any case)
THEME_WORDS: dict[str, str] = {
    "paris": "paris", "parisian": "paris", "egypt": "egypt", "egyptian": "egypt",
    "japan": "japan", "japanese": "japan", "kyoto": "japan", "rome": "rome", "roman": "rome",
    "london": "london", "greece": "greece", "greek": "greece", "athens": "greece",
    "india": "india", "indian": "india",
}

# subjects that reconstruct poorly from one picture: thin, open or lattice shapes, water
THIN_WORDS = ("obelisk", "column", "tower", "spire", "minaret", "torii", "gate", "fountain",
              "bridge", "pagoda", "pylon", "minar", "statue", "colossi")

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2,
           "a pair of": 2, "a few": 3, "a handful of": 5, "half a dozen": 6, "a dozen": 12,
           "several": 4}

# everyday colour words → hex; longest phrases are tried first
COLOURS: dict[str, str] = {
    "pitch black": "#000000", "jet black": "#000000", "pure black": "#000000",
    "black": "#000000", "white": "#ffffff", "off white": "#f5f5f0", "ivory": "#fffff0",
    "grey": "#808080", "gray": "#808080", "dark grey": "#202020", "dark gray": "#202020",
    "charcoal": "#222222", "light grey": "#d3d3d3", "light gray": "#d3d3d3",
    "silver": "#c0c0c0", "slate": "#2f3a4a", "navy": "#0b1a33", "navy blue": "#0b1a33",
    "dark blue": "#0a1f44", "blue": "#1e3a8a", "light blue": "#add8e6", "sky blue": "#87ceeb",
    "midnight blue": "#191970", "midnight": "#101030", "night sky": "#0b1026",
    "starry night": "#0b1026", "night": "#0b1026", "dusk": "#2c2a4a", "twilight": "#2c2a4a",
    "teal": "#0f4c4c", "turquoise": "#30d5c8", "cyan": "#00bcd4", "red": "#7f1d1d",
    "dark red": "#4a0e0e", "burgundy": "#4a0d1c", "wine": "#4a0d1c", "maroon": "#4a0e0e",
    "crimson": "#8b1a2b", "pink": "#f4a6c0", "orange": "#c2410c", "sunset": "#7c2d12",
    "yellow": "#eab308", "gold": "#a67c00", "golden": "#a67c00", "green": "#14532d",
    "dark green": "#0b2e1a", "forest green": "#0b2e1a", "olive": "#3d4a1a",
    "mint": "#98e0c0", "purple": "#3b0764", "violet": "#4c1d95", "lavender": "#c4b5fd",
    "plum": "#3d1a3d", "brown": "#3e2723", "chocolate": "#3b2314", "beige": "#e8dcc4",
    "cream": "#fffdd0", "sand": "#d8c8a8", "tan": "#c8a878", "warm": "#2b1d14",
    "warm grey": "#3a3330", "warm gray": "#3a3330", "cool": "#0f1b2d", "cold": "#0f1b2d",
    "cool grey": "#2a3038", "cool gray": "#2a3038", "dark": "#0b0d12", "ink": "#0b0d12",
    "deep space": "#05060a", "space": "#05060a", "ocean": "#0c3b5e", "sea": "#0c3b5e",
}

# adjectives that move the current background rather than name a colour
SHIFTS = {"darker": ("darker", 1.0), "dimmer": ("darker", 1.0), "deeper": ("darker", 1.0),
          "lighter": ("lighter", 1.0), "brighter": ("lighter", 1.0), "paler": ("lighter", 1.0),
          "warmer": ("warmer", 1.0), "cooler": ("cooler", 1.0), "colder": ("cooler", 1.0)}

# degrees: an exponent on an edit's base factor
_SMALL = (r"a (?:tiny |little )?bit|a little|a tad|a touch|slightly|somewhat|marginally|"
          r"a smidge|just a bit|a hair|not too much|gently|a notch")
_LARGE = (r"a lot|a great deal|much|way|far more|by far|really|very|lots|considerably|"
          r"significantly|hugely|drastically|massively|dramatically|heaps|tons|loads|"
          r"seriously|extremely|waaay|waay")
SMALL = re.compile(rf"\b(?:{_SMALL})\b")
LARGE = re.compile(rf"\b(?:{_LARGE})\b")
TWICE = re.compile(r"\b(?:twice|double|2x|two times)\b")
HALF = re.compile(r"\b(?:half|halve)\b")


def degree(text: str) -> float:
    """The exponent for a clause's degree words: 0.5 a bit, 1 plain or "more", 2 a lot."""
    low = text.lower()
    if SMALL.search(low):
        return 0.5
    if LARGE.search(low):
        return 2.0
    return 1.0


def fold(text: str) -> str:
    """Lower case ASCII with ligatures spelled out: "Sacré-Cœur" → "sacre-coeur"."""
    for char, spelled in (("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae"), ("ß", "ss")):
        text = text.replace(char, spelled)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ascii_text.lower()


def theme_of(text: str) -> str | None:
    """The theme a text names by a whole word (``"a Roman gallery"`` → ``"rome"``)."""
    for word in re.findall(r"[a-z]+", fold(text)):
        if word in THEME_WORDS:
            return THEME_WORDS[word]
    return None


def is_thin(subject: str) -> bool:
    """True for subjects that splat poorly (an obelisk, a lattice tower, a gate)."""
    words = re.findall(r"[a-z]+", fold(subject))
    return any(w.rstrip("s") in THIN_WORDS or w in THIN_WORDS for w in words)


def theme_for_gallery(title: str, names: list[str]) -> str | None:
    """The theme a gallery came from: its title, else the most names shared with a theme."""
    for key, (theme_title, _) in THEMES.items():
        if fold(theme_title) == fold(title):
            return key
    folded = {fold(n) for n in names}
    best, shared = None, 0
    for key, (_, subjects) in THEMES.items():
        count = sum(1 for s in subjects if fold(s) in folded)
        if count > shared:
            best, shared = key, count
    return best or theme_of(title)


def solid_candidates(theme: str) -> tuple[str, ...]:
    """The theme's subjects that splat well, in the theme's order."""
    return tuple(s for s in THEMES[theme][1] if not is_thin(s))


# --- the words of viewer edits (read by edits.py) -----------------------------------------

ROTATION = re.compile(r"\b(?:spin\w*|rotat\w*|auto-?rotat\w*|turn(?:s|ing)? around|orbit\w*|"
                       r"revolv\w*|turntable|twirl\w*|whirl\w*|swivel\w*|turning)\b", re.I)

TRANSITION = re.compile(
    r"\b(?:transition\w*|fade\w*|flight\w*|fly|flying|flies|(?:switch|chang|mov|go|jump|"
    r"cut)\w* (?:between|from one)|travel\w*|camera move\w*|animation\w*|cross-?fade\w*|"
    r"slides?|slideshow|pace|pacing|tempo)\b", re.I)

SLOWER = re.compile(
    r"\btoo (?:fast|quick\w*|abrupt\w*|short|rushed|jarring|jumpy|hurried|sudden)\b|"
    r"\bslow(?:er|ly)?\s+(?:\w+\s+){0,2}?down\b|\bslower\b|\blonger\b|\bmore (?:time|leisurely|"
    r"gentle|gradual|slowly)\b|\bgentler\b|\bsmoother\b|\bless (?:abrupt|rushed|fast|quick|"
    r"sudden|jarring)\b|\blinger\w* longer\b|\btake (?:more |its )?time\b|\brelaxed\b|"
    r"\bcalmer\b|\bnot so fast\b|\bleisurely\b|\bslowly\b", re.I)

FASTER = re.compile(
    r"\blinger\w*|\btoo (?:long|slow\w*|sluggish|lengthy|drawn out)\b|\bdrag\w*|\bsluggish\b|"
    r"\bforever\b|\bages\b|\btedious\b|\bfaster\b|\bquicker\b|\bsnappier\b|\bsnappy\b|"
    r"\bspeed\w* (?:\w+ )?up\b|\bshorter\b|\bquick(?:ly)?\b|\bbrisk\w*|\bhurry\b|\bless time\b|"
    r"\bfast\b|\b(?:is|are|feels?|seems?|so|very|really|kinda|a bit) slow\b|\bhalf as long\b|"
    r"\bhalf the time\b|\btakes? (?:too |so |way )?long\b|\bboring\b|\bless (?:slow|long)\b|"
    r"\bzippier\b|\bzippy\b", re.I)

GENERIC_SPEED = re.compile(
    r"^(?:make (?:it|things|everything|them) |go |be |(?:it'?s|it is|that'?s) (?:too |way too |"
    r"a bit |a little |much )?)?(?:a (?:bit|little|tad|touch) |slightly |much |way |a lot |"
    r"even )?(faster|quicker|snappier|slower|slow(?:er)? (?:it |things |everything )?down|"
    r"speed (?:it |things |everything )?up|too slow|too fast)(?: (?:a bit|a little|a lot|"
    r"please|still|more))*$", re.I)

ZOOM_OUT = re.compile(
    r"\bzoom(?:ed|ing|s)?\s*(?:wa+y\s+|a bit\s+|right\s+|all the way\s+)?out\b|"
    r"\bfurther (?:away|back|out)\b|"
    r"\bfarther\b|\bpull(?:ed|ing)? (?:the camera )?back\b|\bback (?:off|up|away)\b|"
    r"\bmove (?:the camera )?(?:back|away)\b|\bwider\b|\bmore distance\b|\bless close\b|"
    r"\bsee (?:the )?(?:whole|entire|all of)\b|\bcut off\b|\bcropped\b|\bdoesn'?t fit\b|"
    r"\bsmaller\b|\btoo (?:big|large|huge|close|near|zoomed(?: in)?|cramped|tight|much)\b|"
    r"\bdistant\b|\bunzoom\b|\bzoom(?:ed)? (?:less|back)\b|\bless zoom(?:ed)?(?: in)?\b|"
    r"\bshrink\b|\bfit (?:it|them|everything)? ?(?:in|on)\b", re.I)

ZOOM_IN = re.compile(
    r"\btoo (?:small|tiny|far(?: away)?|distant|zoomed out|little)\b|"
    r"\bzoom(?:ed|ing|s)?\s*(?:wa+y\s+|a bit\s+|right\s+)?in(?:to)?\b|\bcloser\b|\bnearer\b|"
    r"\bpush in\b|\bmove in\b|\btighter\b|\bfill (?:the |more of the )?(?:frame|screen)\b|"
    r"\bmagnif\w*|\benlarge\b|\bbigger\b|\blarger\b|\bhuger\b|\bmore visible\b|"
    r"\bcan'?t see\b|\bhard to see\b|\btiny\b|\bbarely visible\b|\bzoom more\b|\bgrow\b", re.I)

TOO_OUT = re.compile(r"\btoo (?:zoomed in|close|near|big|large|huge|cramped|tight)\b|"
                      r"\bless (?:zoomed in|close)\b")

TOO_IN = re.compile(r"\btoo (?:zoomed out|far(?: away)?|distant|small|tiny|little)\b|"
                     r"\bless (?:zoomed out|far)\b")

BACKGROUND = re.compile(r"\b(?:background|backdrop|bg|back ground|backround|backgound|"
                         r"backgroud|bakground)\b", re.I)

LEFTOVER_OK = {"make", "use", "go", "try", "set", "turn", "paint", "switch", "change", "want",
                "like", "look", "looks", "a", "an", "the", "it", "something", "more", "bit",
                "little", "colour", "color", "instead", "with", "to", "please", "much", "way",
                "lot", "tad", "touch", "slightly", "even", "i", "d", "id", "would", "prefer",
                "how", "about", "what", "maybe", "one", "tone", "shade", "of", "in", "as",
                "very", "really", "rather", "too", "is", "it's", "its", "s", "be",
                "could", "should", "we", "let", "lets", "give", "feel", "feels", "mood",
                "vibe", "theme", "page", "scene", "everything", "all", "sky", "nice", "and",
                "dark", "light", "deep", "pale", "bright", "somewhat", "kind", "sort",
                "ish", "kinda", "sorta", "for", "that", "this", "so", "just"}
