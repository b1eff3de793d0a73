"""Free-text hygiene at the entry points: one function, ``clean_text``.

What a clerk types or an API caller sends is stored as given, except for characters that have
no business in a petition and can be used to deceive a reader:

- C0/C1 control characters (NUL, ESC, BEL, …) are removed; ``\\n`` and ``\\t`` stay, ``\\r\\n``
  and a lone ``\\r`` become ``\\n``;
- bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069, plus
  U+200E/U+200F/U+061C marks) are removed: they can make "…元" read as a different amount or
  reorder a name on screen (Trojan Source);
- other format characters (Unicode category ``Cf``: zero-width space, word joiner, BOM, soft
  hyphen, interlinear annotation, tag characters outside emoji flag sequences …) are removed,
  except ZWJ (U+200D) and ZWNJ (U+200C), which emoji sequences such as 👨‍👩‍👧 and some scripts need;
- lone surrogates (invalid in UTF-8, refused by PostgreSQL) and non-characters are removed.

The text is then normalised to NFC. NFC never changes CJK unified ideographs, including the
supplementary-plane extensions B–H (𠀀 U+20000, 𪚥 U+2A6A5, 𰻞 U+30EDE), and leaves emoji and
variation selectors (U+FE0F) alone; only the CJK *compatibility* ideographs (U+F900…, U+2F800…)
map to their unified twins, which is what a search should find anyway.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any, TypeVar

T = TypeVar("T", bound=Any)

# Format characters kept: ZWNJ, ZWJ (emoji ZWJ sequences, Indic/Persian text).
_KEEP_FORMAT = {"\u200c", "\u200d"}
# Emoji tag sequences (subdivision flags such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿) use TAG characters U+E0020–E007F after a
# black flag; they are Cf but harmless in that position.
_TAG_RUN = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")
_NEWLINES = re.compile("\r\n?")


def _keep(ch: str) -> bool:
    if ch in "\n\t":
        return True
    cat = unicodedata.category(ch)
    if cat == "Cc":  # C0, DEL, C1
        return False
    if cat == "Cf":
        return ch in _KEEP_FORMAT
    if cat == "Cs":  # lone surrogate (only from broken decoders / JSON \ud800)
        return False
    if cat == "Cn":
        code = ord(ch)
        # Non-characters (U+FDD0–FDEF, U+xxFFFE/FFFF) are dropped; other unassigned code
        # points stay: a new Unicode version may assign them (new CJK extensions do).
        if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            return False
    return True


def clean_text(value: str | None) -> str:
    """Return ``value`` without control/format characters, newlines as ``\\n``, in NFC.

    ``None`` becomes ``""``. Leading/trailing whitespace is kept (callers ``strip()`` where a
    field is one line); emoji, ZWJ sequences, variation selectors and all CJK extension
    characters survive unchanged.
    """
    if not value:
        return ""
    text = _NEWLINES.sub("\n", value)
    if text.isascii() and text.isprintable():
        return text
    flags = {m.start(): m.end() for m in _TAG_RUN.finditer(text)}
    out: list[str] = []
    i = 0
    while i < len(text):
        end = flags.get(i)
        if end is not None:
            out.append(text[i:end])
            i = end
            continue
        ch = text[i]
        if _keep(ch):
            out.append(ch)
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


def clean_line(value: str | None) -> str:
    """``clean_text`` for one-line fields (names, summaries): newlines and tabs become spaces,
    and the ends are stripped."""
    text = clean_text(value)
    if "\n" in text or "\t" in text:
        text = " ".join(text.replace("\t", " ").split("\n"))
    return text.strip()


def clean_fields(obj: T, *names: str) -> T:
    """A copy of the dataclass ``obj`` with ``clean_line`` applied to the named str fields
    (the caller's object is not changed)."""
    changes = {n: clean_line(getattr(obj, n)) for n in names if isinstance(getattr(obj, n), str)}
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
