"""The code the offline planner writes for edits of the current gallery.

The code runs in the agent's executor like an LLM's would. It reads the gallery, finds
every item an edit names (forgiving: accents, case, partial names, "the obelisk" for the
item whose name or caption says obelisk, one-letter typos), checks everything before any
Space call, then calls the Spaces once for all new subjects, applies the edits in the
order they were asked, and rebuilds the site. A name that matches nothing, or two items,
raises ``Nothing changed: …`` before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from spacesmith.agent.codeagent.prompting import render
from spacesmith.agent.planner.edits import Feedback

SLOT = "@@SUBJECT@@"

# Runs in the executor: only unicodedata and json, no private attributes, no str.format.
MATCH_CODE = """\
import unicodedata
STOP = {"the", "a", "an", "le", "la", "les", "l", "de", "du", "des", "of", "d", "one", "that"}
SYN = {"tour": "tower", "eglise": "church", "cathedrale": "cathedral", "obelisque": "obelisk",
       "arc": "arch", "palais": "palace", "basilique": "basilica", "saint": "st",
       "sainte": "st", "chateau": "castle", "pont": "bridge", "temple": "temple"}
def words(s):
    s = str(s)
    for a, b in (("\\u0153", "oe"), ("\\u0152", "oe"), ("\\u00e6", "ae"), ("\\u00df", "ss")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    s = "".join(c if c.isalnum() else " " for c in s)
    out = []
    for w in s.split():
        if w in STOP:
            continue
        w = SYN.get(w, w)
        if len(w) > 3 and w.endswith("s"):
            w = w[:-1]
        out.append(w)
    return out
def close(a, b):
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(1 for x, y in zip(a, b) if x != y) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
def score(q, item):
    name = words(item.get("name", ""))
    more = name + words(item.get("caption", ""))
    if not q:
        return 0
    if q == name:
        return 5
    if all(w in name for w in q):
        return 4
    if all(w in more for w in q):
        return 3
    if all(len(w) >= 3 and any(n.startswith(w) for n in more) for w in q):
        return 2
    if name and all(w in q for w in name):
        return 2
    if all(any(close(w, n) for n in more) for w in q):
        return 1
    return 0
def find(name):
    q = words(name)
    scores = [score(q, it) for it in gallery["items"]]
    best = max(scores) if scores else 0
    names = [it["name"] for it in gallery["items"]]
    if best == 0:
        raise ValueError(f"Nothing changed: no item like {name!r} in the gallery; "
                         f"it has: {', '.join(names)}")
    hits = [names[i] for i, s in enumerate(scores) if s == best]
    if len(hits) > 1:
        raise ValueError(f"Nothing changed: {name!r} could be {' or '.join(hits)}; say which")
    return gallery["items"][scores.index(best)]
def present(name):
    q = words(name)
    for it in gallery["items"]:
        n = words(it.get("name", ""))
        if score(q, it) >= 3 or (n and all(w in q for w in n)):
            return True
    return False
"""

PICK_CODE = """\
def pick(cands, taken):
    for c in cands:
        if not present(c) and c not in taken:
            return c
    raise ValueError("Nothing changed: every subject I know for this gallery's theme is in it "
                     "already; name one, e.g. 'replace the obelisk with the Louvre'")
"""

SHIFT_CODE = """\
def shift(hex_colour, how, amount):
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    if how == "darker":
        k = 0.6 ** amount
        r, g, b = r * k, g * k, b * k
    elif how == "lighter":
        k = 1 - 0.7 ** amount
        r, g, b = r + (255 - r) * k, g + (255 - g) * k, b + (255 - b) * k
    elif how == "warmer":
        r, b = r + 28 * amount, b - 20 * amount
    else:
        r, b = r - 20 * amount, b + 28 * amount
    r, g, b = [max(0, min(255, int(round(x)))) for x in (r, g, b)]
    return f"#{r:02x}{g:02x}{b:02x}"
"""


def _js(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def edit_code(feedback: Feedback | Sequence[Feedback],
              candidates: Sequence[str] = ()) -> str:
    """The code that applies edits (in order) to the current gallery and rebuilds the site.

    Args:
        feedback: one edit or several, in the order they were asked.
        candidates: subjects that splat well, for "something better" (the gallery's theme).

    Returns:
        Python for the executor.
    """
    edits = [feedback] if isinstance(feedback, Feedback) else list(feedback)
    deploys = [e for e in edits if e.kind == "deploy"]
    if deploys and len(deploys) == len(edits):
        return (f"url = deploy_site({deploys[-1].value!r})\n"
                "final_answer(f\"Deployed: {url}\")")
    edits = [e for e in edits if e.kind != "deploy"]
    kinds = {e.kind for e in edits}
    lines = ["gallery = read_gallery()", "import json",
             "v = gallery.setdefault(\"viewer\", {})", "items = gallery[\"items\"]",
             "before = json.loads(json.dumps(gallery))", "done = []", "new = []"]
    if kinds & {"zoom", "remove", "add", "replace", "reorder", "rename"}:
        lines.append(MATCH_CODE)
    if any(e.kind in ("add", "replace") and not (e.other if e.kind == "replace" else e.value)
           for e in edits):
        lines.append(PICK_CODE)
        lines.append(f"cands = {_js(list(candidates))}")
    if any(e.kind == "background" and e.other for e in edits):
        lines.append(SHIFT_CODE)
    # pass 1: find every item and check every name, before any Space call
    for n, e in enumerate(edits):
        lines.extend(_check(n, e))
    # pass 2: one image and one splat call per new subject, all at once
    template = render("image_prompt", subject=SLOT)
    lines.append("made = {}")
    if kinds & {"add", "replace"}:
        lines.append(
            "if new:\n"
            f"    tpl = {template!r}\n"
            f"    imgs = call_many(\"image\", [{{\"prompt\": tpl.replace({SLOT!r}, s)}} "
            "for s in new])\n"
            "    spl = call_many(\"splat\", [{\"image\": r.image} for r in imgs])\n"
            "    for s, r, sp in zip(new, imgs, spl):\n"
            "        fixed = fix_splat(sp.splat, name=s)\n"
            "        made[s] = {\"name\": s, \"splat\": fixed.path, \"image\": r.image, "
            "\"camera\": fixed.camera, \"zoom\": 1.0}")
    # pass 3: apply in the order asked
    for n, e in enumerate(edits):
        lines.extend(_apply(n, e))
    lines.append(
        "if not items:\n"
        "    raise ValueError(\"Nothing changed: that would leave the gallery empty\")\n"
        "if gallery == before:\n"
        "    final_answer(\"Nothing changed: the gallery already looks like that. \" "
        "+ \" \".join(done))\n"
        "else:\n"
        "    site = build_site(gallery)\n"
        "    report = \" \".join(done) + f\" Site: {site.folder}; subjects: "
        "{', '.join(it['name'] for it in gallery['items'])}\"")
    if deploys:
        lines.append(f"    url = deploy_site({deploys[-1].value!r})\n"
                     "    report = report + f\" Deployed: {url}\"")
    lines.append("    final_answer(report)")
    return "\n".join(lines)


def _check(n: int, e: Feedback) -> list[str]:
    t = f"t{n}"
    if e.kind == "zoom" and e.names:
        return [f"{t} = [find(x) for x in {_js(list(e.names))}]"]
    if e.kind == "remove":
        return [f"{t} = find({e.value!r})"]
    if e.kind == "rename":
        taken = f"Nothing changed: {e.other} is already in the gallery"
        return [f"{t} = find({e.value!r})",
                f"if present({e.other!r}) and words({e.other!r}) != words({t}['name']):\n"
                f"    raise ValueError({taken!r})"]
    if e.kind == "add":
        subject = (f"s{n} = {e.value!r}" if e.value else f"s{n} = pick(cands, new)")
        return [subject,
                f"if present(s{n}):\n"
                f"    raise ValueError(f\"Nothing changed: {{s{n}}} is in the gallery already\")",
                f"new.append(s{n})"]
    if e.kind == "replace":
        out = [f"{t} = find({e.value!r})",
               f"s{n} = {e.other!r}" if e.other else f"s{n} = pick(cands, new)"]
        if e.names == ("swap",):
            out.append(f"w{n} = find(s{n}) if present(s{n}) else None")
            out.append(f"if w{n} is None:\n    new.append(s{n})")
        else:
            out.append(f"if present(s{n}):\n"
                       f"    raise ValueError(f\"Nothing changed: {{s{n}}} is in the gallery "
                       "already\")")
            out.append(f"new.append(s{n})")
        return out
    if e.kind == "reorder":
        out = []
        if e.names:
            out.append(f"{t} = [find(x) for x in {_js(list(e.names))}]")
        if e.value in ("before", "after"):
            out.append(f"a{n} = find({e.other!r})")
        return out
    return []


def _apply(n: int, e: Feedback) -> list[str]:
    t = f"t{n}"
    summary = f"done.append({e.summary!r})"
    if e.kind == "zoom":
        targets = f"{t}" if e.names else "items"
        return [f"for it in {targets}:\n"
                f"    it[\"zoom\"] = max(0.05, min(20.0, round(it.get(\"zoom\", 1.0) * "
                f"{e.factor}, 3)))", summary]
    if e.kind == "speed":
        if e.value:
            return [f"v[\"transition_s\"] = {float(e.value)}", summary]
        return ["v[\"transition_s\"] = max(0.1, min(10.0, round(v.get(\"transition_s\", 1.6) "
                f"* {e.factor}, 3)))", summary]
    if e.kind == "spin":
        if e.value == "off":
            return ["v[\"auto_rotate_speed\"] = 0.0", summary]
        if e.value == "on":
            return ["v[\"auto_rotate_speed\"] = v.get(\"auto_rotate_speed\", 0.6) or 0.6",
                    summary]
        return ["v[\"auto_rotate_speed\"] = max(0.0, min(30.0, round((v.get("
                f"\"auto_rotate_speed\", 0.6) or 0.6) * {e.factor}, 3)))", summary]
    if e.kind == "background":
        out = []
        if e.value:
            out.append(f"v[\"background\"] = {e.value!r}")
        if e.other:
            out.append(f"v[\"background\"] = shift(v.get(\"background\", \"#0b0d12\"), "
                       f"{e.other!r}, {e.factor})")
        return [*out, summary]
    if e.kind == "title":
        return [f"gallery[\"title\"] = {e.value!r}", summary]
    if e.kind == "rename":
        return [f"{t}[\"name\"] = {e.other!r}", summary]
    if e.kind == "remove":
        return [f"items.remove({t})", summary]
    if e.kind == "add":
        return [f"made[s{n}][\"zoom\"] = items[0].get(\"zoom\", 1.0) if items else 1.0",
                f"items.append(made[s{n}])", f"done.append(f\"Added {{s{n}}}.\")"]
    if e.kind == "replace":
        replace = (f"made[s{n}][\"zoom\"] = {t}.get(\"zoom\", 1.0)\n"
                   f"items[items.index({t})] = made[s{n}]\n"
                   f"done.append(f\"Replaced {{{t}['name']}} with {{s{n}}}.\")")
        if e.names == ("swap",):
            return [f"if w{n} is not None:\n"
                    f"    i, j = items.index({t}), items.index(w{n})\n"
                    f"    items[i] = w{n}\n"
                    f"    items[j] = {t}\n"
                    f"    done.append(f\"Swapped {{{t}['name']}} and {{w{n}['name']}}.\")\n"
                    "else:\n" + "\n".join("    " + line for line in replace.splitlines())]
        return [replace]
    if e.kind == "reorder":
        return [_reorder(n, e), summary]
    return []


def _reorder(n: int, e: Feedback) -> str:
    t = f"t{n}"
    if e.value == "alpha":
        return "items.sort(key=lambda it: words(it[\"name\"]))"
    if e.value == "reverse":
        return "items.reverse()"
    if e.value == "swap":
        return (f"i, j = items.index({t}[0]), items.index({t}[1])\n"
                "a, b = items[i], items[j]\nitems[i] = b\nitems[j] = a")
    if e.value in ("before", "after"):
        return (f"for it in {t}:\n"
                "    items.remove(it)\n"
                f"k = items.index(a{n})" + (" + 1" if e.value == "after" else "") + "\n"
                f"for it in reversed({t}):\n    items.insert(k, it)")
    if e.value == "at":
        return (f"items.remove({t}[0])\n"
                f"items.insert(min({int(e.other) - 1}, len(items)), {t}[0])")
    if e.value == "last":
        return f"for it in {t}:\n    items.remove(it)\nitems.extend({t})"
    return (f"for it in {t}:\n    items.remove(it)\n"
            f"for it in reversed({t}):\n    items.insert(0, it)")
