"""Checks on user-supplied text (questions, draft sentences) before any work is done."""

from __future__ import annotations

import unicodedata

from assistant.errors import UsageError

MAX_QUERY_CHARS = 2000
#: Invisible marks that editors and Windows tools put at the start or end of text.
_EDGE_MARKS = "\ufeff\u200b"


def clean_query(text: object, what: str = "question", max_chars: int = MAX_QUERY_CHARS) -> str:
    """Return the stripped query or raise ``UsageError`` with a message a person can act on.

    Tabs and newlines become spaces and a byte-order mark at either end is dropped;
    any other control character, NUL, the U+FFFD replacement character or a lone
    surrogate (how Python decodes invalid UTF-8 in argv and stdin) is refused,
    since such text is almost always binary pasted by mistake.
    """
    if not isinstance(text, str):
        raise UsageError(f"the {what} must be text")
    s = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    s = s.strip().strip(_EDGE_MARKS).strip()
    if not s:
        raise UsageError(f"the {what} is empty; type a {what} in Japanese or English")
    if len(s) > max_chars:
        raise UsageError(
            f"the {what} is too long ({len(s):,} characters; the limit is {max_chars:,}); "
            "shorten it to the part you want answered"
        )
    bad = [c for c in s if c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cs")]
    if bad:
        raise UsageError(
            f"the {what} contains {len(bad)} control or undecodable character(s) "
            f"(first: U+{ord(bad[0]):04X}); it looks like binary data, not text"
        )
    if not any(c.isalnum() for c in s):
        raise UsageError(f"the {what} has no letters or digits")
    return s
