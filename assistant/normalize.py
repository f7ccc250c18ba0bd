"""Japanese text normalisation with an offset map back to the original.

The original text is what is quoted back to users; the normalised text is what
BM25 and the embedder see. ``normalize_with_map`` returns both the normalised
string and, for every normalised character, the index of the original character
it came from, so any span found in normalised text can be turned back into an
exact quote of the source.

What is folded, and why:
- NFKC: Kangxi radicals used as kanji (``⽉`` U+2F49 -> 月), full-width digits and
  Latin letters (``４`` -> 4, ``ＩＴＥＲ`` -> ITER), half-width katakana.
- CJK Radicals Supplement (U+2E80–U+2EFF): PDF fonts emit ``⺠`` for 民 and ``⻑``
  for 長; NFKC leaves these alone, so an explicit table (Unicode's
  EquivalentUnifiedIdeograph data) maps them.
- Private-use glyphs (bullets such as U+F06C from symbol fonts) are dropped.
- Spaces next to Japanese text are layout, not words: dropped; runs collapse.
- Stray page numbers at line ends (``…の開催 5``) and lines that hold only a page
  number are dropped.
- Lines wrapped mid-sentence are joined without a newline, so a word broken by the
  PDF layout (``構成\\n員``) is whole again for search. A break kept across blank
  lines is written ``\\n\\n``; whether a line is short (a label) is judged on the
  output line, so ``normalize(normalize(x)) == normalize(x)``. A quote left open
  (``「潮流エネルギー``) continues on a line that starts like a bullet
  (``・活用戦略」を…``) when that line, or those wrapped onto it, closes it:
  titles wrap at their middle dot.
- Half-width voiced marks compose with the kana before them (``ﾍﾞ`` -> ベ); a mark
  that composes with nothing is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from assistant.lazyre import lazy, rx

#: Bump when the output of ``normalize`` changes: the index manifest records it, so
#: an index built by an older normaliser is detected as stale.
NORMALIZER_VERSION = 9

# CJK Radicals Supplement -> unified ideograph, from Unicode's
# EquivalentUnifiedIdeograph.txt. NFKC maps none of these except U+2E9F and U+2EF3.
_RADICAL_SUPPLEMENT = dict(
    zip(
        (chr(c) for c in range(0x2E80, 0x2EF4)),
        "丶厂乛乚乙亻冂几刀刂卜㔾小小尢尣尢尣巳幺彑彐忄心扌攵\x00旡日月歺母民氵氺灬爫爫丬牛犭王疋目示礻竹糹纟罓罒网网网羊羊羋耂肀聿肉臼艹艹艹虎衤覀西见角角讠贝足车辶辶辶邑钅長镸长门阜阝雨青韦页风飞食食飠饣首马骨鬼鱼鸟卤麦黄黾斉齐歯齿竜龙龜亀龟",
        strict=True,
    )
)
_RADICAL_SUPPLEMENT.pop(chr(0x2E9A))  # unassigned code point
#: The characters the normaliser folds that NFKC keeps (an answer may quote them as written).
RADICAL_SUPPLEMENT: frozenset[str] = frozenset(_RADICAL_SUPPLEMENT)

#: Characters that open a bullet or list item: a line starting with one of these
#: begins a new item even when the previous line did not end a sentence.
BULLETS = "●○〇◆◇■□▪▫・•‣◎◯★☆※➢➤►▶→⇒-–—*+"
_ITEM_START = rx(
    r"^(?:[" + re.escape(BULLETS) + r"]|[①-⑳]|[^\s:：、。]{1,8}[:：]|[ivx]+\.(?=\s|[^\sA-Za-z.])|\d{1,2}[.．)）]\s?|[（(]\d{1,2}[)）]|【|＜|<|#)"
)
SENTENCE_END = "。！？!?"
_VOICED_MARKS = "\uff9e\uff9f\u3099\u309a"
# A line continues the previous one when it starts with something that cannot open
# a sentence: kana particles and auxiliaries, closing brackets, commas.
# A bracketed abbreviation with its particle ((ABC)を活用し) goes on the noun before it, even over a
# blank line (…調整委員会 / (blank) / (ABC)を…).
_CONTINUATION_START = lazy(r"^(?:[ぁ-ゖー、。，．）」』】〕\)\],.]|[(（][A-Za-z][A-Za-z0-9\-]*[)）][ぁ-ゖ])")
#: A line ending in a case particle stops mid-sentence, whatever the next line starts with: PDF
#: text leaves blank lines inside sentences (…の普及を / (blank) / 進めるため、…). Not a comma: a
#: slide's enumeration runs on over its lines (理事：A、B、 / (blank) / C、D), and joined into one
#: sentence its answer is cut from the quote.
_UNFINISHED = frozenset("をがにのとで")
_PAGE_NUMBER_TAIL = rx(r"(?<=[。」』）\)ぁ-ゖァ-ヺ一-鿿々〆])\s+\d{1,3}$")
_PAGE_NUMBER_LINE = rx(r"^\s*\d{1,3}\s*$")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF  # punctuation, kana
        or 0x3400 <= o <= 0x9FFF  # ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms (before NFKC)
    )


def _is_word(ch: str) -> bool:
    return ch.isalnum() and not _is_cjk(ch)


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """Fold one character: radicals table, private-use removal, NFKC.

    Returns the replacement (possibly empty, possibly several characters).
    """
    if ch in _RADICAL_SUPPLEMENT:
        return _RADICAL_SUPPLEMENT[ch]
    if "\u2460" <= ch <= "\u2473":
        # Circled numbers mark list items; NFKC would turn ① into a bare 1.
        return ch
    o = ord(ch)
    if 0xE000 <= o <= 0xF8FF:
        return ""
    if ch == "\n":
        return ch
    if ch.isspace():
        # Tabs, ideographic/no-break spaces, and stray "\r", form feeds or U+2028
        # separators inside a line: all are a gap between words.
        return " "
    if ch in _VOICED_MARKS:
        # A voiced mark that did not compose with the character before it (see
        # ``_fold_line``) is noise; kept, it could compose on a second pass.
        return ""
    if ch in "\u309b\u309c":
        # Spacing ゛゜: NFKC would turn them into a space plus a combining mark.
        return ch
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf") and ch != "\n":
        return ""
    return unicodedata.normalize("NFKC", ch)


def _fold_line(line: str, base: int) -> tuple[list[str], list[int]]:
    """Fold the characters of one line; returns output chars and their source offsets."""
    out: list[str] = []
    src: list[int] = []
    i = 0
    n = len(line)
    lead = len(line) - len(line.lstrip())
    if lead < n and 0xE000 <= ord(line[lead]) <= 0xF8FF:
        # A private-use glyph opening a line is a bullet from a symbol font: keep
        # the structure (a new item) without the unreadable glyph.
        out.append("・")
        src.append(base + lead)
        i = lead + 1
    elif 0 < lead == len(line) - len(line.lstrip(" \u3000\t")) < n and not starts_item(line[lead:]) \
            and not _PAGE_NUMBER_LINE.match(line) and fold_char(line[lead]).strip():
        # PDF text extraction leaves a space where a bullet glyph it could not map
        # stood: an indented line opens an item, it does not continue the one above.
        out.append("・")
        src.append(base + lead - 1)
        i = lead
    while i < n:
        ch = line[i]
        # A voiced mark (half-width ﾞﾟ or combining) composes with the char before
        # it (ﾊﾟ -> パ); when no composed form exists, the mark is dropped.
        if i + 1 < n and line[i + 1] in _VOICED_MARKS:
            folded = fold_char(ch)
            if folded:
                composed = unicodedata.normalize("NFKC", folded + line[i + 1])
                if len(composed) == len(folded):
                    folded = composed
            step = 2
        else:
            folded = fold_char(ch)
            step = 1
        for f in folded:
            out.append(f)
            src.append(base + i)
        i += step
    raw_text = "".join(out)
    if _PAGE_NUMBER_LINE.match(raw_text):
        return [], []
    m = _PAGE_NUMBER_TAIL.search(raw_text)
    if m:
        out, src = out[: m.start()], src[: m.start()]
    # Collapse whitespace; keep a space only between two word characters (Latin, digits).
    chars: list[str] = []
    offs: list[int] = []
    k = 0
    while k < len(out):
        if out[k] == " ":
            j = k
            while j < len(out) and out[j] == " ":
                j += 1
            if chars and j < len(out) and _is_word(chars[-1]) and _is_word(out[j]):
                chars.append(" ")
                offs.append(src[k])
            k = j
            continue
        chars.append(out[k])
        offs.append(src[k])
        k += 1
    while chars and chars[-1] == " ":
        chars.pop()
        offs.pop()
    return chars, offs


def starts_item(line: str) -> bool:
    """True when a (normalised) line opens a bullet, numbered item or bracketed title."""
    return bool(_ITEM_START.match(line))


def _joiner(prev_last: str, prev_len: int, nxt: str, blank_between: bool, prev_first: str = "",
            prev_open: bool = False) -> str:
    """How to join a normalised line to the output: "" (wrapped), " " or "\\n".

    ``prev_first``, ``prev_last`` and ``prev_len`` describe the output line so far
    (everything since the last kept line break), not just the previous source line:
    that is what a second pass over the output sees, so ``normalize`` is idempotent.
    ``prev_open`` says that line left a quote open (``「`` without its ``」``) that the
    next line, or the lines wrapped onto it before a blank line or an item, closes.
    """
    if starts_item(nxt) and prev_open and not blank_between and prev_first != "#":
        # A quoted title wrapped at its middle dot (「潮流エネルギー / ・活用戦略」を…):
        # the lines that follow close the quote, so this one is the title's rest, not a bullet item.
        return ""
    if starts_item(nxt) or prev_first == "#":
        # A Markdown heading is a whole line: the byline under a title (みなと市防災会議) starts
        # with kana like a wrapped sentence's rest, but is not one.
        return "\n"
    if blank_between and not _CONTINUATION_START.match(nxt) and prev_last not in _UNFINISHED:
        return "\n"
    if prev_last in SENTENCE_END or prev_last in ":：":
        return "\n"
    if prev_last == "】" and not _CONTINUATION_START.match(nxt):
        # A heading closed by its bracketed tag (…を育成すること【文】, …の設立【内(関係省庁)】): the
        # paragraph under it is no rest of it; 【別添】 / を参照 (kana next) still runs on.
        return "\n"
    if prev_len < 12 and not _CONTINUATION_START.match(nxt) and prev_last not in _UNFINISHED:
        # A short line that does not end a sentence is a label or a heading.
        return "\n"
    if _is_word(prev_last) and _is_word(nxt[0]):
        return " "
    return ""


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and map every output character to its source index.

    ``offsets[i]`` is the index in ``text`` of the character that produced
    ``normalized[i]``; a joining newline or space maps to the line break it
    replaces. Offsets never decrease and always index into ``text``.

    A line break kept across blank lines is written as ``"\\n\\n"`` (the blank
    line is what made it a break), so normalising the output again changes nothing.
    """
    out_chars: list[str] = []
    out_offs: list[int] = []
    line_start = 0  # index in out_chars where the current output line begins
    prev_nl = -1  # index in text of the "\n" that ends the last non-empty line
    blank_between = False
    pos = 0
    raws = text.split("\n")
    folded: list[tuple[list[str], list[int]]] = []
    for raw in raws:
        folded.append(_fold_line(raw, pos))
        pos += len(raw) + 1
    pos = 0
    for j, raw in enumerate(raws):
        chars, offs = folded[j]
        line_end = pos + len(raw)  # index of this line's "\n" (or len(text))
        if chars:
            if out_chars:
                closer = _open_quote(out_chars, line_start)
                sep = _joiner(out_chars[-1], len(out_chars) - line_start, "".join(chars), blank_between,
                              out_chars[line_start], bool(closer) and _closes(folded, j, closer))
                if sep == "\n" and blank_between:
                    out_chars += ["\n", "\n"]
                    out_offs += [prev_nl, pos - 1]
                elif sep:
                    out_chars.append(sep)
                    out_offs.append(prev_nl)
                if sep == "\n":
                    line_start = len(out_chars)
            out_chars.extend(chars)
            out_offs.extend(offs)
            prev_nl = line_end
            blank_between = False
        elif out_chars:
            blank_between = True
        pos = line_end + 1
    return "".join(out_chars), out_offs


def _closes(folded: list[tuple[list[str], list[int]]], j: int, closer: str) -> bool:
    """Whether line ``j``, or a line after it before a blank line or another item, holds ``closer``.

    The lines wrapped onto line ``j`` are what a second pass sees as one line, so the
    answer is the same on normalised text (``normalize`` stays idempotent).
    """
    for k in range(j, len(folded)):
        line = "".join(folded[k][0])
        if not line or (k > j and starts_item(line)):
            return False
        if closer in line:
            return True
    return False


#: Japanese quotes a title wraps inside, and their closers.
_QUOTES = {"「": "」", "『": "』"}
_OPENERS = {c: o for o, c in _QUOTES.items()}


def _open_quote(chars: list[str], start: int) -> str:
    """The closer of the last quote left open in ``chars[start:]``, or ""."""
    depth = dict.fromkeys(_QUOTES, 0)
    last = ""
    for ch in chars[start:]:
        if ch in _QUOTES:
            depth[ch] += 1
            last = ch
        elif ch in _OPENERS:
            depth[_OPENERS[ch]] = max(0, depth[_OPENERS[ch]] - 1)
    return _QUOTES[last] if last and depth[last] > 0 else ""


def source_end(text: str, offset: int) -> int:
    """End (exclusive) in ``text`` of the source of a normalised character.

    ``offset`` is that character's entry in the ``normalize_with_map`` offsets. A
    character composed from two (``ﾌﾟ`` -> プ) maps to the first; a quote must
    also take the second, or it would end in ``ﾌ``.
    """
    end = offset + 1
    if end < len(text) and text[end] in _VOICED_MARKS:
        end += 1
    return end


_LAYOUT_SPACE = frozenset(" \t\u3000")


def written_with_map(text: str, mapped: tuple[str, list[int]] | None = None) -> tuple[str, list[int]]:
    """``normalize(text)`` as the document writes it, for quoting: the spaces inside a line given back
    (``1,234 百万円``, ``7月 3日``, a roster's ``山田 太郎``; a full-width space as a space) and the CJK
    Radicals Supplement kept (``⻑``). Staff copy answers from the document with its spaces; the
    normalised text drops them for search. Wrapped lines stay joined as normalised.

    Returns the text and, for every normalised character ``i``, ``pos[i]``: where it starts in the
    text (``pos[len(normalized)]`` is the text's length). ``mapped``: ``normalize_with_map(text)``, when
    the caller has it already.
    """
    norm, offsets = mapped or normalize_with_map(text)
    out: list[str] = []
    pos: list[int] = []
    width = 0
    for i, ch in enumerate(norm):
        if i and ch not in " \n" and norm[i - 1] not in " \n":
            gap = text[offsets[i - 1] + 1 : offsets[i]]
            if gap and all(c in _LAYOUT_SPACE for c in gap):
                piece = unicodedata.normalize("NFKC", gap)
                out.append(piece)
                width += len(piece)
        pos.append(width)
        if ch == " " and i + 1 < len(norm):
            run = text[offsets[i] : offsets[i + 1]]
            piece = unicodedata.normalize("NFKC", run) if run and all(c in _LAYOUT_SPACE for c in run) else ch
        else:
            src = text[offsets[i]]
            piece = src if src in _RADICAL_SUPPLEMENT else ch
        out.append(piece)
        width += len(piece)
    pos.append(width)
    return "".join(out), pos


def normalize(text: str) -> str:
    """Normalise text for search and embedding (see the module docstring)."""
    return normalize_with_map(text)[0]


@lru_cache(maxsize=1 << 14)
def normalize_query(text: str) -> str:
    """Normalise a user query: same folding, but lines are simply joined.

    Memoised (a pure function of its text): the drafting check normalises the lines above each
    candidate unit to find its section heading, the same lines for every unit of a passage.
    """
    # A query's indentation is typing, not layout: no line of it opens a list item.
    text = "\n".join(line.strip() for line in text.split("\n"))
    return " ".join(line for line in normalize(text).split("\n") if line)


def display_text(original: str) -> str:
    """A quote made readable for an answer: close to NFKC of the source.

    Compatibility forms are folded (NFKC, so an answer can be compared with the
    NFKC-normalised document), private-use glyphs dropped, wrapped lines joined
    and runs of spaces collapsed. Unlike ``normalize``, spaces between words and
    CJK radical-supplement characters are left as the source has them, so the
    answer reads like the document it cites.
    """
    parts: list[str] = []
    for line in original.split("\n"):
        folded = "".join(
            "" if 0xE000 <= ord(c) <= 0xF8FF
            else c if "\u2460" <= c <= "\u2473"  # ① stays ①: NFKC would make it a bare 1
            else unicodedata.normalize("NFKC", c)
            for c in line
        )
        folded = re.sub(r"[ \t\u3000]+", " ", folded).strip()
        if not folded:
            continue
        if parts and _is_word(parts[-1][-1]) and _is_word(folded[0]):
            parts.append(" ")
        parts.append(folded)
    return "".join(parts)
