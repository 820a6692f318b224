"""Text helpers shared by every part: ASCII slugs for file names and tool names."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into ASCII.
_LIGATURES = (("œ", "oe"), ("Œ", "Oe"), ("æ", "ae"), ("Æ", "Ae"), ("ß", "ss"), ("ø", "o"),
              ("Ø", "O"), ("ł", "l"), ("Ł", "L"), ("đ", "d"), ("Đ", "D"))


def slugify(text: str, *, max_len: int = 48) -> str:
    """A lower-case ASCII slug: ``"Sacré-Cœur de Paris"`` → ``"sacre-coeur-de-paris"``.

    Args:
        text: any text.
        max_len: the longest slug returned.

    Returns:
        The slug, or ``"item"`` when nothing is left.
    """
    for src, dst in _LIGATURES:
        text = text.replace(src, dst)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].strip("-") or "item"
