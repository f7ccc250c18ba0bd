"""Draft text into sentences, and which sentences state nothing to check (pure functions).

``split_sentences`` cuts a paragraph at 。！？ (and ``. `` in English) but not inside
「」（）『』 brackets, nor at a decimal point; line breaks always end a sentence.
``no_statement_reason`` says why a sentence carries no checkable statement —
a greeting or request formula, a lead-in pointing at the rest of the paper, a
question, a bare date or value, a short label without a predicate — or ``None`` when it should be checked against the documents.
The rules are about the form of Japanese (and English) business writing, not
about any corpus.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from assistant.lazyre import rx

Reason = Literal["heading", "greeting", "lead-in", "question", "date", "value", "label"]
REASONS: tuple[str, ...] = ("heading", "greeting", "lead-in", "question", "date", "value", "label")

#: Sentence ends (full-width and ASCII); a full-width period ``．`` too (some ministries use it).
_ENDS = "。．！？.!?"
_OPEN = "「『（(【［[〔〈《“‘"
_CLOSE = "」』）)】］]〕〉》”’"
#: Closing brackets and quotes that belong to the sentence they follow: …した。」
_TRAIL = _CLOSE + "　 "
#: English abbreviations after which ``. `` does not end a sentence.
_ABBREV = rx(r"(?:\b(?:e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|No|Nos|Fig|approx|cf|Co|Inc|Ltd|St)|\b[A-Z])$")


def _is_decimal_point(text: str, i: int) -> bool:
    return text[i] in ".．" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def _ends_here(text: str, start: int, i: int) -> bool:
    """Whether the end mark at ``text[i]`` ends the sentence begun at ``start``."""
    c = text[i]
    if _is_decimal_point(text, i):
        return False
    if not any(ch.isalpha() for ch in text[start:i]):
        return False  # numbering such as "1." or "1．" before a heading, not a sentence
    if c in ".!?":
        # ASCII marks end a sentence only before a space (or the end): "3.5", "U.S.-Japan" do not.
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if not nxt.isspace() and nxt not in _CLOSE:
            return False
        return not (c == "." and _ABBREV.search(text[:i]))
    return True


def _split_line(line: str, respect_brackets: bool) -> list[str]:
    out: list[str] = []
    start, depth, i = 0, 0, 0
    while i < len(line):
        c = line[i]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif c in _ENDS and (depth == 0 or not respect_brackets) and _ends_here(line, start, i):
            j = i + 1
            while j < len(line) and (line[j] in _ENDS or line[j] in _TRAIL):
                if line[j] in _CLOSE:
                    depth = max(0, depth - 1)
                j += 1
            out.append(line[start:j])
            start, i = j, j
            continue
        i += 1
    out.append(line[start:])
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of a paragraph, stripped, in order (empty pieces dropped).

    Brackets are respected only when they balance within the line: a stray 「
    does not glue the rest of the paragraph into one sentence.
    """
    sentences: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        opened = sum(line.count(c) for c in _OPEN)
        closed = sum(line.count(c) for c in _CLOSE)
        for s in _split_line(line, respect_brackets=opened == closed):
            s = s.strip().strip("\u3000").strip()
            if s:
                sentences.append(s)
    return sentences


# --------------------------------------------------------------- no statement

#: List marks and numbering at the start of a line: ・ ● ① (1) 1. 第2章 ア) a.
_MARKER = rx(
    r"^\s*(?:(?:[・●○〇◆◇■□◎※•▪▶►→＊*+\-–—]|[①-⑳]|[(（]?\d{1,3}[)）.．、]|[(（][一二三四五六七八九十ア-ンa-zA-Z][)）]"
    r"|[ア-ンa-zA-Z][)）.．](?=\s)|第[一二三四五六七八九十百\d]+[章節条項款部編]?)\s*)+"
)
_GREETING = rx(
    r"^(?:(?:いつも|大変|平素より|平素は)?お世話になって(?:おり|い)ます|お疲れ(?:様|さま)(?:です|でございます)"
    r"|拝啓|謹啓|前略|敬具|敬白|謹白|草々|以上|記|追伸"
    r"|.*(?:よろしく|宜しく)お願い(?:いた|致)?します|.*お願い(?:いた|致)?します|.*お願い申し上げます"
    r"|.*(?:ありがとうございま(?:す|した)|感謝申し上げます|失礼(?:いた|致)?します)"
    r"|.{0,30}(?:各位|御中|(?<![同多仕模態有異一何今左上])様|(?<![宮神御])殿)"
    r"|(?:dear|to whom) .*|(?:best |kind |warm )?regards|sincerely(?: yours)?|thank you.*|thanks.*)$",
    re.I,
)
#: A sentence that only points at the rest of the paper: 標記について、下記のとおり整理しました。
_LEAD_IN = rx(r"(?:標記|表記|本件)について|(?:下記|以下|別紙|別添|次|左記|上記)の(?:とおり|通り)")
MAX_LEAD_IN_CHARS = 40
_ERA = r"(?:令和|平成|昭和|R|H)\s*(?:元|\d{1,2})"
_DATE = rx(
    rf"^(?:{_ERA}\s*年(?:度|\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*日)?)?|\d{{4}}\s*年(?:度|\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*日)?)?"
    r"|\d{4}[/.\-]\d{1,2}(?:[/.\-]\d{1,2})?|\d{1,2}\s*月\s*\d{1,2}\s*日)"
    r"\s*(?:[(（][月火水木金土日][)）])?\s*(?:現在|時点)?$"
)
#: Characters a bare value may carry besides its digits: units, scale words, "about", "or more".
_UNIT_CHARS = set(
    "約百千万億兆円ドルユーロ名人件社回倍基機台か国カヶケ所%％ｍmkgtトン度年月日時間分秒程超未満以上下強弱"
)
#: How a short heading-like line ends: "…について", "…に向けて", "はじめに".
_LABEL_ENDS = rx(
    r"(?:について|に関して|に関する|に向けて|に向けた|にあたって|に係る|のまとめ|はじめに|おわりに|お知らせ|まとめ|概要|等)$"
)
#: Predicates end in kana (verbs, adjectives, です/ます); headings end in a noun.
_KANA_END = rx(r"[\u3041-\u309f]$")
MAX_LABEL_CHARS = 15
MAX_INTRO_CHARS = 40
MIN_CONTENT_CHARS = 3


def core_text(sentence: str) -> str:
    """The sentence without list marks or numbering, NFKC-normalised, stripped of closing marks."""
    # Marks first (NFKC turns ① into 1), then again on the normalised text (（１） -> (1)).
    s = unicodedata.normalize("NFKC", _MARKER.sub("", sentence, count=1))
    return _MARKER.sub("", s, count=1).strip()


def _letters(s: str) -> str:
    return "".join(c for c in s if c.isalpha())


def _is_ascii_text(letters: str) -> bool:
    return bool(letters) and sum(c.isascii() for c in letters) * 2 > len(letters)


def no_statement_reason(sentence: str) -> Reason | None:
    """Why ``sentence`` has no statement to check against the documents, or ``None`` when it has one."""
    core = core_text(sentence)
    bare = core.rstrip("。.．!！ 　").strip()
    letters = _letters(bare)
    has_digit = any(c.isdigit() for c in bare)
    if not letters and not has_digit:
        return "label"  # marks, numbering or punctuation only
    if _GREETING.match(bare):
        return "greeting"
    if _LEAD_IN.search(bare) and len(bare) <= MAX_LEAD_IN_CHARS and not has_digit:
        return "lead-in"
    if core.rstrip(_CLOSE + " 　").endswith(("?", "？")):
        return "question"
    if _DATE.match(bare):
        return "date"
    if has_digit and all(c in _UNIT_CHARS for c in letters):
        return "value"
    ended = core.rstrip(_CLOSE + " 　").endswith(("。", ".", "．", "!", "！"))
    if ended:
        return None
    if bare.endswith((":", "：")) and len(bare) <= MAX_INTRO_CHARS:
        return "label"  # an introducer: 主な取組は以下のとおり：
    if len(letters) < MIN_CONTENT_CHARS and not has_digit:
        return "label"
    if _is_ascii_text(letters):
        return "label" if len(bare.split()) <= 4 and not has_digit else None
    if len(bare) <= MAX_LABEL_CHARS and not has_digit:
        body = bare.rstrip(_CLOSE + " 　")
        if bare[:1] in _OPEN and bare[-1:] in _CLOSE:
            return "label"  # 【概要】, （参考）
        if _LABEL_ENDS.search(body) or not _KANA_END.search(body):
            return "label"
    return None
