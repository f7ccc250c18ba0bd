"""Checks on user-supplied text (questions, draft sentences) before any work is done."""

from __future__ import annotations

import unicodedata

from assistant.errors import UsageError

MAX_QUERY_CHARS = 2000


def clean_query(text: object, what: str = "question", max_chars: int = MAX_QUERY_CHARS) -> str:
    """Return the stripped query or raise ``UsageError`` with a message a person can act on.

    Tabs and newlines become spaces; any other control character, NUL, or the
    U+FFFD replacement character (undecodable bytes) is refused, since such text
    is almost always binary pasted by mistake.
    """
    if not isinstance(text, str):
        raise UsageError(f"the {what} must be text")
    s = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ").strip()
    if not s:
        raise UsageError(f"the {what} is empty; type a {what} in Japanese or English")
    if len(s) > max_chars:
        raise UsageError(
            f"the {what} is too long ({len(s):,} characters; the limit is {max_chars:,}); "
            "shorten it to the part you want answered"
        )
    bad = [c for c in s if c == "\ufffd" or (unicodedata.category(c) == "Cc")]
    if bad:
        raise UsageError(
            f"the {what} contains {len(bad)} control or undecodable character(s) "
            f"(first: U+{ord(bad[0]):04X}); it looks like binary data, not text"
        )
    if not any(c.isalnum() for c in s):
        raise UsageError(f"the {what} has no letters or digits")
    return s
