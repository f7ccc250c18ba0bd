"""Selection: from scored candidates to the units of an answer and its direct value.

- Value questions (number, date, person, organisation, place): the best candidate
  that holds a value of the expected type (a better-scored candidate without one
  yields to it when close enough), and the value itself: the span of that type
  nearest the question's focus and terms (a cell's value is its own).
- Lists: the run of items around the best candidate, or the items following it
  when the best is the list's heading, in document order across passages.
- Reasons and everything else: the best candidate alone.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from assistant.lazyre import lazy, rx
from assistant.normalize import normalize, normalize_with_map, starts_item
from assistant.reader.candidates import Candidate, following, preceding
from assistant.reader.features import (
    bracketed_comparison,
    cell_key,
    char_bigrams,
    japanese_dates,
    place_fits,
    scale_matches,
    squash,
    strict_kinds,
    unit_matches,
)
from assistant.reader.policy import ReaderPolicy
from assistant.reader.query import ITEM_TYPES, VALUE_TYPES, Query, asked_org_heads, asks_post
from assistant.spans import (
    TYPE_KINDS,
    TypedSpan,
    agent_spans,
    range_end_spans,
    range_joined,
    relative_time_spans,
)
from assistant.store import LoadedIndex
from assistant.structure import Cell


@dataclass(frozen=True, slots=True)
class Selection:
    """What the answer is made of: the candidates quoted, best first, and the direct value."""

    units: list[Candidate]
    direct: TypedSpan | None
    direct_unit: Candidate | None
    score: float
    #: The units are items of a list (a value question's matching roster rows: ``filtered_items``).
    listed: bool = False


#: Where a value's own clause ends: a comma or full stop.
_CLAUSE_END = lazy(r"[、。，,;；]")


def clause_words(query: Query, cand: Candidate, span: TypedSpan, policy: ReaderPolicy) -> float:
    """How much of the question the value's own clause says: the words from the previous comma (or
    the previous value of its kind) to the next. A sentence giving two values gives each its words
    (大規模拠点を3か所、中規模拠点を5か所); the one whose words the question uses answers it."""
    text = cand.text
    same = [s for s in cand.spans if s.kind == span.kind and s is not span]
    lo = max([m.end() for m in _CLAUSE_END.finditer(text, 0, span.start)]
             + [s.end for s in same if s.end <= span.start] + [0])
    nxt = _CLAUSE_END.search(text, span.end)
    hi = min([nxt.start() if nxt else len(text)] + [s.start for s in same if s.start >= span.end])
    if span.kind == "person" and any(s.start >= span.end for s in same) and hi < (nxt.start() if nxt else len(text)):
        # Roster rows run together (分野 所属 肩書 氏名 分野 所属 …): a name ends its row, and the
        # words after it up to the next name are that name's row.
        hi = span.end
    # A count of the nouns after の (12の企業・団体) holds the words of the nouns it lists after the
    # first, which before the span took them in stood after it, in its clause.
    counted = span.text.split("・", 1)[1] if span.kind == "count" and "の" in span.text and "・" in span.text else ""
    shared = char_bigrams(text[lo : span.start] + " " + counted + " " + text[span.end : hi]) \
        & char_bigrams(query.normalized)
    score = policy.clause_word_weight * len(shared)
    if text.startswith("から", span.end) and any(s.start >= span.end for s in same) and "target" in query.asks:
        score -= policy.change_from_penalty  # 10万円から15万円に引き上げる: the question asks what it becomes
    return score


#: Counters of a length of time: a range may run from one to another (6ヶ月~3年).
_DURATIONS = frozenset({"年", "年間", "か月", "週", "週間", "日", "日間", "時間", "分", "分間"})


def _counter(span: TypedSpan) -> str:
    """What a count counts (``136名`` → ``名``, ``2か月`` → ``か月``)."""
    return span.value.lstrip("0123456789.,")


def range_pair(cand: Candidate, span: TypedSpan) -> tuple[TypedSpan, TypedSpan] | None:
    """The range ``span`` is one end of, as (start, end), else None.

    Two dates joined by ``~`` or ``から`` are a range (3/10~4/25); two counts only when they count
    the same thing or are both lengths of time (5名~8名, 6ヶ月~3年): ``8ヶ国から120人`` is
    where the people came from, not a range."""
    if span.kind not in ("date", "count"):
        return None
    for s in cand.spans:
        if s.kind != span.kind or s is span:
            continue
        a, b = (s, span) if s.end <= span.start else (span, s)
        if not range_joined(cand.text, a, b):
            continue
        if span.kind == "count" and _counter(a) != _counter(b) \
                and not (_counter(a) in _DURATIONS and _counter(b) in _DURATIONS):
            continue
        return a, b
    return None


def _range_role(cand: Candidate, span: TypedSpan) -> bool | None:
    """True when ``span`` ends a range of two values of its kind, False when it starts one, else None."""
    if span.kind != "date":
        return None
    pair = range_pair(cand, span)
    return None if pair is None else pair[1] is span


def _one_end_asked(query: Query) -> bool:
    """Whether the question asks for one end of a range only (いつまで, 締切; いつから)."""
    return ("end" in query.asks) != ("start" in query.asks)


#: A part stated right after its total (120人（うち県内40人）, 計50件、うち海外12件): a bracket or a
#: comma, ``うち`` and the part's label. Not このうち一般会計は…: two parts of a total stated elsewhere.
_PART_OF = lazy(r"[(（、,]\s*うち[^\d、。,，;；()（）]{0,10}$")


def part_of_total(cand: Candidate, span: TypedSpan) -> str | None:
    """The label of ``span`` when it is the part of a total stated right before it (140名（うち学生35名）
    -> ``学生``; "" for no label), else None."""
    m = _PART_OF.search(cand.text, 0, span.start)
    if m is None or not any(s.kind == span.kind and s is not span and s.end <= m.start()
                            and not cand.text[s.end : m.start()].strip() for s in cand.spans):
        return None
    return cand.text[m.start() : span.start].split("うち", 1)[1].strip()


def part_asked(query: Query, cand: Candidate, span: TypedSpan) -> bool:
    """Whether the question asks for ``span`` as the part of a total: it says うち, or it names the
    part's label (国内の参加者は何人 of 50名（うち国内12名）)."""
    label = part_of_total(cand, span)
    if label is None:
        return False
    # The label named as where something happens (日本で開かれた) is no part asked for.
    return "part" in query.asks or (len(label) >= 2 and re.search(re.escape(label) + r"(?!で|に|へ|にて|において)",
                                                                   query.normalized) is not None)


def source_lines(cand: Candidate) -> tuple[int, ...] | None:
    """The source line (0-based, within the candidate) of each character of a sentence's text, or
    None for a cell, or when the text is not its source lines normalised as they stand."""
    if cand.cell is not None:
        return None
    return _char_lines(cand.source, cand.text)


@lru_cache(maxsize=256)
def _char_lines(orig: str, text: str) -> tuple[int, ...] | None:
    # Cached: the direct value's choice scores every span of a candidate, each asking for its lines.
    norm, offsets = normalize_with_map(orig)
    if norm != text:
        return None
    breaks = [i for i, ch in enumerate(orig) if ch == "\n"]
    return tuple(bisect.bisect_right(breaks, o) for o in offsets)


def _counts(text: str, span: TypedSpan, focus: str) -> bool:
    """Whether a count names the noun it counts as the question's focus (計15社の企業, 12の企業):
    Japanese puts the counted noun after the figure, so it is no mention *before* the value."""
    return span.kind == "count" and (focus in span.text or text.startswith(focus, span.end)
                                     or text.startswith("の" + focus, span.end))


#: The end of a clause that names a helper, not the actor (甲省の協力を得て、乙機構が…; 丙の支援を受け).
_HELPER_CLAUSE = lazy(r"の(協力|支援|助言|協賛|後援)(?:を得|を受け|の下|のもと)[^、。]{0,4}$")


def helper_named(query: Query, cand: Candidate, span: TypedSpan) -> bool:
    """Whether a name stands in a clause saying whose help is received (甲省の協力を得て、乙機構が運営):
    the actor is another name of the sentence. Not when the question asks about that help."""
    if span.kind not in ("org", "person"):
        return False
    nxt = _CLAUSE_END.search(cand.text, span.end)
    m = _HELPER_CLAUSE.search(cand.text, span.end, nxt.start() if nxt else len(cand.text))
    return m is not None and m.group(1) not in query.normalized


def _span_score(query: Query, cand: Candidate, span: TypedSpan, policy: ReaderPolicy) -> float:
    """How well a span answers: matching unit first, then the question's words in its own clause,
    then closeness to the question's words."""
    score = 2.0 if unit_matches(query, span) else 0.0
    score += clause_words(query, cand, span, policy)
    end = _range_role(cand, span)
    if end is not None:
        # A range's end answers a deadline asked for (締切日はいつ), its start a start (いつから).
        asked_end, asked_start = "end" in query.asks, "start" in query.asks
        if asked_end != asked_start:
            score += policy.range_end_weight if end == asked_end else -policy.range_end_weight
        elif asked_end:
            score += policy.range_end_weight  # いつからいつまで: the range, not another date of the line
    if helper_named(query, cand, span):
        score -= policy.helper_penalty  # 甲省の協力を得て、乙機構が運営: 乙機構 runs it
    if part_asked(query, cand, span):
        # The question asks for the part of a total (学生のうち国内からの参加者): the figure after うち.
        score += policy.part_weight
    if bracketed_comparison(cand, span):
        # The bracketed figure answers only a question about the period it compares with.
        score += policy.bracket_weight if "previous" in query.asks else -policy.bracket_weight
    text = cand.text
    focus = "".join(query.focus)
    ends = [m.end() for m in re.finditer(re.escape(focus), text)] if len(focus) >= 2 else []
    lines = source_lines(cand) if ends else None
    if lines is not None and len(set(lines)) > 1:
        # A sentence run over several lines (a slide's dated rows: 3月1日 甲を開催 / 4月2日 乙を開始):
        # each line is an item, and the asked attribute's mention on the value's own line, before or
        # after it, is the one that speaks of it; a value on a line that names it nowhere is another item's.
        own = [e for e in ends if lines[e - 1] == lines[span.start]]
        if own:
            score -= min(abs(span.start - e) for e in own) / 100
        elif not _counts(text, span, focus):
            score -= 0.5 + min(abs(span.start - e) for e in ends) / 100
    elif ends:
        # The value right after the asked attribute (【甲装置運転開始】2040年3月) answers it; after its
        # nearest mention when the sentence names it twice (一般会計は…、特別会計は…).
        before = [e for e in ends if e <= span.start]
        # A count followed by the asked noun (計15社の企業) is that noun's value wherever its mentions are.
        if not _counts(text, span, focus):
            score -= (span.start - before[-1]) / 100 if before else 0.5 + (ends[0] - span.start) / 100
    else:
        rows = source_lines(cand)
        if rows is not None and len(set(rows)) > 1 and query.terms:
            # Rows run together (a roster: field, body, post and name on each line): the value on the
            # row that holds the question's rarer words (甲大学 of 甲の大学から) is that row's, whatever
            # common word (大学, 教授) a row above shares with the question.
            own = "".join(ch for ch, r in zip(text, rows, strict=False) if r == rows[span.start])
            score += sum(w for t, w in query.terms.items() if t in own) / (sum(query.terms.values()) or 1.0)
        anchors = [text.find(t) for t in (*query.focus, *query.terms) if t and text.find(t) >= 0]
        if anchors:
            score -= min(abs(span.start - a) for a in anchors) / 100
    if cand.cell is not None and span.start >= len(cand.cell.label):
        score += 1.0  # a cell's value, not a number in its label
    return score


_ENUM_GAP = rx(r"^(?:[(（][^()（）]{0,20}[)）])?\s*(?:、|,|・|及び|および|と|並びに)\s*$")


def enumeration(cand: Candidate, span: TypedSpan, policy: ReaderPolicy) -> TypedSpan:
    """``span`` widened to the run of names of its kind it is listed with (A株式会社、B株式会社).

    Who/which questions are often answered by several names; one of them is half an answer.
    """
    if span.kind not in ("org", "person", "place", "facility"):
        return span
    same = sorted((s for s in cand.spans if s.kind == span.kind), key=lambda s: s.start)
    i = next((k for k, s in enumerate(same) if s.start == span.start and s.end == span.end), None)
    if i is None:
        return span
    lo = hi = i
    while lo > 0 and _ENUM_GAP.match(cand.text[same[lo - 1].end : same[lo].start]):
        lo -= 1
    while hi + 1 < len(same) and _ENUM_GAP.match(cand.text[same[hi].end : same[hi + 1].start]):
        hi += 1
    if lo == hi:
        return span
    a, b = same[lo].start, same[hi].end
    if b - a > policy.max_direct_chars:
        return span
    return TypedSpan(span.kind, a, b, cand.text[a:b], "、".join(s.value for s in same[lo : hi + 1]))


#: What joins a place to the more specific place after it (甲国カナ市の迎賓館, 北市の市民会館).
_LOCATION_GAP = rx(r"^[A-Za-z.]{0,4}の?$")


def location_chain(cand: Candidate, span: TypedSpan, policy: ReaderPolicy, named: str = "") -> TypedSpan:
    """A place or venue widened to the places and venues joined to it by の (北市の市民会館): the
    venue is where something happened, and the place before it says where the venue is. Not into a
    place the question names (``named``): the answer is what it does not say."""
    if span.kind not in ("place", "facility"):
        return span
    places = sorted((s for s in cand.spans if s.kind in ("place", "facility") and s.text not in named),
                    key=lambda s: s.start)
    start, end, kind = span.start, span.end, span.kind
    for s in (s for s in places if s.start >= span.end):
        if not _LOCATION_GAP.match(cand.text[end : s.start]) or s.end - start > policy.max_direct_chars:
            break
        end, kind = s.end, s.kind
    for s in reversed([s for s in places if s.end <= span.start]):
        if not _LOCATION_GAP.match(cand.text[s.end : start]) or end - s.start > policy.max_direct_chars:
            break
        start = s.start
    if (start, end) == (span.start, span.end):
        return span
    text = cand.text[start:end]
    return TypedSpan(kind, start, end, text, text, span.qualifier)


#: A character of a noun compound: ideographs (的 included), katakana, Latin letters and digits,
#: and the marks that join one (・, ー, ＝).
_COMPOUND_CHAR = lazy(r"[\u3400-\u9fff々〆ァ-ヺーA-Za-z0-9・＝=&\-]")


def _latin_slash(text: str, i: int, floor: int) -> bool:
    """Whether ``text[i]`` is a slash joining two Latin names (AB/CD成果報告会): one compound."""
    return (text[i] == "/" and i - 1 >= floor and i + 1 < len(text)
            and text[i - 1].isascii() and text[i - 1].isalnum() and text[i + 1].isascii() and text[i + 1].isalnum())


def _compound_start(text: str, start: int, floor: int = 0, through_dots: bool = True) -> int:
    """Where the noun compound ending at ``start``'s word begins, not before ``floor``: a ・ or - joins
    its parts only ``through_dots`` (クリーン・エネルギー技術), and never opens it (a bullet)."""
    lo = start
    while lo > floor and ((_COMPOUND_CHAR.match(text[lo - 1]) and (through_dots or text[lo - 1] not in "・-"))
                          or _latin_slash(text, lo - 1, floor)):
        lo -= 1
    while lo < start and text[lo] in "・-":
        lo += 1
    return lo


def _whole_compound(text: str, span: TypedSpan) -> TypedSpan:
    """``span`` widened to the start of the noun compound it ends (代表 → 設立者代表)."""
    lo = _compound_start(text, span.start, through_dots=False)
    return span if lo == span.start else TypedSpan(span.kind, lo, span.end, text[lo : span.end], text[lo : span.end])


#: 何年 (not 何年度, 何年何月): a year, or a number of years.
_YEARS_ASKED = lazy(r"何年(?!度|何|[0-9]|\s*[0-9]*月)")


#: The lower end of a range right before a value (3~ in 3~4回).
_RANGE_START = lazy(r"(?<![\d,.])\d[\d,.]*\s*[~～〜]\s*$")


#: Organisations that are bodies of people, not places where anything is held.
_BODIES = ("学会", "協会", "協議会", "委員会", "会議", "連合会", "団体", "組合")
_HELD = lazy(r"開催|開か|開い|行われ|実施さ|催さ|\bheld\b|\bhost")


#: A fraction written with a slash, or a range of two (1/2, 2/5~3/5).
_FRACTION = lazy(r"(?<![\d/])\d+\s*/\s*\d+(?:\s*[~〜～]\s*\d+\s*/\s*\d+)?(?![\d/])")


def direct_span(query: Query, cand: Candidate, policy: ReaderPolicy) -> TypedSpan | None:
    """The value of the expected type in ``cand`` that best answers ``query``."""
    kinds = TYPE_KINDS.get(query.answer_type)
    if not kinds:
        return None
    if query.answer_type == "place":
        kinds = strict_kinds(query)  # a country or a city asked: a place name, not an office or a venue
    spans = [s for s in cand.spans if s.kind in kinds and len(s.text) <= policy.max_direct_chars
             and place_fits(query, s)]
    if query.answer_type == "place" and _HELD.search(query.normalized):
        # Where something is held: a venue may be an institution (北方大学で開催), never a body of
        # people (甲学会との合同開催); where a matter is discussed may well be one (関係学会で議論).
        spans = [s for s in spans if s.kind != "org" or not s.text.endswith(_BODIES)]
    if not spans and query.answer_type == "date" and _YEARS_ASKED.search(query.normalized):
        # 何年 asks for a year or for a number of years (任期は最大何年): a line stating no date but a
        # number of years (任期最大3年) answers the second.
        spans = [s for s in cand.spans if s.kind == "count" and s.value.endswith(("年", "年間"))]
    if not spans and query.answer_type == "date":
        spans = relative_time_spans(cand.text)  # 来年度末に公表予定: the when of a line without a date
    if not spans and query.answer_type == "person":
        # Who holds a post is often another post (本部長：市長, 議長は委員長が務める). The drafting
        # check's module is imported only here: ~15 ms of a cold ``ask`` otherwise.
        from assistant.claims import role_spans

        spans = [_whole_compound(cand.text, r) for r in role_spans(cand.text)]
        spans = [r for r in spans if r.text not in query.normalized]
        # Who is placed or consulted is often named by what they do (広報コーディネーターを置く).
        spans = spans or [r for r in agent_spans(cand.text) if r.text not in query.normalized]
    # The question names what it asks about; the answer is what it does not name. An English
    # question names it in the Japanese terms retrieval derived for it (Smith -> スミス), a Japanese
    # one also in the corpus words of its everyday words (アメリカ -> 米国).
    also = query.search_terms if query.english else [t for syn in query.synonyms.values() for t in syn]
    named = "\n".join((query.normalized, *also))
    new = [s for s in spans if s.text not in named and s.value not in named.casefold()]
    spans = new or spans
    if query.answer_type == "organization":
        # An English question naming the kind of body (which university) is answered by a name of
        # that kind when the line has one (甲大学, not the research body listed beside it).
        spans = [s for s in spans if carries_kind(query, s)] or spans
    if cand.cell is None and any(s.kind != "number" for s in spans):
        spans = [s for s in spans if s.kind != "number"]  # a bare number answers only inside a table cell
    if query.units and any(unit_matches(query, s) for s in spans):
        spans = [s for s in spans if unit_matches(query, s)]
    if cand.cell is not None:
        label_end = len(cand.cell.label) + 1
        in_value = [s for s in spans if s.start >= label_end]
        spans = in_value or spans
    if not spans:
        return None
    best = max(spans, key=lambda s: (_span_score(query, cand, s, policy), -s.start))
    if best.start > 0 and cand.text[best.start - 1] == "第" and "第" in query.normalized:
        # An ordinal asked for (第何回): the answer says 第8回, not a count of 8 meetings.
        return TypedSpan(best.kind, best.start - 1, best.end, "第" + best.text, best.value, best.qualifier)
    if best.kind in ("number", "percent"):
        # A bare number inside a fraction (補助率1/2, 全体の2/5~3/5程度) is its numerator or denominator,
        # and a fraction read as a share may be one end of a range of them: the fraction, or the range
        # of fractions, is the value.
        whole = next((m for m in _FRACTION.finditer(cand.text) if m.start() <= best.start and best.end <= m.end()), None)
        if whole is not None:
            return TypedSpan(best.kind, whole.start(), whole.end(), whole.group(0), best.value, best.qualifier)
    pair = range_pair(cand, best) if not _one_end_asked(query) else None
    if pair is not None and pair[1].end - pair[0].start <= policy.max_direct_chars:
        # A range answers whole (受付期間 3/10~4/25, 期間 6ヶ月~3年) unless one end is asked for.
        a, b = pair
        return TypedSpan(best.kind, a.start, b.end, cand.text[a.start : b.end], best.value, a.qualifier)
    if pair is None and best.kind == "date" and not _one_end_asked(query):
        # A date range whose end writes only what changes (2026年5月10日~12日) is given whole too.
        tail = [s for s in range_end_spans(cand.text, [best]) if s.start >= best.end]
        if tail and tail[0].end - best.start <= policy.max_direct_chars:
            return TypedSpan(best.kind, best.start, tail[0].end, cand.text[best.start : tail[0].end], best.value,
                             best.qualifier)
    low = _RANGE_START.search(cand.text, 0, best.start) if best.kind in ("count", "number", "money", "percent") \
        else None
    if low is not None:
        # A range written with its unit once (年3~4回, 2~5日間): its upper end alone says too much.
        return TypedSpan(best.kind, low.start(), best.end, cand.text[low.start() : best.end], best.value,
                         best.qualifier)
    return location_chain(cand, enumeration(cand, best, policy), policy, named)


def key_named(query: Query, key: str) -> bool:
    """Whether the question names a cell's key (an English question: through its translated terms).

    A key with a parenthesised qualifier (岩見沖(浮体式), 参加者数(年間)) is named when its name and
    its qualifier both are, in either order (浮体式の岩見沖).
    """
    if not key:
        return False
    if key in query.normalized or key in query.terms:
        return True
    parts = [p for p in re.split(r"[()（）]", key) if p]
    return len(parts) > 1 and all(p in query.normalized for p in parts)


def named_share(query: Query, c: Candidate) -> float:
    """How much of a cell's label the question names (the share of its character pairs)."""
    label = char_bigrams(c.cell.label if c.cell else "")
    return len(label & char_bigrams(query.normalized)) / max(len(label), 1)


def question_bigrams(query: Query) -> set[str]:
    """The question's character pairs; an English question's are those of its translated terms."""
    q_bi = char_bigrams(query.normalized)
    if query.english:
        q_bi = q_bi.union(*(char_bigrams(t) for t in query.terms if not t.isascii()))
    return q_bi


def column_share(query: Query, cell: Cell) -> float:
    """How much of a cell's column the question names (its share of character pairs).

    What sets a cell apart from its siblings: a table cell's column is its key; a row's cells
    share the row's key, and their column is the rest of the label.
    """
    own = char_bigrams(_column(cell) if cell.kind == "row" else cell.label.split(" ")[-1])
    return len(own & question_bigrams(query)) / max(len(own), 1)


def named_sibling(query: Query, cands: Sequence[Candidate], best: int) -> int:
    """The cell of ``best``'s table whose column or row the question names most.

    The cells of one table share their quote, label and similarity: only their key (日本, 欧州 …)
    tells them apart, and the question says which one it asks about. The cells of one row
    share their key too (電子申請); their column (令和8年度) tells them apart.
    """
    cell = cands[best].cell
    if cell is None or cell.kind not in ("table", "row"):
        return best
    siblings = [i for i, c in enumerate(cands)
                if c.cell is not None and c.cell.kind == cell.kind and c.cell.first_line == cell.first_line
                and c.cell.value_line == cell.value_line and c.cell.doc == cell.doc]
    named = [i for i in siblings if key_named(query, cell_key(cands[i].cell))]  # type: ignore[arg-type]
    if not named and cell.kind == "row":
        # The question does not name the row as written (an English question): the ranker chose
        # the row, and the question's words may still name the column.
        named = [i for i in siblings if _same_row(cands[i].cell, cell)]  # type: ignore[arg-type]
    if not named:
        return best

    def column_named(i: int) -> float:
        c = cands[i].cell
        assert c is not None
        return column_share(query, c)

    top = max(named, key=lambda i: (column_named(i), i == best))
    if best in named and column_named(top) <= column_named(best):
        return best
    return top


def _literal_forms(query: Query) -> list[tuple[str, ...]]:
    """Each literal of the question as the documents may write it (an English FY2025 as 令和7年度 …)."""
    return [(squash(x), *japanese_dates(x)) if query.english else (squash(x),) for x in query.literals]


def _same_row(other: Cell, cell: Cell) -> bool:
    """Whether ``other`` is a cell of ``cell``'s table row (same line, same row key)."""
    return other.kind == "row" and other.doc == cell.doc and other.value_line == cell.value_line \
        and cell_key(other) == cell_key(cell)


def dated_sibling(query: Query, cands: Sequence[Candidate], best: int) -> int:
    """The cell of ``best``'s table row whose column names the question's literal (令和7年度 of a budget row).

    A row's cells share their quote and row key and differ by their column only; when the
    question is pinned to a year and the column of ``best`` does not name it, the row's cell
    whose column does is the one asked about.
    """
    cell = cands[best].cell
    forms = _literal_forms(query)
    if cell is None or cell.kind != "row" or not forms:
        return best

    def named(c: Cell) -> int:
        label = squash(c.label)
        return sum(any(f in label for f in fs) for fs in forms)

    mine = named(cell)
    for i, c in enumerate(cands):
        other = c.cell
        if other is not None and _same_row(other, cell) and named(other) > mine:
            return i
    return best


def _column(cell: Cell) -> str:
    """A row cell's column: its label after the row key (``甲沖 出力`` -> ``出力``)."""
    return cell.label.partition(" ")[2]


def outermost(labels: Iterable[str]) -> list[str]:
    """``labels`` without those inside another of them, in order: a label the question names only
    inside a longer one it names (理事 in 常任理事) is not named."""
    found = list(labels)
    return [k for k in found if not any(k != o and k in o for o in found)]


def _line_label(c: Candidate) -> str:
    """The label of a ``label：value`` line (a key-value cell's, or a bullet's ``・参加者：…``), else ""."""
    if c.cell is not None:
        return c.cell.label if c.cell.kind == "kv" else ""
    m = _ITEM_LABEL.match(c.text)
    return m.group(1).strip() if m else ""


def named_label(query: Query, cands: Sequence[Candidate], scores: np.ndarray, best: int,
                policy: ReaderPolicy) -> int:
    """The nearby ``label：value`` line whose label the question names, when the best line's label is
    another (副会長：… scored best for 会長は; its tokens hold 会長 too). Only one such label: a label
    named only inside a longer named one (理事 of 常任理事) does not count."""
    own = _line_label(cands[best])
    if not own or key_named(query, own):
        return best
    b = cands[best]
    named: dict[str, int] = {}
    for i, c in enumerate(cands):
        label = _line_label(c)
        if label and label != own and c.chunk.doc == b.chunk.doc and key_named(query, label) \
                and abs(c.start - b.start) <= policy.named_label_window \
                and scores[i] >= scores[best] - policy.typed_fallback_margin:
            if label not in named or scores[i] > scores[named[label]]:
                named[label] = i
    kept = outermost(named)
    return named[kept[0]] if len(kept) == 1 else best


def named_row(query: Query, cands: Sequence[Candidate], best: int) -> int:
    """The cell of the row the question names, in ``best``'s column, when ``best`` is another row's.

    A table's rows share their columns and their words, so a row the question does not name can
    score best (the first row, in the best passage); the question names the row it asks about
    (乙沖の出力), and that row's cell of the same column answers. Only one named row: two are no answer.
    """
    cell = cands[best].cell
    if cell is None or cell.kind != "row" or not _column(cell) or key_named(query, cell_key(cell)):
        return best
    named: dict[str, int] = {}
    for i, c in enumerate(cands):
        other = c.cell
        if other is not None and other.kind == "row" and other.doc == cell.doc and _column(other) == _column(cell) \
                and key_named(query, cell_key(other)):
            named.setdefault(cell_key(other), i)
    return next(iter(named.values())) if len(named) == 1 else best


def named_cell_within(query: Query, cands: Sequence[Candidate], best: int) -> int:
    """A named cell inside ``best`` when ``best`` is a run of text holding several values of the asked type.

    A table whose cells the PDF gave one a line reads as one long sentence: it covers every
    word of the question and holds every row's value, so it says nothing about which value is
    asked. The recovered cell inside it whose row or column the question names does.
    """
    kinds = TYPE_KINDS.get(query.answer_type, frozenset())
    b = cands[best]
    if b.cell is not None or len({s.value for s in b.spans if s.kind in kinds}) < 2:
        return best
    inside = [i for i, c in enumerate(cands)
              if c.cell is not None and c.overlaps(b)
              and any(s.kind in kinds for s in c.spans)
              and key_named(query, cell_key(c.cell))]
    if not inside:
        return best
    # A row's cells share its key: the one whose column the question also names wins.
    # Overlapping passages give the same cell more than once; a tie between two different
    # cells is no answer.
    named = {(cands[i].key, cands[i].label): (named_share(query, cands[i]), i) for i in inside}
    ranked = sorted(named.values(), reverse=True)
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return best
    return ranked[0][1]


#: A question asking for a bound (up to / 最大 …, at least / 最低 …), and the qualifiers and words of
#: a value that states that bound (最大30年間, 30年以内, 上限は…).
_BOUNDS = (
    (lazy(r"\bup to\b|\bat most\b|\bmaximum\b|\blongest\b|最大|上限|最長|最高"),
     ("最大", "以内", "以下", "未満"), lazy(r"最大|上限|最長|最高|以内|以下|未満|まで")),
    (lazy(r"\bat least\b|\bminimum\b|最低|少なくとも|下限"),
     ("最低", "少なくとも", "以上"), lazy(r"最低|少なくとも|下限|以上")),
)


def bound_sibling(query: Query, cands: Sequence[Candidate], scores: np.ndarray, best: int,
                  direct: TypedSpan | None, policy: ReaderPolicy) -> Selection | None:
    """A close candidate whose value states the bound the question asks for (最大30年間 for "up to
    how many years"), when the best one's line states no bound at all: two durations on the
    question's topic, and only one is the limit asked about. None when the rule does not apply."""
    for asks, quals, words in _BOUNDS:
        if not asks.search(query.normalized):
            continue
        if words.search(cands[best].text) or (direct is not None and direct.qualifier in quals):
            return None
        return _close_value(query, cands, scores, best, policy.typed_fallback_margin, policy,
                            lambda d, quals=quals: d.qualifier in quals, dated=False)
    return None


def _close_value(query: Query, cands: Sequence[Candidate], scores: np.ndarray, best: int, margin: float,
                 policy: ReaderPolicy, wanted: Callable[[TypedSpan], bool], dated: bool = True) -> Selection | None:
    """The best-scored candidate after the top one, within ``margin`` of ``best``'s score, whose
    direct value ``wanted`` accepts (``dated``: read in the row cell whose column names the
    question's year); None when there is none."""
    for i in np.argsort(-scores, kind="stable")[1:]:
        if scores[i] < scores[best] - margin:
            break
        i = dated_sibling(query, cands, int(i)) if dated else int(i)
        d = direct_span(query, cands[i], policy)
        if d is not None and wanted(d):
            return Selection([cands[i]], d, cands[i], float(scores[i]))
    return None


def carries_kind(query: Query, span: TypedSpan) -> bool:
    """Whether ``span`` names a body of the kind the (English) question asks for (``asked_org_heads``);
    True when it asks for no kind."""
    heads = asked_org_heads(query.text)
    return not heads or any(h in span.text for h in heads)


def qualifier_held(query: Query, span: TypedSpan) -> float:
    """The IDF weight of an English question's derived Japanese terms (two characters or more) that a
    name holds: a rare one (北海 of "Hokkai") outweighs the common words of any body's name (研究, 科学)."""
    return sum(query.terms.get(t, 0.0) for t in set(query.search_terms) if len(t) >= 2 and t in span.text)


#: The kind of the direct value a table's column header gives, by the answer type asked.
_HEADER_KINDS = {"place": "place", "organization": "org", "person": "person", "other": "org"}
_NUMBER = lazy(r"-?\d+(?:\.\d+)?")


def extreme_cell(query: Query, cands: Sequence[Candidate], scores: np.ndarray,
                 policy: ReaderPolicy) -> Selection | None:
    """Which column of a header-line table holds its largest (or smallest) value, when the question
    asks which one holds the extreme (最も大きな割合を持つ国は, the largest share): that column's header.

    The table is the one of the best-scored table cell, when that cell scores within
    ``typed_fallback_margin`` of the best candidate; every cell of it must state one value of one
    kind. Columns that share the extreme are given together, as a list."""
    most, least = "most" in query.asks, "least" in query.asks
    kind = _HEADER_KINDS.get(query.answer_type)
    if most == least or kind is None or not len(scores):
        return None
    cells = [(i, c.cell) for i, c in enumerate(cands) if c.cell is not None and c.cell.kind == "table"]
    if not cells:
        return None
    top, at = max(cells, key=lambda ic: float(scores[ic[0]]))
    if float(scores[top]) < float(np.max(scores)) - policy.typed_fallback_margin:
        return None
    table = {i: cell for i, cell in cells
             if (cell.doc, cell.first_line, cell.last_line) == (at.doc, at.first_line, at.last_line)}
    values: dict[int, tuple[str, float]] = {}
    for i, cell in table.items():
        found = [s for s in cands[i].spans if s.start > len(cell.label)
                 and s.kind in ("percent", "money", "count", "number")]
        m = _NUMBER.search(found[0].value) if len(found) == 1 else None
        if m is None:
            return None
        values[i] = (found[0].kind, float(m.group()))
    if len(values) < 3 or len({k for k, _ in values.values()}) > 1:
        return None
    pick = max if most else min
    extreme = pick(v for _, v in values.values())
    holders = [i for i, (_, v) in values.items() if v == extreme]
    if len(holders) > 1:
        # Several columns share the extreme (three at 20%): each of them, one a line.
        return Selection([cands[j] for j in holders], None, None, float(scores[top]), listed=True)
    (i,) = holders
    caption = os.path.commonprefix([cell.label for cell in table.values()])
    header = table[i].label[len(caption):].strip() or table[i].label
    start = cands[i].text.find(header)
    if start < 0:
        return None
    direct = TypedSpan(kind, start, start + len(header), header, header)  # type: ignore[arg-type]
    return Selection([cands[i]], direct, cands[i], float(scores[i]))


#: An item asked by its number (項目14, 9番目の項目, item 14, No. 3), not a count or a date.
_ITEM_NO_ASKED = lazy(r"項目\s*(\d{1,2})(?![\d.年月日%])|(?<![\d.])(\d{1,2})\s*番目"
                      r"|\bitem\s+(?:no\.?\s*)?(\d{1,2})\b|\bNo\.\s*(\d{1,2})\b", re.I)
#: A row of a numbered list: it starts with its number (3. 甲).
_NUMBERED_ROW = lazy(r"\s*\d{1,2}[.．](?!\d)")


def numbered_item(query: Query, cands: Sequence[Candidate], scores: np.ndarray,
                  policy: ReaderPolicy) -> Selection | None:
    """The item a question asks for by its number (アクションプランの項目14は), as a numbered list
    states it (`14. 甲方式`), also inside a line of several columns flattened together
    (`3. 乙 7. 丙 11. 丁 14. 甲方式`): the best-scored candidate that numbers an item so, either a
    row of a numbered list (it starts with a number) or a line within ``unit_fallback_margin`` of
    the best (a list's rows score low beside a sentence that names the list)."""
    m = _ITEM_NO_ASKED.search(query.normalized)
    if m is None or not len(scores):
        return None
    n = int(next(g for g in m.groups() if g))
    item = (rf"(?<![\d.,]){n}[.．](?!\d)\s*(?P<item>[^\d\s.．、。][^\n]*?)\s*"
            r"(?=(?<![\d.,])\d{1,2}[.．](?!\d)|\n|$)")
    order = np.argsort(-scores, kind="stable")
    floor = float(scores[order[0]]) - policy.unit_fallback_margin
    for i in order:
        if float(scores[i]) < floor and not _NUMBERED_ROW.match(cands[i].text):
            continue
        found = re.search(item, cands[i].text)
        if found is not None:
            a, b = found.span("item")
            direct = TypedSpan("org", a, b, found.group("item"), found.group("item"))
            return Selection([cands[int(i)]], direct, cands[int(i)], float(scores[i]))
    return None


def select_value(query: Query, cands: Sequence[Candidate], scores: np.ndarray, policy: ReaderPolicy) -> Selection:
    extreme = extreme_cell(query, cands, scores, policy)
    if extreme is not None:
        return extreme
    best = named_row(query, cands, named_cell_within(query, cands, int(np.argmax(scores))))
    best = dated_sibling(query, cands, named_sibling(query, cands, best))
    best = named_label(query, cands, scores, best, policy)
    best_prob = float(scores[best])
    direct = direct_span(query, cands[best], policy)

    def asked(span: TypedSpan) -> bool:
        return unit_matches(query, span) and scale_matches(query, span)

    bounded = bound_sibling(query, cands, scores, best, direct, policy)
    if bounded is not None:
        return bounded
    if direct is not None and direct.kind == "org" and not carries_kind(query, direct):
        # "Which university": the best line names no university (a programme, a person's post); a
        # close line whose value does answers the kind asked for.
        kind = _close_value(query, cands, scores, best, policy.typed_fallback_margin, policy,
                            lambda d: d.kind == "org" and carries_kind(query, d), dated=False)
        if kind is not None:
            return kind
    if direct is not None and direct.kind == "org" and query.english and asked_org_heads(query.text):
        # "Which Hokkai University institute": of the bodies of the kind asked in close lines, the one
        # whose name holds more of the question's words (its qualifier, 北海) than the best line's.
        mine = qualifier_held(query, direct)
        named = _close_value(query, cands, scores, best, policy.typed_fallback_margin, policy,
                             lambda d: d.kind == "org" and carries_kind(query, d) and qualifier_held(query, d) > mine,
                             dated=False)
        if named is not None:
            return named
    if direct is not None and (not query.units or asked(direct)):
        return Selection([cands[best]], direct, cands[best], best_prob)
    if query.units:
        # The question names its unit (何名, 何%, "in millions of yen"): a close candidate with that unit wins.
        close = _close_value(query, cands, scores, best, policy.unit_fallback_margin, policy, asked)
        if close is not None:
            return close
    if direct is not None:
        return Selection([cands[best]], direct, cands[best], best_prob)
    close = _close_value(query, cands, scores, best, policy.typed_fallback_margin, policy, lambda d: True)
    return close or Selection([cands[best]], None, None, best_prob)


_MARKERS = (
    (lazy(r"^[①-⑳]"), "circled"),
    (lazy(r"^[(（]\d{1,2}[)）]"), "paren"),
    (lazy(r"^\d{1,2}[.．)）]"), "number"),
    (lazy(r"^[ivx]+\."), "roman"),
    (lazy(r"^[^\s:：、。]{1,8}[:：]"), "label"),
)


def item_marker(text: str) -> str | None:
    """What kind of item a line opens (its bullet, numbering or label), or None when it opens none
    (a Markdown heading, `# 第2章`, is a heading over items, not one of them)."""
    if not starts_item(text) or _markdown_heading(text):
        return None
    for pat, name in _MARKERS:
        if pat.match(text):
            return name
    return text[:1]


def _sentence_at_line(index: LoadedIndex, cand: Candidate, line: int) -> Candidate | None:
    """The sentence of ``cand``'s passage that starts on ``line`` (as an unscored candidate)."""
    from assistant.reader.candidates import line_of

    sents = index.sentences
    for pos, si in enumerate(sents.of_row(cand.row)):
        start, end = (int(x) for x in sents.spans[si])
        if line_of(cand.chunk, start) == line:
            text = sents.texts[si]
            return Candidate("sentence", cand.hit_rank, cand.row, cand.chunk, start, end, text, si, pos, 0.0, 0.0,
                             0.0, 0.0, sents.tokens[si], tuple(index.annotations.spans(si, text)))
    return None


#: Enumerators written inside a sentence (①…②…, (1)…(2)…, 1)…2)…).
_INLINE_ENUMERATOR = lazy(r"[①-⑳]|[(（][1-9一二三四五六七八九][)）]|(?<![\d.])[1-9][)）]")


def inline_list(text: str) -> bool:
    """Whether ``text`` enumerates its items itself (①A②B③C): it is the whole list, and the
    bullets around it are other points of the slide."""
    return len(_INLINE_ENUMERATOR.findall(text)) >= 2


def opens_enumeration(text: str) -> bool:
    """Whether ``text`` opens an enumeration of its own past its start and stops on a comma, the rest
    of it on the next line (``・特長(①甲、`` / ``②乙、③丙)``): that enumeration is the list."""
    body = _HEADING_MARK.sub("", text, count=1)
    return _INLINE_ENUMERATOR.search(body, 1) is not None and _RUNS_ON.search(body) is not None


#: Markers of bracketed titles (【概要】, ＜主な論点＞): sub-headings rather than items.
TITLE_MARKERS = ("【", "<", "＜")
#: Markers of a line inside a list that can be an item's detail rather than an item: a sub-title
#: (＜…の例＞) or a label (対象：…).
DETAIL_MARKERS = frozenset({*TITLE_MARKERS, "label"})


#: Numbered item kinds (the others are bullets or labels): their numbers follow one another.
_NUMBERED_KINDS = ("circled", "paren", "number")
_ITEM_NUMBER = lazy(r"^(?:([①-⑳])|[(（](\d{1,2})[)）]|(\d{1,2})[.．)）])")


def item_number(text: str) -> int | None:
    """The number a numbered item opens with (``②`` → 2, ``(3)`` → 3, ``4.`` → 4), else None."""
    m = _ITEM_NUMBER.match(text)
    if not m:
        return None
    if m.group(1):
        return ord(m.group(1)) - ord("①") + 1
    return int(m.group(2) or m.group(3))


#: A heading that announces how many items follow it (…に至る3段階, 行動計画の4つの柱, 5項目): a count
#: of things (not of years, people, money or times) that ends the line.
_ANNOUNCED_COUNT = lazy(r"(?<![\d.,第])(?P<n>[2-9])(?:つの[\u3400-\u9fffァ-ヺー]{1,6}"
                        r"|(?![年月日回名人円件社億万兆歳時秒週倍度%か箇ヶカ]|分(?!野))[\u3400-\u9fffァ-ヺー]{1,4})\s*[:：]?\s*$")


def announces_count(text: str) -> bool:
    """Whether a line ends on a count of the items it heads (…に至る3段階, 4つの柱)."""
    return _ANNOUNCED_COUNT.search(text) is not None


def counted_items(index: LoadedIndex, head: Candidate, policy: ReaderPolicy) -> list[Candidate] | None:
    """``head`` and the N lines after it when ``head`` is a heading that announces N items and the
    N lines open no item of their own (a slide's boxes: 甲との調整 / 乙の確立 / 丙の形成 under
    ``…の3段階``), else None. The count says where the list ends, which no bullet does here."""
    if head.cell is not None or "。" in head.text or len(head.text) > policy.max_heading_chars \
            or item_marker(head.text) not in (None, *TITLE_MARKERS):
        return None
    m = _ANNOUNCED_COUNT.search(head.text)
    if m is None or int(m.group("n")) > policy.max_list_items:
        return None
    n = int(m.group("n"))
    items = following(index, head, n)
    if len(items) < n or any(item_marker(c.text) is not None or len(c.text) > policy.max_item_chars
                             for c in items):
        return None
    return [head, *items]


def _list_reach(policy: ReaderPolicy) -> int:
    """How many lines a list's items are looked for over, from one of its lines: ``max_list_items``
    items and two more, each with up to ``max_item_body`` lines of body."""
    return (policy.max_list_items + 2) * (1 + policy.max_item_body)


def items_before(index: LoadedIndex, head: Candidate, marker: str, policy: ReaderPolicy) -> list[list[Candidate]]:
    """The items of ``head``'s list above it, nearest first, each with the lines kept with it, across
    passage boundaries (a list the chunker cut starts above the passage its best line is in): the
    items of its bullet right above it, and over other lines as the list goes on over them below it:
    a bulleted item's detail lines (up to two, a label among them: ``• 甲制度`` / ``＜昨年度の例＞`` /
    ``対象：…`` / ``• 乙制度``: kept; a sub-title alone heads the items under it) or its wrapped tail; the
    body of a numbered item (up to ``max_item_body`` sentences: left out) when the item above it carries
    the number before (``(1)…`` / body / ``(2)…``)."""
    numbered = marker in _NUMBERED_KINDS
    bulleted = not numbered and marker not in DETAIL_MARKERS
    number = item_number(head.text) if numbered else None
    out: list[list[Candidate]] = []
    gap: list[Candidate] = []
    for c in preceding(index, head, _list_reach(policy), across=True):
        m = item_marker(c.text)
        if m == marker:
            n = item_number(c.text) if numbered else None
            if gap and numbered and (number is None or n != number - 1):
                break  # a numbered item out of sequence above other lines: another list
            gap_marks = [item_marker(x.text) for x in gap]
            if bulleted and None in gap_marks and (len(gap) > 1 or not _MID_SENTENCE.search(c.text)):
                break  # an unmarked line under a bulleted item is its wrapped tail alone, nothing else
            if bulleted and gap and None not in gap_marks and "label" not in gap_marks:
                break  # a sub-title alone over the items below it heads them: another section
            out.append([c] if numbered else [c, *gap])
            gap, number = [], n
            if len(out) >= policy.max_list_items:
                break
            continue
        if not (numbered or bulleted) or len(gap) >= (policy.max_item_body if numbered else 2) \
                or c.cell is not None or _markdown_heading(c.text) or (bulleted and m not in (None, *DETAIL_MARKERS)):
            break
        gap.insert(0, c)
    return out


def list_block(index: LoadedIndex, head: Candidate, policy: ReaderPolicy, reach: bool = False) -> list[Candidate]:
    """The list ``head`` belongs to: the run of items around it, or the items right after it
    when it is the list's heading or lead-in; ``[head]`` when there is no list, or when ``head``
    enumerates the items itself (or opens an enumeration that runs on to the next line:
    ``・特長(①甲、`` / ``②乙)``). With ``reach`` (a list question), the items above ``head`` are
    gathered across passage boundaries and item bodies too (``items_before``).

    Numbered items (①, (1), 1.) may each carry a body of several sentences: the list goes on
    across a body when the next item of its kind carries the next number, and the bodies are
    left out (the items' own lines say what the list holds; a body is one item's detail)."""
    if head.kind != "cell" and (inline_list(head.text) or opens_enumeration(head.text)):
        return [head]
    if head.kind == "cell":
        # A cell under a heading label (主な支援策 / ・…) heads the list from its label line.
        label_line = _sentence_at_line(index, head, head.cell.first_line) if head.cell else None
        if label_line is None or head.cell is None or head.cell.kind != "below":
            return [head]
        head = label_line
        labelled = True  # the label line is the heading of the lines under it, not an item after others
    else:
        labelled = False
        counted = counted_items(index, head, policy)
        if counted is not None:
            return counted
    marker = item_marker(head.text)
    before: list[Candidate] = []
    if marker and not labelled:
        for c in preceding(index, head, policy.max_list_items):
            if item_marker(c.text) != marker:
                break
            before.insert(0, c)
    first_marker = marker
    block = [*before, head]
    total = sum(len(c.text) for c in block)
    items = len(block) if marker else 0
    lead_in = 0
    number = item_number(head.text) if marker in _NUMBERED_KINDS else None
    pending: list[Candidate] = []  # sub-lines (＜例＞, 対象：…) between two items of the list
    heading: str | None = None  # the head's own marker, once it heads items of another kind
    after = following(index, head, _list_reach(policy))
    for k, c in enumerate(after):
        m = item_marker(c.text)
        # A sub-title or label line (＜…の例＞ / 対象：…) right under a bulleted head whose bullet comes back
        # a few lines on is that first item's detail; else the head heads the lines under it (●主な支援策 /
        # 【概要】; 議題： / (1)…: a label line is no bullet, whatever other labels follow). Items of another
        # bullet under it (●主な支援策 / ・… / ●今後の課題) are headed by it either way.
        detail = m in DETAIL_MARKERS and marker is not None and marker not in DETAIL_MARKERS \
            and items == 1 and len(block) == 1 \
            and any(item_marker(x.text) == marker for x in after[k + 1 : k + 1 + policy.max_item_body])
        if m in TITLE_MARKERS and m != marker and not before and (items == 0 or len(block) - lead_in == 1) \
                and not detail:
            # A bracketed sub-title (【概要】) under the heading: the items are the lines under it.
            block.append(c)
            total += len(c.text)
            marker, number, items = None, None, 0
            continue
        if m is None or (marker and m != marker):
            if m is None and items == 0 and lead_in == 0 and not before:
                lead_in = 1  # the rest of a lead-in sentence (…を活用し、) before the first item
                block.append(c)
                total += len(c.text)
                continue
            if marker and m is not None and len(block) - lead_in == 1 and not before and items <= 1 and not detail:
                heading = marker
                marker, items = m, 0  # the head is a heading (●主な支援策) over items of another kind (・…)
                number = None
            elif m is not None and m == heading:
                break  # the next heading of the head's kind (●今後の課題): another section's items follow
            elif items >= 1 and (len(pending) < 2 or (number is not None and len(pending) < policy.max_item_body)):
                pending.append(c)
                continue
            else:
                break  # the list has ended (or never started)
        marker = marker or m
        if marker in _NUMBERED_KINDS:
            n = item_number(c.text)
            if number is not None and n != number + 1 and pending:
                break  # a numbered item out of sequence after other lines: another list
            number = n
        if len(pending) > 2 or number is not None:
            pending = []  # the previous numbered item's body: left out
        shown = min(len(c.text), policy.max_item_chars)
        if total + sum(len(x.text) for x in pending) + shown > policy.max_list_chars \
                or len(block) >= policy.max_list_items:
            break
        block += [*pending, c]
        total += sum(len(x.text) for x in pending) + shown
        pending = []
        items += 1
    if pending and items >= 2 and total + len(pending[0].text) <= policy.max_list_chars \
            and len(block) < policy.max_list_items and same_row_shape(block, pending[0], marker):
        # A last row whose number the extraction lost (a glyph read as ・ or dropped), of the items' shape.
        block.append(pending[0])
        items += 1
    if reach and first_marker and not labelled and item_marker(block[0].text) == first_marker \
            and (items >= 2 or (first_marker in _NUMBERED_KINDS and (item_number(block[0].text) or 0) > 1)):
        # The list goes on above the passage or over the bodies above its first item: its items up there
        # join, nearest first, as many as the list's limits leave room for (the best line's stay). Only
        # for a list found here already, or a numbered item whose number says items come before it.
        shown = sum(min(len(c.text), policy.max_item_chars) for c in block)
        for group in items_before(index, block[0], first_marker, policy):
            size = sum(min(len(c.text), policy.max_item_chars) for c in group)
            if len(block) + len(group) > policy.max_list_items or shown + size > policy.max_list_chars:
                break
            block = [*group, *block]
            shown += size
            items += 1
    if items < 2 and not item_marker(head.text):
        # Slides often print their title under the content: the list just before a heading.
        # Under a title (a short line, no sentence), up to two other lines (a ※ note, a sub-heading)
        # may sit between its items, as below a heading; never a Markdown heading (another section).
        titled = len(head.text) <= policy.max_heading_chars and "。" not in head.text
        run: list[Candidate] = []
        gap: list[Candidate] = []
        main: str | None = None
        for c in preceding(index, head, policy.max_list_items + 2):
            m = item_marker(c.text)
            if m is not None and m not in TITLE_MARKERS and m == (main or m):
                main = m
                run, gap = [c, *gap, *run], []
                if len(run) >= policy.max_list_items:
                    break
            elif titled and len(gap) < 2 and not _markdown_heading(c.text):
                gap.insert(0, c)
            else:
                break
        if sum(1 for c in run if item_marker(c.text) == main) >= 2:
            return join_wrapped(run)
    return join_wrapped(block) if items >= 2 else [head]


#: Kinds of figure whose order makes a row's shape (a name, then 480百万円（310百万円)).
_SHAPE_KINDS = frozenset({"money", "count", "number", "percent", "date"})


def row_shape(c: Candidate) -> tuple[str, ...]:
    """The kinds of the figures a line states, in order, and whether it ends in a bracket: a table
    printed as numbered rows gives each row the same (``('money', 'money', ')')``)."""
    kinds = tuple(s.kind for s in sorted(c.spans, key=lambda s: s.start) if s.kind in _SHAPE_KINDS)
    return (*kinds, ")") if c.text.rstrip().endswith((")", "）")) else kinds


def same_row_shape(block: Sequence[Candidate], c: Candidate, marker: str | None) -> bool:
    """Whether ``c``, a line right after a numbered list (no number of its own: the extraction lost
    it), states figures in the shape every numbered item of ``block`` shares, two figures or more
    (①甲 2,400百万円（1,800百万円) / ②乙 720百万円（690百万円) / ・丙 480百万円（310百万円)): it is the
    list's last row. A line of another shape is a note or the next point."""
    if marker not in _NUMBERED_KINDS or c.cell is not None:
        return False
    rows = [x for x in block if item_marker(x.text) == marker]
    shape = row_shape(c)
    return len(rows) >= 2 and len([k for k in shape if k != ")"]) >= 2 \
        and all(row_shape(x) == shape for x in rows)


#: A line that stops mid-sentence: on a particle, an inflection or a comma (…テーマを, …に向け、).
_MID_SENTENCE = lazy(r"[ぁ-ゖ、,]\s*$")


def join_wrapped(block: Sequence[Candidate]) -> list[Candidate]:
    """The list's items with their wrapped tails joined back: a line without a marker right after
    an item that stops mid-sentence (…整理した論点を / 用意する。, a blank line between them
    in the extracted text) is the rest of that item, not an item of its own."""
    out: list[Candidate] = []
    for c in block:
        prev = out[-1] if out else None
        if prev is not None and item_marker(c.text) is None and item_marker(prev.text) is not None \
                and c.chunk.id == prev.chunk.id and prev.end <= c.start and c.cell is None and prev.cell is None \
                and _MID_SENTENCE.search(prev.text):
            out[-1] = replace(prev, end=c.end, text=prev.text + c.text)
            continue
        out.append(c)
    return out


def _sub_heading(c: Candidate, main: str | None, policy: ReaderPolicy) -> bool:
    """Whether a line inside a list is a sub-heading over some of its items (＜主な論点＞,
    各論として, 【概要】): short, no sentence, and not an item of the list's main kind."""
    return (c.cell is None and len(c.text) <= policy.max_heading_chars and "。" not in c.text
            and item_marker(c.text) != main)


#: An item that labels its value: ・参加者：日欧、各12名, 主催：甲機構.
_ITEM_LABEL = lazy(r"^[・\-•◦▪●○\s]*([^:：、。()（）]{1,12})[:：]")


def labelled_item(query: Query, block: Sequence[Candidate]) -> Candidate | None:
    """The one item of a heading's block whose label the question names (参加者 in
    ・参加者：日欧、各12名), else None: the question asks that attribute, not the whole block."""
    named: list[tuple[str, Candidate]] = []
    for c in block[1:]:
        m = _ITEM_LABEL.match(c.text)
        if m and key_named(query, m.group(1).strip()):
            named.append((m.group(1).strip(), c))
    kept = outermost([k for k, _ in named])
    return next(c for k, c in named if k == kept[0]) if len(kept) == 1 else None


def named_section(query: Query, block: Sequence[Candidate], policy: ReaderPolicy,
                  before: Candidate | None = None) -> list[Candidate] | None:
    """The section of ``block`` under the sub-heading the question names, else None.

    A list often falls into sections under sub-headings (全体として / ・… / 各論として / ・…,
    ＜主な論点＞, 【概要】). A question that names a sub-heading in words no other part of the
    list's framing uses (its first line, the other sub-headings) asks for that section's items,
    not the whole run. ``before`` is the line right above the block: a sub-heading there heads
    the block's first section."""
    markers = [item_marker(c.text) for c in block]
    counts = {m: markers.count(m) for m in markers if m and m not in TITLE_MARKERS}
    if not counts:
        return None
    main = max(counts, key=counts.get)  # type: ignore[arg-type]
    inner = [i for i in range(1, len(block)) if _sub_heading(block[i], main, policy)]
    above = before is not None and _sub_heading(before, main, policy)
    if inner or not above:
        # The block's own sub-headings divide it; a heading above it is the whole list's.
        ext, first = list(block), 1
        extra = [before.tokens] if above and before is not None else []
    else:
        # One run of items: the sub-heading right above it may be what the question names.
        ext, first, extra = [before, *block], 0, []
        markers.insert(0, item_marker(before.text))  # type: ignore[union-attr]
    heads = [i for i in range(first, len(ext)) if _sub_heading(ext[i], main, policy)]
    starts = [i for i in heads if i + 1 < len(ext) and markers[i + 1] == main]
    if not starts:
        return None
    # The words of the items too: a sub-heading is named in words its items do not use.
    framing = [(i, ext[i].tokens) for i in heads] + [(-1, t) for t in extra] \
        + [(-1, ext[i].tokens) for i, m in enumerate(markers) if m == main]
    if first:
        framing.append((0, ext[0].tokens))

    def distinct(i: int) -> float:
        others = frozenset().union(*(t for j, t in framing if j != i))
        return sum(w for t, w in query.terms.items() if t in ext[i].tokens and t not in others)

    scores = [distinct(i) for i in starts]
    k = int(np.argmax(scores))
    if scores[k] <= 0:
        return None
    end = next((i for i in heads if i > starts[k]), len(ext))
    section = ext[starts[k] : end]
    return section if sum(1 for m in markers[starts[k] : end] if m == main) >= 2 else None


def coverage(query: Query, units: Sequence[Candidate]) -> float:
    """The IDF weight of the question's terms that ``units`` use, together."""
    tokens = frozenset().union(*(c.tokens for c in units))
    return sum(w for t, w in query.terms.items() if t in tokens)


_ANNOUNCES = lazy(r"次の|以下の|下記の|次のとおり|以下のとおり")


def headed_items(index: LoadedIndex, head: Candidate, policy: ReaderPolicy) -> list[Candidate] | None:
    """``head`` and the items under it when ``head`` is a heading (a title line over items of
    another kind, or a sentence announcing them), else None: a heading restates the question
    and answers nothing; its items do. A cell read under a heading label (【アウトカム】 / ・…)
    is the label's first item: the label and all its items answer."""
    if head.cell is not None:
        if head.cell.kind != "below":
            return None
        block = list_block(index, head, policy)
        return block if len(block) >= 3 and block[0].cell is None else None
    if len(head.text) > policy.max_heading_chars:
        return None
    if "。" in head.text and not _ANNOUNCES.search(head.text):
        return None  # a sentence, unless it announces the items after it (次の二つの方針で進める。)
    counted = counted_items(index, head, policy)
    if counted is not None:
        return counted  # its items are unmarked, as the heading is
    block = list_block(index, head, policy)
    if len(block) < 3 or block[0].key != head.key:
        return None
    # The first item after any lead-in (…以下の機関で組織する。 / another sentence / ①…) is of another kind.
    first = next((c for c in block[1:] if item_marker(c.text)), block[1])
    return None if item_marker(first.text) == item_marker(head.text) else block


def item_section(query: Query, index: LoadedIndex, best: Candidate, policy: ReaderPolicy) -> list[Candidate] | None:
    """For a what-question whose best line is one item of a list: the section of the list the
    item is in, when the question names that section's sub-heading (各論ではどのような提案…):
    the question asks for the items under it, of which the best line is one. Else None."""
    if not best.is_item or best.cell is not None:
        return None
    block = list_block(index, best, policy)
    above = preceding(index, block[0], 1)
    section = named_section(query, block, policy, above[0] if above else None) if len(block) >= 2 else None
    if section is None or not any(c.key == best.key for c in section):
        return None
    return section


#: A heading the question quotes in brackets (【整える】, 「基本方針」, ＜主な課題＞).
_QUOTED_HEADING = lazy(r"[【「『＜<]([^【】「」『』＜＞<>。]{1,24})[】」』＞>]")
_HEADING_BRACKETS = lazy(r"[【】「」『』＜＞<>\[\]［］\s]")
_HEADING_MARK = lazy(r"^(?:[・●○〇◆◇■□▪•◎◯★☆\-\s]+|[①-⑳]|[(（]\d{1,2}[)）]|\d{1,2}[.．)）])\s*")


def _bare(text: str) -> str:
    """A heading's words without its bullet, number or brackets (``0. 甲の設計`` → ``甲の設計``)."""
    return _HEADING_BRACKETS.sub("", _HEADING_MARK.sub("", text.strip()))


def _unmarked_under(index: LoadedIndex, head: Candidate, policy: ReaderPolicy) -> list[Candidate]:
    """The lines right after ``head`` that open no item (a table row's heading ``2. 甲`` over its
    unmarked entries), up to the first line that opens one."""
    out: list[Candidate] = []
    for c in following(index, head, policy.max_list_items):
        if item_marker(c.text) is not None or len(c.text) > policy.max_item_chars or c.cell is not None:
            break
        out.append(c)
    return out


def named_heading(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
                  policy: ReaderPolicy, unquoted: bool = True) -> list[Candidate] | None:
    """The items under the heading line a list question names (…の【整える】として挙げられている取組,
    ``甲の設計について…項目は`` over ``0. 甲の設計``), else None: the heading says which of a slide's
    sections is asked, whatever lines score best (a section's items share the words of the others').
    The line must be the heading alone (its bullet, number and brackets aside): short, no sentence,
    quoted in the question or (``unquoted``) named there in three characters or more; its items are
    the list it heads (up to the next sub-heading), the unmarked lines under a numbered row's heading,
    or the unmarked lines under a quoted heading. A heading only named must head a line scoring within
    ``typed_fallback_margin`` of the best (a topic word names headings the question does not ask about).
    A numbered row that opens with the quoted heading and goes on (a table row the extractor ran into
    one line: ``2. 甲の設計 乙の検討、丙の試作``) answers by itself."""
    quoted = {_bare(m.group(1)) for m in _QUOTED_HEADING.finditer(query.normalized)} - {""}

    def named(text: str, loose: bool) -> bool:
        bare = _bare(text)
        return bare in quoted or (loose and len(bare) >= 3 and bare in query.normalized)

    def section(c: Candidate, loose: bool) -> list[Candidate] | None:
        if c.cell is None and item_marker(c.text) in _NUMBERED_KINDS and len(_bare(c.text)) > 24 \
                and any(_bare(c.text).startswith(q) and len(q) >= 3 for q in quoted):
            return [c]  # a table's row read as one line (2. 甲の設計 乙の検討): the quoted row's own entries
        if c.cell is not None:
            if c.cell.kind != "below" or not named(c.cell.label, loose):
                return None
        elif len(c.text) > policy.max_heading_chars or "。" in c.text or not named(c.text, loose):
            return None
        if c.cell is None and item_marker(c.text) in _NUMBERED_KINDS:
            # A numbered row's heading (2. 甲の設計): its entries are the unmarked lines under it, not
            # the rows after it.
            under = _unmarked_under(index, c, policy)
            if under:
                return [c, *under]
        block = list_block(index, c, policy)
        if len(block) > 2 and named(block[0].text, loose) and not named(block[0].text, False):
            return block  # named, not quoted: its sub-headings may be what the question names (各論)
        if len(block) > 2 and named(block[0].text, loose):
            markers = [item_marker(x.text) for x in block[1:]]
            main = max(set(markers) - {None}, key=markers.count, default=None)
            # The section ends at the next sub-heading (another section's title the run went on past).
            end = next((k for k in range(2, len(block)) if _sub_heading(block[k], main, policy)), len(block))
            if end > 2:
                return block[:end]
        if c.cell is None and named(c.text, False):
            # Unmarked lines under a quoted heading; not under one only named (a diagram's short
            # labels under a label the question happens to use are no list).
            under = _unmarked_under(index, c, policy)
            if len(under) >= 2:
                return [c, *under]
        return None

    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    if not order:
        return None
    floor = scores[order[0]] - policy.typed_fallback_margin
    close = {c.key for c, x in zip(cands, scores, strict=True) if x >= floor}
    # A quoted heading first: a line the question only names may be the document's title.
    for loose in (False, True) if unquoted else (False,):
        for i in order:
            found = section(cands[i], loose)
            # A heading only named (a topic word the question uses too) must head a line that
            # scores close to the best: the question's other words agree on it.
            if found is not None and (not loose or any(c.key in close for c in found)):
                return found
    return None


#: A count the question asks for (3段階, 4つの柱) with the noun it counts.
_ASKED_COUNT = lazy(r"(?<![\d.,第])([2-9])(つの)?([\u3400-\u9fffァ-ヺー]{1,4})")


def counted_heading(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
                    policy: ReaderPolicy) -> list[Candidate] | None:
    """The items under a heading that counts them in the count the question asks for (…の3段階は何か
    and a line ``…に至る3段階`` over three unmarked lines), else None: the count and its noun say
    which list is asked, over lines that score better with the question's other words."""
    asked = {(m.group(1), m.group(3)) for m in _ASKED_COUNT.finditer(query.normalized)}
    if not asked:
        return None
    for i in [int(i) for i in np.argsort(-scores, kind="stable")]:
        m = _ANNOUNCED_COUNT.search(cands[i].text)
        if m is None or cands[i].cell is not None:
            continue
        n, noun = m.group("n"), m.group(0)[1:].removeprefix("つの").strip(" :：")
        if any(n == a and (noun.startswith(w) or w.startswith(noun)) for a, w in asked):
            block = counted_items(index, cands[i], policy)
            if block is not None:
                return block
    return None


def _titled_run(index: LoadedIndex, c: Candidate, policy: ReaderPolicy) -> list[Candidate]:
    """The bracketed sub-titles of the run of titled sections ``c`` is in (``【甲】`` / ``・…`` / ``【乙】`` /
    ``・…``, each item with at most one wrapped line), in document order; empty when ``c`` is in none."""
    limit = _list_reach(policy)

    def kind(x: Candidate, prev: str | None) -> str | None:
        m = item_marker(x.text)
        if x.cell is not None or _markdown_heading(x.text):
            return None
        if m in TITLE_MARKERS and len(x.text) <= policy.max_heading_chars and "。" not in x.text:
            return "title"
        if m is not None and m not in DETAIL_MARKERS and m not in _NUMBERED_KINDS:
            return "item"
        return "tail" if m is None and prev == "item" and len(x.text) <= policy.max_item_chars else None

    first: Candidate | None = c if kind(c, None) == "title" else None
    if first is None:
        # Up through the section's items (and their wrapped lines) to its title.
        for x in preceding(index, c, limit, across=True):
            k = kind(x, "item")
            if k == "title":
                first = x
                break
            if k is None:
                return []
    if first is None:
        return []
    for x in preceding(index, first, limit, across=True):  # earlier sections of the run
        k = kind(x, "item")
        if k == "title":
            first = x
        elif k is None:
            break
    titles: list[Candidate] = [first]
    prev = "title"
    for x in following(index, first, limit):
        k = kind(x, prev)
        if k is None:
            break
        if k == "title":
            if prev == "title":
                return []  # titles in a row are a list of their own, not sections
            titles.append(x)
        prev = k
    return titles if prev != "title" else []


def counted_sections(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
                     policy: ReaderPolicy) -> list[Candidate] | None:
    """The bracketed sub-titles of a run of sections (``【甲】`` / ``・…`` / ``【乙】`` / ``・…`` / ``【丙】`` / ``・…``)
    that a line scoring close to the best is in, when the question asks for as many things as there
    are sections (…の3つの柱は何か): the titles name them; their items are their details. Else None."""
    asked = {int(m.group(1)) for m in _ASKED_COUNT.finditer(query.normalized)}
    if not asked:
        return None
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    for i in order[: policy.list_heads]:
        if scores[i] < scores[order[0]] - policy.typed_fallback_margin:
            break
        titles = _titled_run(index, cands[i], policy)
        if len(titles) >= 2 and len(titles) in asked:
            return titles
    return None


#: A run of short nouns a sentence enumerates itself (大学、研究所、学会、企業等): three or more.
_NOUN_RUN = lazy(r"(?:^|[、,，。:：\s])((?:[^、,，。:：\s]{1,10}、){2,}[^、,，。:：\s]{1,10}?(?:等|など|及び|や|の各))")


def enumerated_inline(text: str) -> bool:
    """Whether ``text`` names three or more short nouns in a row, comma after comma (甲、乙、丙等)."""
    for m in _NOUN_RUN.finditer(text):
        parts = m.group(1).split("、")
        if all(not re.search(r"[をにがはでへてし]$", p) for p in parts[:-1]):
            return True
    return False


def select_list(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
                policy: ReaderPolicy) -> Selection:
    """The list the best-scored candidates belong to (one of the top few heads a list)."""
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    best = order[0]
    sections = counted_sections(query, index, cands, scores, policy)
    if sections is not None:
        return Selection(sections, None, None, float(scores[best]))
    named = named_heading(query, index, cands, scores, policy) or counted_heading(query, index, cands, scores, policy)
    if named is not None:
        above = preceding(index, named[0], 1)
        section = named_section(query, named, policy, above[0] if above else None) if len(named) > 2 else None
        return Selection(section or named, None, None, float(scores[best]))
    top = cands[best]
    if top.cell is None and len(top.text) > policy.max_item_chars and enumerated_inline(top.text[policy.max_item_chars // 2:]) \
            and (len(order) < 2 or scores[order[1]] <= scores[best] - policy.typed_fallback_margin):
        # The best line, far ahead, names the items in its own words past where a list line is cut.
        return Selection([top], None, None, float(scores[best]))
    for i in order[: policy.list_heads]:
        if scores[i] < scores[best] - policy.typed_fallback_margin:
            break
        block = list_block(index, cands[i], policy, reach=True)
        if len(block) > 1 or (cands[i].kind != "cell" and inline_list(cands[i].text)):
            item = labelled_item(query, block) if len(block) > 1 else None
            if item is not None:
                # The block's one item labelled with what the question lists (・実施地：甲市、乙町).
                return Selection([item], None, None, float(scores[i]))
            above = preceding(index, block[0], 1)
            section = named_section(query, block, policy, above[0] if above else None)
            if section and not any(c.key == cands[i].key for c in section) and "。" in cands[i].text \
                    and coverage(query, section) <= coverage(query, [cands[i]]):
                section = None  # the best line states more of the question than the section does
            return Selection(section or block, None, None, float(scores[i]))
    return Selection([cands[best]], None, None, float(scores[best]))


_COMMA_END = lazy(r"[、,，]\s*$")


def item_under_heading(query: Query, cands: Sequence[Candidate], scores: np.ndarray, best: int,
                       policy: ReaderPolicy) -> int:
    """The line under a heading that names what the heading leaves out of the question.

    A slide's or a table's heading (令和8年度に重点的に実施する項目（案）) restates most of a
    question about one of its items (…で、緑化については何を行うか) and outscores the item's own
    line, which shares only that item's name with the question. When the best line is such a
    heading and a close candidate below it in the same passage holds the question terms the
    heading lacks (the rarest first), that line answers. ``best`` otherwise.
    """
    head = cands[best]
    # An English question's terms are translations: a heading lacking some of them says little.
    if query.english or head.cell is not None or "。" in head.text or len(head.text) > policy.max_heading_chars \
            or _COMMA_END.search(head.text):
        return best  # a line ending on a comma is a sentence that runs on (…を設立し、), no heading
    missing = {t: w for t, w in query.terms.items() if t not in head.text and len(t) > 1 and not t.isascii()}
    if not missing:
        return best
    top = max(missing.values())

    def named(i: int) -> float:
        # In the text, not the tokens: a table row's cells run together lose their word boundaries.
        return sum(w for t, w in missing.items() if t in cands[i].text)

    below = [i for i, c in enumerate(cands)
             if i != best and c.row == head.row and c.start >= head.end
             and scores[i] >= scores[best] - policy.typed_fallback_margin and named(i) >= top]
    if not below:
        return best
    return max(below, key=lambda i: (named(i), float(scores[i])))


def named_item(query: Query, cands: Sequence[Candidate], scores: np.ndarray, best: int,
               policy: ReaderPolicy) -> int:
    """The numbered row or item labelled with the question's rarest word, when the best line lacks it.

    A table printed as numbered rows (``3.緑化 街路樹の植え替え ◎``) under a heading and prose about
    the whole table (…優先的に実施すべき項目を選定した) share the question's common words; the
    question names its row by the row's label, its rarest word that a candidate uses. A close
    candidate whose numbered label starts with that word answers; only one such row, else ``best``.
    """
    if query.english:
        return best
    terms = {t: w for t, w in query.terms.items() if len(t) > 1 and not t.isascii()}
    used = {t: w for t, w in terms.items() if any(t in c.text for c in cands)}
    if not used:
        return best
    top = max(used.values())
    rarest = [t for t, w in used.items() if w >= top]
    if any(t in cands[best].text for t in rarest):
        return best

    def labelled(c: Candidate) -> bool:
        m = _ITEM_NUMBER.match(c.text)
        return c.cell is None and m is not None and c.text[m.end() :].lstrip().startswith(tuple(rarest))

    rows = {cands[i].key: i for i in np.argsort(-scores, kind="stable")
            if scores[i] >= scores[best] - policy.typed_fallback_margin and labelled(cands[int(i)])}
    return int(next(iter(rows.values()))) if len(rows) == 1 else best


#: A name asked for (名称, 題名).
_NAME_HEADS = frozenset({"名称", "名前", "題名", "タイトル", "呼称", "名"})
_QUOTED = lazy(r"[「『]([^「」『』]{2,})[」』]")
#: An English question asking for the (official) name or title of something; not its English name,
#: which the English lead finds among the line's Latin words.
_EN_NAME_ASKED = lazy(r"\bwhat (?:is|was|are|were) (?:the |its |their )?(?:official |formal |full )?(?:name|title)s?\b", re.I)
#: The kind of thing whose name is asked (拠点の名前, 制度の名称): the compound's last ideographs or katakana.
_NAMED_HEAD = lazy(r"([\u3400-\u9fffァ-ヺー]{2,})の(?:正式な)?(?:名称|名前|題名|呼称)")
_FIGURE_LEAD = lazy(r"[^・]*\d[^・]*・|\d+[^\u3400-\u9fffァ-ヺA-Za-z]*[年月日度回人名件]")


def _quoted_name(query: Query, m: re.Match[str] | None, policy: ReaderPolicy) -> TypedSpan | None:
    """The name inside quotes ``m`` (of ``_QUOTED``) as a direct answer, unless the question already says
    it or it is too long for one."""
    if m is None or m.group(1) in query.normalized or len(m.group(1)) > policy.max_direct_chars:
        return None
    return TypedSpan("phrase", m.start(1), m.end(1), m.group(1), m.group(1))


#: An abbreviation asked for (略称は何, 英語の略で何と呼ぶ, what is the acronym of).
_ABBREV_HEADS = frozenset({"略", "略称", "略語", "頭文字"})
_EN_ABBREV_ASKED = lazy(r"\b(?:abbreviat\w*|acronym|short for|short name)\b", re.I)
#: A Latin abbreviation in brackets after what it abbreviates (日米調整委員会（JCC）).
_BRACKETED_ABBREV = lazy(r"[(（]([A-Z][A-Za-z0-9&\-]{1,11})[)）]")


#: Nouns that ask for the post a person holds (北海道の委員の職名は); English: ``query.asks_post``.
_POST_HEADS = frozenset({"職名", "肩書", "肩書き", "役職", "役職名", "職位", "ポスト"})


def post_asked(query: Query) -> bool:
    """Whether the question asks for the post someone holds (its title: 部長, 主任研究員), not a name."""
    if query.english:
        return asks_post(query.normalized)
    return "".join(query.focus).endswith(tuple(_POST_HEADS))


def post_phrase(query: Query, cand: Candidate) -> TypedSpan | None:
    """The post in ``cand`` that the question's own words point at: the first one after the rarest
    question term the line holds (a roster row reads organisation, post, name: 甲大学…講師乙山),
    else the last one before it; the first post when the line holds none of the question's terms.
    The question's own post words are no answer (理事の肩書は → not 理事)."""
    from assistant.claims import role_spans  # the drafting check's module: only when a post is asked

    text = cand.text
    # An English question names posts through its Japanese search terms (chair -> 理事長).
    roles = [r for r in role_spans(text) if r.text not in query.normalized
             and not any(r.text in t for t in query.search_terms)]
    if not roles:
        return None
    weights = {t: w for t, w in query.terms.items() if len(t) >= 2 and t in text}
    if not weights:
        return roles[0]
    term = max(weights, key=lambda t: (weights[t], len(t)))
    at = text.find(term) + len(term)
    after = [r for r in roles if r.start >= at]
    return after[0] if after else roles[-1]


#: A question asking for a web address (掲載先のURL, どのウェブサイト, what web page lists …).
_URL_ASKED_JA = lazy(r"URL|アドレス|リンク先|(?:ウェブ|web|Web|WEB)(?:サイト|ページ)|ホームページ")
_URL_ASKED_EN = lazy(r"\b(?:url|web ?page|website|web address|web site|link)s?\b", re.I)
#: A web address as documents print it: with a scheme or www., or a bare host with a path.
_URL = lazy(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+"
            r"|(?<![A-Za-z0-9@.])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+\.(?:jp|com|org|net|gov|int|eu|uk|edu)"
            r"(?:/[A-Za-z0-9\-._~/?#=&%]*)?")


def url_asked(query: Query) -> bool:
    """Whether the question asks for a web address (not when a web page is only its subject:
    ウェブサイトを開設したのはいつ asks a date, which its answer type already says)."""
    if query.answer_type not in ("other", "place"):
        return False
    pat = _URL_ASKED_EN if query.english else _URL_ASKED_JA
    return bool(pat.search(query.normalized))


def url_span(cand: Candidate) -> TypedSpan | None:
    """The first web address in ``cand``'s line, without trailing punctuation."""
    m = _URL.search(cand.text)
    if m is None:
        return None
    url = m.group().rstrip(".,;:)")
    return TypedSpan("phrase", m.start(), m.start() + len(url), url, url)


def abbreviation_asked(query: Query) -> bool:
    """Whether the question asks for an abbreviation (its focus ends on 略称, or it says "acronym")."""
    if query.english:
        return bool(_EN_ABBREV_ASKED.search(query.normalized))
    return bool(query.focus) and query.focus[-1] in _ABBREV_HEADS


def name_asked(query: Query) -> bool:
    """Whether the question asks for a name, a title or an abbreviation, which a line's quoted title
    or bracketed abbreviation answers better than the block the line heads."""
    if query.english:
        return bool(_EN_NAME_ASKED.search(query.normalized)) or abbreviation_asked(query)
    return bool(query.focus) and (query.focus[-1] in _NAME_HEADS or abbreviation_asked(query))


#: How far the kind a what-question names may stand from the question's end (基金は何ですか？,
#: どのような機能を持っているか).
_KIND_REACH = 12


def named_phrase(query: Query, cand: Candidate, policy: ReaderPolicy) -> TypedSpan | None:
    """The noun compound in ``cand`` that ends with the kind of thing a what-question asks for.

    A question that names the kind of its answer (どのような機能, どの協定, 基金は何か) is answered by
    a longer compound with that head (調整役的機能, 日伊文化交流協定) that the question does not
    already say; the first such compound in the line, else ``None``.
    """
    if abbreviation_asked(query):
        # The first bracketed Latin abbreviation the question does not already say.
        for m in _BRACKETED_ABBREV.finditer(cand.text):
            if m.group(1).casefold() not in query.normalized.casefold():
                return TypedSpan("phrase", m.start(1), m.end(1), m.group(1), m.group(1))
        return None
    if query.english:
        # "What is the title of the plan": the line's first quoted title that the question does not
        # already say (the Japanese name, which the English lead then carries).
        if not _EN_NAME_ASKED.search(query.normalized):
            return None
        return next(filter(None, (_quoted_name(query, m, policy) for m in _QUOTED.finditer(cand.text))), None)
    if not query.focus:
        return None
    head = query.focus[-1]
    if len(head) < 2 and len(query.focus) > 1:
        # A one-character suffix (研究 + 科, 報告 + 会) is the kind with the word before it.
        head = query.focus[-2] + head
    if head in _NAME_HEADS:
        # A name asked for (報告書の名前, 制度の名称): a quoted title in the line, else a compound
        # with the head the question gives the name (拠点の名前 → …拠点). Not for "what is it
        # called": a quote in the line is as often an emphasis (「世界初」) as the name asked.
        for m in _QUOTED.finditer(cand.text):
            if (quoted := _quoted_name(query, m, policy)) is not None:
                return quoted
        named = _NAMED_HEAD.search(query.normalized)
        head = query.focus[-2] if named is None and len(query.focus) > 1 else (named.group(1) if named else head)
    # A verbal noun the question uses as a verb (設立することに, 開催されたか) names an act, not a kind;
    # a noun far before the interrogative, a clause between (協力を強めるために立ち上げたものは), is
    # what the answer is for, not its kind.
    if len(head) < 2 or re.search(re.escape(head) + r"(?:す|し|さ|でき)", query.normalized) \
            or len(query.normalized) - query.normalized.rfind(head) - len(head) > _KIND_REACH:
        return None
    text = cand.text
    lo_bound = len(cand.cell.label) + 1 if cand.cell is not None else 0
    for m in re.finditer(re.escape(head), text):
        end = m.end()
        if m.start() < lo_bound or (end < len(text) and _COMPOUND_CHAR.match(text[end])):
            continue  # in a cell's label, or the head of a longer word (協定書)
        lo = _compound_start(text, m.start(), lo_bound)
        # A figure before the name is another item (12人・課題) or its date (2026年応募期間).
        lead = _FIGURE_LEAD.match(text, lo, m.start())
        if lead:
            lo = lead.end()
        # The kind's own name follows it in quotes (基本計画「…」, 宣言「…」): the name answers.
        quoted = _quoted_name(query, _QUOTED.match(text, end), policy)
        if quoted is not None:
            return quoted
        phrase = text[lo:end]
        if len(phrase) > len(head) and phrase not in query.normalized and len(phrase) <= policy.max_direct_chars:
            return TypedSpan("phrase", lo, end, phrase, phrase)
    return None


def _in_note(text: str, span: TypedSpan) -> bool:
    """Whether ``span`` stands in a ``※`` remark (※甲会議構成員), which runs to the sentence's end."""
    mark = text.rfind("※", 0, span.start)
    return mark >= 0 and "。" not in text[mark : span.start]


def row_affiliation(query: Query, index: LoadedIndex, sel: Selection) -> Selection:
    """For an organisation asked of a person the question names (甲山乙男氏の所属は): the row's
    organisation in a roster, where a name ends its row and the row's organisation stands before it.

    The row may wrap, the name alone on the next line (甲協会 理事 / ※丙会議構成員 甲山 乙男): then the
    organisation is the line above's. An organisation in a ``※`` remark beside the name is a note on
    the person (also a member of …), not the row's. ``sel`` when the question names no person of
    its line."""
    unit = sel.direct_unit
    if query.answer_type != "organization" or unit is None:
        return sel
    asked = squash(query.normalized)
    person = next((s for s in unit.spans if s.kind == "person" and len(squash(s.text)) >= 3
                   and squash(s.text) in asked), None)
    if person is None:
        return sel
    own = [s for s in unit.spans if s.kind == "org" and s.end <= person.start and not _in_note(unit.text, s)]
    if own:
        return replace(sel, direct=own[-1]) if sel.direct is not own[-1] else sel
    above = preceding(index, unit, 1)
    if not above or any(s.kind == "person" for s in above[0].spans):
        return sel  # the line above is another row, ended by its own name
    orgs = [s for s in above[0].spans if s.kind == "org" and not _in_note(above[0].text, s)]
    if not orgs:
        return sel
    return Selection([above[0], unit], orgs[-1], above[0], sel.score)


#: The span kinds that name a list's items of a kind (a venue's building is no place asked by どこで).
_ITEM_KINDS = {"person": frozenset({"person"}), "organization": frozenset({"org"}), "place": frozenset({"place"})}


def kind_listed(query: Query, cands: Sequence[Candidate], scores: np.ndarray, sel: Selection,
                policy: ReaderPolicy) -> Selection:
    """For a list of a kind (誰と誰, どこで…全部): ``sel`` when its lines name two or more values of
    that kind; else the best-scored line within ``typed_fallback_margin`` that names two or more
    (実施地：甲県乙市、丙県丁町), which answers: a block of other things (a budget's items) lists no
    value asked."""
    kinds = _ITEM_KINDS.get(query.item_type)
    if kinds is None:
        return sel

    def named(units: Sequence[Candidate]) -> int:
        return len({s.text for c in units for s in c.spans if s.kind in kinds})

    if named(sel.units) >= 2:
        return sel
    top = float(np.max(scores))
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < top - policy.typed_fallback_margin:
            break
        if named([cands[int(i)]]) >= 2:
            return Selection([cands[int(i)]], None, None, float(scores[i]))
    return sel


#: A question narrowing a set to some of its members (構成員のうち、…のは誰か, 企業の中で…はどこか):
#: the words after the cue say which members.
_SUBSET = lazy(r"(?:のうち|の中で|のなかで)、?(?P<f>[^。？?]+)")
#: A word of the narrowing clause: a run of kanji, katakana or Latin letters (名誉教授, ABC).
_FILTER_WORD = lazy(r"[\u3400-\u9fff々ァ-ヺーA-Za-z0-9]{2,}")
_NOTE = lazy(r"[(（][^()（）]*[)）]")
_LINE_EDGE = lazy(r"^\s+|\s+$")


def line_units(index: LoadedIndex, cand: Candidate) -> list[Candidate]:
    """``cand`` cut into its document lines, each a candidate quoting that line exactly (blank
    lines left out): a roster row is a line, while the sentence splitter may join several."""
    if cand.cell is not None:
        return [cand]
    source = cand.source
    if "\n" not in source.strip():
        return [cand]
    out: list[Candidate] = []
    offset = cand.start
    for raw in source.split("\n"):
        body = raw.strip()
        if body:
            start = offset + raw.index(body)
            text = normalize(body)
            spans = []
            for sp in cand.spans:
                at = text.find(sp.text)
                if at >= 0:
                    spans.append(replace(sp, start=at, end=at + len(sp.text)))
            out.append(replace(cand, start=start, end=start + len(body), text=text, spans=tuple(spans)))
        offset += len(raw) + 1
    return out


def _neighbourhood(index: LoadedIndex, cand: Candidate) -> list[Candidate]:
    """The lines of ``cand``'s passage and of the passages either side of it in its document."""
    sents = index.sentences
    out: list[Candidate] = []
    for row in (cand.row - 1, cand.row, cand.row + 1):
        if not 0 <= row < index.size or index.chunks[row].doc != cand.chunk.doc:
            continue
        chunk = index.chunks[row]
        for pos, si in enumerate(sents.of_row(row)):
            start, end = (int(x) for x in sents.spans[si])
            text = sents.texts[si]
            c = Candidate("sentence", cand.hit_rank, row, chunk, start, end, text, si, pos, 0.0, 0.0, 0.0, 0.0,
                          sents.tokens[si], tuple(index.annotations.spans(si, text)))
            out.extend(line_units(index, c))
    return out


def filtered_items(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
                   policy: ReaderPolicy) -> list[Candidate] | None:
    """The rows of a roster that the question's narrowing clause picks, when it picks two or more.

    A question asking for the members of a set that have some attribute (構成員のうち、名誉教授の肩書を
    持つのは誰か) is answered by every row holding a value of the asked kind (a person) and the
    clause's word: the clause's rarest word found in some row (名誉教授, not 肩書: a column's name).
    The rows are the lines of the best candidate's passage and its neighbours, each quoted alone.
    None when the word picks one row (a single answer: the value question's own selection stands),
    or every row (it names the whole set), or the question narrows nothing."""
    kind = query.item_type or (query.answer_type if query.answer_type in ITEM_TYPES else "")
    m = _SUBSET.search(query.normalized)
    if not kind or m is None or not len(cands):
        return None
    words = [w for w in dict.fromkeys(_FILTER_WORD.findall(_NOTE.sub("", m.group("f"))))]
    if not words:
        return None
    kinds = TYPE_KINDS[kind]
    best = cands[int(np.argmax(scores))]
    rows = [c for c in _neighbourhood(index, best) if any(s.kind in kinds for s in c.spans)]
    rows = list({c.key: c for c in rows}.values())
    counts = {w: sum(w in c.text for c in rows) for w in words}
    found = [w for w in words if counts[w] > 0]
    if not found:
        return None
    word = min(found, key=lambda w: (counts[w], -len(w)))
    if counts[word] < 2 or counts[word] >= len(rows) or counts[word] > policy.max_list_items:
        return None
    return [c for c in rows if word in c.text]


#: A line that stops inside an enumeration (甲株式会社、乙株式会社、): its items go on below.
_RUNS_ON = lazy(r"[、,，]\s*$")


def continued(index: LoadedIndex, units: list[Candidate], policy: ReaderPolicy) -> list[Candidate]:
    """``units`` with the lines an enumeration runs on to: while the last line ends on a comma (a
    list of names broken over lines, blank lines between them in the extracted text, or over a
    passage boundary), the next line joins, up to ``max_item_body`` lines. Each added line is quoted
    as it stands; the lines of one sentence the splitter ran over several lines join one by one, so
    the enumeration goes on to its last line, not to the next sentence. A ``label：value`` cell whose
    value so stops (理事：甲株式会社、乙株式会社、) goes on the same way below its value's line; a table
    cell does not (the line below is the next row)."""
    if not units or (units[-1].cell is not None and units[-1].cell.kind != "kv"):
        return units
    out = list(units)
    rest: list[Candidate] = []  # the other lines of a sentence the splitter ran over several lines
    for _ in range(policy.max_item_body):
        last = out[-1]
        if not _RUNS_ON.search(last.text):
            break
        if not rest:
            nxt = following(index, last, 1)
            if not nxt:
                break
            rest = line_units(index, nxt[0])
        out.append(rest.pop(0))
    return out


_KANJI_NUMBERS = "一二三四五六七八九"


def _enumerator_value(token: str) -> int:
    """The number of an enumerator written inside a sentence (``②`` → 2, ``(3)`` → 3, ``4)`` → 4)."""
    if "①" <= token <= "⑳":
        return ord(token) - ord("①") + 1
    digit = next(ch for ch in token if ch.isdigit() or ch in _KANJI_NUMBERS)
    return _KANJI_NUMBERS.index(digit) + 1 if digit in _KANJI_NUMBERS else int(digit)


def reached_back(index: LoadedIndex, units: list[Candidate]) -> list[Candidate]:
    """``units`` with the line an enumeration starts on, when the list opens on a later item of it:
    a line opening with item n > 1 (②乙、③丙) whose line above ends on a comma and holds item n − 1
    (・特長（①甲、) continues that line's sentence, so the list starts there (the mirror of
    ``continued``). The added line is quoted as it stands."""
    if not units or units[0].cell is not None:
        return units
    first = _INLINE_ENUMERATOR.match(units[0].text)
    if first is None or _enumerator_value(first.group(0)) < 2:
        return units
    above = preceding(index, units[0], 1)
    if not above or not _RUNS_ON.search(above[0].text):
        return units
    prev = line_units(index, above[0])[-1]
    numbers = {_enumerator_value(m.group(0)) for m in _INLINE_ENUMERATOR.finditer(prev.text)}
    if _enumerator_value(first.group(0)) - 1 not in numbers or not _RUNS_ON.search(prev.text):
        return units
    return [prev, *units]


def select(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
           policy: ReaderPolicy) -> Selection:
    """The answer's units for ``query`` given the candidates' probabilities."""
    if url_asked(query):
        # A web address asked for (どこで見られる, what web page): the best line, or a close one,
        # that prints one.
        top = int(np.argmax(scores))
        close = [top] + [int(i) for i in np.argsort(-scores, kind="stable")
                         if i != top and scores[i] >= scores[top] - policy.typed_fallback_margin]
        for i in close:
            url = url_span(cands[i])
            if url is not None:
                return Selection([cands[i]], url, cands[i], float(scores[i]))
        # A list of items often prints its address below them (・職員の公募 … / https://…/jobs.html).
        for nxt in following(index, cands[top], limit=policy.url_reach):
            url = url_span(nxt)
            if url is not None:
                return Selection([nxt], url, nxt, float(scores[top]))
    rows = filtered_items(query, index, cands, scores, policy)
    if rows is not None:
        return Selection(rows, None, None, float(np.max(scores)), listed=True)
    if query.answer_type in VALUE_TYPES:
        return row_affiliation(query, index, select_value(query, cands, scores, policy))
    numbered = numbered_item(query, cands, scores, policy) if query.answer_type in ("list", "other") else None
    if numbered is not None:
        return numbered
    if query.answer_type == "list":
        sel = select_list(query, index, cands, scores, policy)
        sel = kind_listed(query, cands, scores, sel, policy)
        return replace(sel, units=continued(index, reached_back(index, sel.units), policy))
    extreme = extreme_cell(query, cands, scores, policy) if query.answer_type == "other" else None
    if extreme is not None:
        return extreme  # which member pays the largest share: the table's column
    best = named_sibling(query, cands, named_row(query, cands, int(np.argmax(scores))))
    best = dated_sibling(query, cands, described_sibling(query, cands, scores, best, policy))
    best = named_label(query, cands, scores, best, policy)
    if query.answer_type == "other":
        if post_asked(query):
            post = post_phrase(query, cands[best])
            if post is not None:
                return Selection([cands[best]], post, cands[best], float(scores[best]))
        best = named_item(query, cands, scores, best, policy)
        best = item_under_heading(query, cands, scores, best, policy)
        if name_asked(query):
            # A name asked for and given in the line (a quoted title, an abbreviation): the line
            # answers, not the block or section it heads; else a close line that gives one, as a
            # value question's close line of the expected type.
            close = [best] + [int(i) for i in np.argsort(-scores, kind="stable")
                              if i != best and scores[i] >= scores[best] - policy.typed_fallback_margin]
            for i in close:
                phrase = named_phrase(query, cands[i], policy)
                if phrase is not None:
                    return Selection([cands[i]], phrase, cands[i], float(scores[i]))
        # A heading quoted (not only named: a what-question's words are often some diagram label's).
        named = named_heading(query, index, cands, scores, policy, unquoted=False)
        if named is not None:
            return Selection(named, None, None, float(scores[best]))
        block = headed_items(index, cands[best], policy)
        if block:
            item = labelled_item(query, block)
            if item is not None:
                return Selection([item], None, None, float(scores[best]))
            return Selection(named_section(query, block, policy) or block, None, None, float(scores[best]))
        section = item_section(query, index, cands[best], policy)
        if section:
            return Selection(section, None, None, float(scores[best]))
        phrase = named_phrase(query, cands[best], policy)
        if phrase is not None:
            return Selection([cands[best]], phrase, cands[best], float(scores[best]))
    if query.answer_type == "reason":
        best = _past_headings(cands, scores, best)
        reason = reason_before(index, cands[best])
        if reason is None:  # a line with its reason above it stands
            best = stated_reason(cands, scores, best, policy)
            reason = reason_before(index, cands[best])
        if reason is not None:
            return Selection([reason, cands[best]], None, None, float(scores[best]))
    return Selection([run_on(index, cands[best])], None, None, float(scores[best]))


def run_on(index: LoadedIndex, cand: Candidate) -> Candidate:
    """``cand`` with the rest of its sentence when it stops on a comma and the sentence after it in its
    passage opens no item (…甲協議会を設置し、 / blank line / 乙の手引を配るとともに、…を進める。): the
    splitter cut it at a blank line, and the part it left out often holds what the question asks."""
    if cand.cell is not None or not _RUNS_ON.search(cand.text):
        return cand
    nxt = following(index, cand, 1)
    if not nxt or nxt[0].chunk.id != cand.chunk.id or item_marker(nxt[0].text) is not None:
        return cand
    return replace(cand, end=nxt[0].end, text=cand.text + nxt[0].text)


#: Words that end a clause stating a reason or a purpose (…を推進するため、, …の目的で, …により, …ことで).
REASON_END = lazy(r"ため|目的|ので|により|によって|ことで|ことから")


def stated_reason(cands: Sequence[Candidate], scores: np.ndarray, best: int, policy: ReaderPolicy) -> int:
    """For a why-question whose best line is a note or a title (no sentence end) that states no reason
    or purpose (``REASON_END``), the best line within ``typed_fallback_margin`` that states one: a note
    restating the question (検討課題（甲を行うこと）) names the matter, not why (the typed fallback of value
    questions, for reasons). A sentence stands: it may give its reason in words the cues miss."""
    top = cands[best]
    if top.cell is not None or "。" in top.text or _CONSEQUENCE.match(top.text) or REASON_END.search(top.text):
        return best  # a sentence may give its reason in other words (…と考えており、…): it stands
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < scores[best] - policy.typed_fallback_margin:
            break
        c = cands[int(i)]
        if c.cell is None and not _markdown_heading(c.text) and not _CONSEQUENCE.match(c.text) \
                and REASON_END.search(c.text):
            return int(i)
    return best


def _markdown_heading(text: str) -> bool:
    """Whether a (normalised) line is a Markdown heading (``# 計画の見直しの概要``, ``##2.背景``)."""
    return text.startswith("#")


def _past_headings(cands: Sequence[Candidate], scores: np.ndarray, best: int) -> int:
    """The best candidate that is not a Markdown heading: a title restates the question's words
    and states no reason; ``best`` when all are headings."""
    def heading(i: int) -> bool:
        return cands[i].kind != "cell" and _markdown_heading(cands[i].text)

    if not heading(best):
        return best
    return next((int(i) for i in np.argsort(-scores, kind="stable") if not heading(int(i))), best)


#: A cell value that is one figure (``1,500百万円``, ``12万kW``, ``+40億円``), not a description.
_FIGURE = lazy(r"[約計]?[+\-−△▲]?\d[\d,.]*\S{0,4}")


def described_sibling(query: Query, cands: Sequence[Candidate], scores: np.ndarray, best: int,
                      policy: ReaderPolicy) -> int:
    """For a question that asks what or how (not a value), a row's text cell rather than its figure.

    The cells of one table row share their quote and their row's words, so the ranker barely
    tells them apart; a question that asks for no value is answered by the row's description
    (its 概要 column), not by its amount. A close sibling that is text wins over a figure.
    """
    cell = cands[best].cell
    if cell is None or cell.kind != "row" or not _FIGURE.fullmatch(cell.value) or "amount" in query.asks:
        return best
    for i in np.argsort(-scores, kind="stable"):
        other = cands[int(i)].cell
        if scores[i] < scores[best] - policy.typed_fallback_margin:
            break
        # Not over a figure whose column the question names more (the target: 目標値, not 担当課).
        if other is not None and _same_row(other, cell) and not _FIGURE.fullmatch(other.value) \
                and column_share(query, other) >= column_share(query, cell):
            return int(i)
    return best


#: A sentence opening with a consequence connective states a result whose reason is the
#: sentence before it (このため、…を加速する); a line opening with ため、 is the wrapped tail of
#: a sentence whose reason is on the line above.
_CONSEQUENCE = lazy(r"^(?:[・\-\s]*)(?:このため|そのため|そこで|このことから|そのことから|これを受けて|これを踏まえ|"
                          r"こうした(?:状況|中|ことから|背景)|その結果|したがって|従って|よって|これによ(?:り|って)|ため[、,])")


#: A line that stops inside a sentence: no sentence end, a clause begun (…ことがないよう、観光).
_OPEN_CLAUSE = lazy(r"、[^。！？!?]*[\u3040-\u30ff\u3400-\u9fff、]$")


def reason_before(index: LoadedIndex, cand: Candidate) -> Candidate | None:
    """The sentence right before ``cand`` when ``cand`` opens with a consequence connective, or when
    it is the rest of that sentence (the splitter cut it at a blank line: the line above has no
    sentence end after its last comma, and ``cand`` opens no item), else None."""
    if cand.cell is not None:
        return None
    before = preceding(index, cand, limit=1)
    if not before:
        return None
    if _CONSEQUENCE.match(cand.text):
        return before[0]
    prev = before[0]
    if item_marker(cand.text) is None and prev.cell is None and _OPEN_CLAUSE.search(prev.text) \
            and not _markdown_heading(prev.text):
        return prev
    return None
