"""Answer shape: the text users read, its numbered markers and the citations behind them.

- Value questions: ``{direct}（{context}）【1】`` — the value first (≤ 80 characters),
  then the stretch of the cited sentence around it, or a cell's label.
- Lists: one item a line, each with its marker.
- Reasons and other questions: the cited sentence.
- Two-part questions: each part answered with its own citation; two values of
  one kind are compared.
- English questions: an English lead that carries the value (or the Latin names
  of the quote), then the Japanese quote.
Runners-up never go into the answer: they are listed under ``related``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import Answer, Citation, make_citation
from assistant.lazyre import lazy
from assistant.messages import (
    ABSTAIN_MESSAGE,
    ABSTAIN_MESSAGE_EN,
    CITE_MARK,
    COMPARE_EQUAL,
    COMPARE_MORE,
    EN_DIRECT_LEAD,
    EN_LEAD,
    MISSING_LITERALS_NOTICE,
    MISSING_UNIT_NOTICE,
    UNIT_NAMES,
)
from assistant.normalize import normalize_with_map, written_with_map
from assistant.reader.abstain import A
from assistant.reader.candidates import Candidate
from assistant.reader.features import bracketed_comparison, featurize
from assistant.reader.policy import ReaderPolicy
from assistant.reader.query import Query, duration_asked
from assistant.reader.select import (
    DETAIL_MARKERS,
    REASON_END,
    Selection,
    announces_count,
    item_marker,
    select,
)
from assistant.spans import TypedSpan

if TYPE_CHECKING:
    from assistant.bm25 import Tokenize
    from assistant.pipeline import SearchResult
    from assistant.reader import Evidence
    from assistant.reader.scorer import ReaderModel
    from assistant.store import LoadedIndex

_BULLET = lazy(r"^[・●○〇◆◇■□▪•◎◯★☆➢➤►▶→⇒\-–—*+\s]+")
_LATIN_NAME = lazy(r"[A-Za-z][A-Za-z0-9\-&]*(?:\s[A-Z][A-Za-z0-9\-&]*)*")


def snippet(text: str, around: tuple[int, int] | None, width: int) -> str:
    """``text`` cut to about ``width`` characters around ``around`` (a span), with ellipses."""
    text = text.strip()
    if len(text) <= width:
        return text
    if around is None:
        return text[: width - 1] + "…"
    a, b = around
    pad = max(0, (width - (b - a)) // 2)
    lo = max(0, a - pad)
    hi = min(len(text), lo + width)
    lo = max(0, hi - width)
    return ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def _cite_units(units: Sequence[Candidate], index: LoadedIndex, start_n: int = 1) -> list[Citation]:
    return [make_citation(start_n + i, c.chunk, c.start, c.end, c.dense, index.page_of) for i, c in enumerate(units)]


def _related(ev: Evidence, index: LoadedIndex, policy: ReaderPolicy) -> list[Citation]:
    """The nearest passages, each cited by its best candidate."""
    out: list[Citation] = []
    seen: set[str] = set()
    for i in np.argsort(-ev.logits, kind="stable") if len(ev.cands) else []:
        c = ev.cands[int(i)]
        if c.chunk.id in seen:
            continue
        seen.add(c.chunk.id)
        out.append(make_citation(len(out) + 1, c.chunk, c.start, c.end, float(ev.logits[int(i)]), index.page_of))
        if len(out) >= policy.related:
            break
    return out


def written(unit: Candidate) -> tuple[str, list[int]] | None:
    """``unit``'s text as the document writes it (``normalize.written_with_map``: its spaces inside a
    line, its ``⻑``) with the map from normalised offsets; None for a cell (its ``label：value`` is
    not one stretch of the document) or when the map back to the document does not hold."""
    if unit.cell is not None:
        return None
    mapped = normalize_with_map(unit.source)
    return written_with_map(unit.source, mapped) if mapped[0] == unit.text else None


def document_chars(unit: Candidate) -> str:
    """``unit``'s text as the document writes it, so that an answer quotes what a reader copying
    from the NFKC document finds there: the spaces inside a line (``1,234 百万円``) and the characters
    of the CJK Radicals Supplement (``⻑`` for 長: NFKC keeps them, the normaliser folds them). The
    normalised text for a cell, or when the map back to the document does not hold."""
    w = written(unit)
    return w[0] if w else unit.text


def find_written(text: str, compact: str) -> str | None:
    """The stretch of ``text`` that reads ``compact`` once the spaces the normaliser dropped are
    back (``1,234百万円`` in ``予算：1,234 百万円`` is ``1,234 百万円``); None when it is not there."""
    chars = [re.escape(c) for c in compact if not c.isspace()]
    if not chars:
        return None
    m = re.search(r"[ \t]*".join(chars), text)
    return m.group() if m else None


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def shown_direct(sel: Selection) -> str | None:
    """The direct value as the document writes it (with its spaces: staff copy it from there)."""
    d = sel.direct
    if d is None:
        return None
    unit = sel.direct_unit or sel.units[0]
    w = written(unit)
    if w is not None and d.end <= len(unit.text):
        text, pos = w
        shown = text[pos[d.start] : pos[d.end]].strip()
        if _compact(shown) == _compact(d.text):
            return shown
    if unit.cell is not None:
        return find_written(written_with_map(unit.source)[0], d.text) or d.text
    return d.text


def _value_text(sel: Selection, shown: str, policy: ReaderPolicy) -> str:
    unit = sel.units[0]
    d = sel.direct
    assert d is not None
    if unit.cell is not None:
        # The label, and the value as written when it says more than the direct one (東西、各5名 for
        # 5名): the quote shows both halves of the cell.
        value = find_written(written_with_map(unit.source)[0], unit.cell.value) or unit.cell.value
        if _compact(value) != _compact(shown):
            at = value.find(shown)
            value = snippet(value, (at, at + len(shown)) if at >= 0 else None, policy.snippet_chars)
            ctx = f"{unit.cell.label}：{value}" if unit.cell.label else value
        else:
            ctx = unit.cell.label
        return f"{shown}（{ctx}）" if ctx else shown
    w = written(unit)
    if w is None or d.end > len(unit.text):
        text, around = unit.text, (d.start, d.end)
    else:
        text, pos = w
        around = (pos[d.start], pos[d.end])
    ctx = snippet(text, around, policy.snippet_chars)
    return shown if ctx == shown else f"{shown}（{ctx}）"


def _item_text(c: Candidate) -> str:
    text = document_chars(c)
    return _BULLET.sub("", text).strip() or text.strip()


_NUMBERED = lazy(r"^(?:[①-⑳]|[(（]\d{1,2}[)）]|\d{1,2}[.．)）])")


def _item_line(c: Candidate, max_chars: int | None = None) -> str:
    """An item of a list answer: its own numbering (①, (1), 1.) or a bullet, cut to ``max_chars``."""
    text = _item_text(c)
    if max_chars is not None:
        text = snippet(text, None, max_chars)
    return text if _NUMBERED.match(text) else f"・{text}"


_CANONICAL_DATE = lazy(r"^(?P<fy>FY)?(?P<y>\d{4})(?:-(?P<m>\d{2}))?(?:-(?P<d>\d{2}))?$")


def western_date(span: TypedSpan) -> str | None:
    """An era date in Western years (`令和8年4月` → `2026年4月`, `R9年度` → `2027年度`); None when
    ``span`` is not a date or is written in Western years already."""
    if span.kind != "date" or span.text[:1].isdigit():
        return None
    m = _CANONICAL_DATE.match(span.value)
    if not m:
        return None
    out = f"{m['y']}年度" if m["fy"] else f"{m['y']}年"
    if m["m"]:
        out += f"{int(m['m'])}月"
    if m["d"]:
        out += f"{int(m['d'])}日"
    return out


def _english_lead(sel: Selection, question: str) -> str:
    """The value (an era date in Western years too: a post asked for is one, ``select.post_phrase``),
    else the Latin names of the quote the question does not already name."""
    if sel.direct is not None:
        western = western_date(sel.direct)
        shown = shown_direct(sel)
        value = f"{western} ({shown})" if western else shown
        return EN_DIRECT_LEAD.format(value=value)
    names = latin_names(sel, question)
    return EN_DIRECT_LEAD.format(value=", ".join(names)) if names else EN_LEAD


def reason_cue(text: str) -> tuple[int, int] | None:
    """The last reason or purpose cue of a sentence, which a why-question's quote is cut around when
    the sentence is longer than it: the reason is the clause before the cue, and in a long sentence
    (背景。このため、「…」に基づき、…を立案し、迅速に実施するため、甲を開催する) it stands near the end, where a
    quote cut from the start stops short of it."""
    found = list(REASON_END.finditer(text))
    return (found[-1].start(), found[-1].end()) if found else None


#: A Roman numeral that numbers a list item (ii, IV, XII).
_ROMAN_NUMERAL = lazy(r"(?=[ivx]+$)x{0,3}(?:ix|iv|v?i{0,3})", re.I)


def latin_names(sel: Selection, question: str) -> list[str]:
    """The Latin names (up to three) of the first quoted line that the question does not already say:
    words with a capital or a digit (XR-7, NPO), not lower-case English words of the line."""
    asked = question.casefold()
    # The abbreviation of a name the question spells out names nothing new. (An English question's
    # search imported the module already.)
    from assistant.crosslingual import initialisms

    initials = set(initialisms(question))
    text = sel.units[0].text
    # Letters right after a digit or a numeral's multiplier are a unit (10GW, 12万kW), not a name.
    names = [m.group() for m in _LATIN_NAME.finditer(text)
             if len(m.group()) >= 2 and m.group().casefold() not in asked
             and m.group() not in initials
             and not _ROMAN_NUMERAL.fullmatch(m.group())  # an item's number (II, iv), not a name
             and any(c.isupper() or c.isdigit() for c in m.group())  # a name, not a word (industry)
             and not (m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] in "万億千"))]
    return list(dict.fromkeys(names))[:3]


def _compare(a: TypedSpan, b: TypedSpan, labels: tuple[str, str]) -> str:
    """A sentence comparing two values of the same kind (money, percent, count, number)."""
    import re as _re

    def num(s: TypedSpan) -> float | None:
        m = _re.match(r"[\d.]+", s.value)
        return float(m.group()) if m else None

    if a.kind != b.kind or a.kind not in ("money", "percent", "count", "number"):
        return ""
    x, y = num(a), num(b)
    if x is None or y is None:
        return ""
    if abs(x - y) < 1e-9:
        return COMPARE_EQUAL
    more = labels[0] if x > y else labels[1]
    return COMPARE_MORE.format(more=more)


#: Characters that end a word in a part-question (particles, brackets, punctuation).
_WORD_EDGE = frozenset("のはがをでにとかへも、。,.「」『』()（）?？ ")


def part_labels(a: str, b: str) -> tuple[str, str]:
    """What tells two part-questions apart: where they differ, widened to whole words
    (`…甲事業はいくらか` / `…乙事業はいくらか` → `甲事業`, `乙事業`)."""
    pre = 0
    while pre < min(len(a), len(b)) and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < min(len(a), len(b)) - pre and a[-1 - suf] == b[-1 - suf]:
        suf += 1
    while pre > 0 and a[pre - 1] not in _WORD_EDGE:
        pre -= 1
    while suf > 0 and a[len(a) - suf] not in _WORD_EDGE:
        suf -= 1

    def core(text: str) -> str:
        label = text[pre: len(text) - suf].strip("".join(_WORD_EDGE)) or text[:12]
        for open_, close in ("()", "（）", "「」"):
            if label.count(open_) > label.count(close):
                label += close  # 予算額(案) keeps the bracket it opens
        return label

    return core(a), core(b)


def off_topic(ev: Evidence, policy: ReaderPolicy) -> bool:
    """Nothing in the documents is even close to the question (the guard beside the learned model):
    no passage is similar and the question's words are mostly unknown to the corpus."""
    dense = float(ev.abstain_x[A["max_passage_dense"]])
    if dense <= 0:  # bm25-only mode: no similarity to judge by
        return False
    if ev.query.english:
        return dense < policy.off_topic_dense_en or float(ev.abstain_x[A["translated"]]) <= policy.off_topic_translated
    return dense < policy.off_topic_dense and float(ev.abstain_x[A["unknown"]]) >= policy.off_topic_unknown


def shape(ev: Evidence, result: SearchResult, index: LoadedIndex, tokenize: Tokenize, names: bool,
          policy: ReaderPolicy, model: ReaderModel) -> Answer:
    """The ``Answer`` for the reader's evidence."""
    q = ev.query
    abstain_msg = ABSTAIN_MESSAGE_EN if q.english else ABSTAIN_MESSAGE
    base = Answer(question=q.text, answer=abstain_msg, abstained=True, citations=[], related=[],
                  retrieved=list(result.hits), timings_ms={}, answer_type=q.answer_type,
                  confidence=ev.abstain_score,
                  evidence={"abstain_score": round(ev.abstain_score, 4), "missing": list(ev.missing),
                            "focus": list(q.focus), "synonyms": {t: list(s) for t, s in q.synonyms.items()},
                            "translated": round(float(ev.abstain_x[A["translated"]]), 4),
                            "max_passage_dense": round(float(ev.abstain_x[A["max_passage_dense"]]), 4)})
    if not ev.cands:
        return base
    if ev.missing and policy.abstain_on_missing_literals:
        return replace(base, related=_related(ev, index, policy),
                       notice=MISSING_LITERALS_NOTICE.format(items="".join(f"「{x}」" for x in ev.missing)))
    # Only a counter: a length of time may be stated as the dates it runs between (2025年~2027年),
    # so a duration asked and not found is left to the abstention model.
    if q.units and policy.abstain_on_missing_unit and float(ev.abstain_x[A["unit_found"]]) == 0.0 \
            and not duration_asked(q.normalized):
        unit = "・".join(UNIT_NAMES.get(u, f"「{u}」の数") for u in q.units)
        return replace(base, related=_related(ev, index, policy), notice=MISSING_UNIT_NOTICE.format(unit=unit))
    if ev.abstain_score < model.abstain_threshold or off_topic(ev, policy):
        return replace(base, related=_related(ev, index, policy))
    if q.parts:
        return _two_part(ev, base, index, policy, model)
    sel = select(q, index, ev.cands, ev.logits, policy)
    listed = (q.answer_type in ("list", "other") or sel.listed) and len(sel.units) > 1  # "other": the items under a heading
    citations = _cite_units(sel.units, index)[: None if listed else policy.max_citations]
    direct = shown_direct(sel)
    if listed:
        text, citations = _list_answer(sel.units, index, policy.max_item_chars)
    elif sel.direct is not None:
        shown = direct or sel.direct.text
        text = _value_text(sel, shown, policy) + CITE_MARK.format(n=1)
        western = None if q.english else western_date(sel.direct)
        if western and text.startswith(shown) and western not in shown:
            # An era date read in Western years beside it (平成20年3月 = 2008年3月): staff compare dates
            # across documents written either way. (An English answer's lead gives it already.)
            text = f"{shown}＝{western}{text[len(shown):]}"
    elif q.answer_type == "reason" and len(sel.units) == 2:
        # The reason and the result it leads to, quoted together as one passage of text.
        reason, result = sel.units
        citations = [make_citation(1, reason.chunk, reason.start, result.end, result.dense, index.page_of)]
        text = snippet(document_chars(reason) + document_chars(result), None, 2 * policy.snippet_chars) \
            + CITE_MARK.format(n=1)
    else:
        unit = sel.units[0]
        body = document_chars(unit) if unit.cell is None else f"{unit.cell.label}：{unit.cell.value}"
        around = reason_cue(body) if q.answer_type == "reason" else None
        text = snippet(body, around, 2 * policy.snippet_chars) + CITE_MARK.format(n=1)
    if q.english:
        text = f"{_english_lead(sel, q.normalized)} {text}"
        if direct is None and q.answer_type not in ("list", "reason") and not listed:
            # The one Latin name the lead gives (XR-7, Harbour Light Plan) is the short answer
            # it shows: the direct value too. Not several names, nor a list's.
            names = latin_names(sel, q.normalized)
            direct = names[0] if len(names) == 1 else None
    return replace(base, answer=text, abstained=False, citations=citations, direct=direct, related=[])


def _list_answer(units: Sequence[Candidate], index: LoadedIndex,
                 item_chars: int | None = None) -> tuple[str, list[Citation]]:
    """One item a line. The lines before the first item (the list's heading or lead-in) open the
    answer without a bullet and share the first item's citation when they sit right above it."""
    markers = [item_marker(c.text) for c in units]
    counts = {m: markers.count(m) for m in markers if m}
    main = max(counts, key=counts.get) if counts else None  # type: ignore[arg-type]
    k = next((i for i, m in enumerate(markers) if m == main), 0)
    if main is None and len(units) > 2 and announces_count(units[0].text):
        k = 1  # a heading that counts the unmarked lines under it (…の3段階) leads them
    lead, items = list(units[:k]), list(units[k:])
    citations: list[Citation] = []
    lines: list[str] = []
    for i, c in enumerate(items):
        n = i + 1
        if i == 0 and lead and all(x.chunk.id == c.chunk.id for x in lead):
            citations.append(make_citation(n, c.chunk, lead[0].start, c.end, c.dense, index.page_of))
            lines.append("".join(_item_text(x) for x in lead) + CITE_MARK.format(n=n))
            lines.append(_item_line(c, item_chars))
            lead = []
            continue
        citations.append(make_citation(n, c.chunk, c.start, c.end, c.dense, index.page_of))
        if i > 0 and main is not None and markers[k + i] in DETAIL_MARKERS and markers[k + i] != main:
            # A line between two items (＜…の例＞, 対象：…) is the item's detail: indented, not an item
            # (a list of titles or labels is items of that kind, each a line of its own).
            lines.append(f"\u3000{_item_text(c) if item_chars is None else snippet(_item_text(c), None, item_chars)}"
                         f"{CITE_MARK.format(n=n)}")
            continue
        lines.append(f"{_item_line(c, item_chars)}{CITE_MARK.format(n=n)}")
    if lead:  # a lead-in in another passage than the first item: cited on its own, first
        head = _cite_units(lead, index)
        citations = head + [replace(c, n=c.n + len(head)) for c in citations]
        lines = [f"{_item_text(x)}{CITE_MARK.format(n=i + 1)}" for i, x in enumerate(lead)] + [
            re.sub(r"【(\d+)】", lambda m: CITE_MARK.format(n=int(m.group(1)) + len(head)), line) for line in lines]
    return "\n".join(lines), citations


def _same_value(a: Selection, b: Selection) -> bool:
    """Whether two selections answer with the same value from the same lines."""
    ua, ub = a.direct_unit or a.units[0], b.direct_unit or b.units[0]
    if not ua.overlaps(ub):
        return False
    if a.direct is None or b.direct is None:
        return a.direct is None and b.direct is None
    return a.direct.value == b.direct.value


#: A value stated for each of several things at once (東西、各6名; 5名ずつ; それぞれ3件).
_EACH_BEFORE = lazy(r"(?:各|それぞれ)\s*$")


def states_each(sel: Selection) -> bool:
    """Whether a selection's value is stated for each of several things (各6名, 5名ずつ)."""
    unit, d = sel.direct_unit, sel.direct
    if unit is None or d is None:
        return False
    return bool(_EACH_BEFORE.search(unit.text, 0, d.start)) or unit.text.startswith("ずつ", d.end)


def _bracket_partner(parts: Sequence[Query], chosen: Sequence[Selection]) -> Selection:
    """The first part's selection, or, when the second asks for the previous period's figure of
    the same item (甲の今年度予算額と、その前年度の額) and found it in brackets after this period's
    (800百万円（650百万円)), the figure before the bracket: the line that states both is about the
    item the two parts share, while the first part alone may take another item's line."""
    first, second = chosen
    d = second.direct
    unit = second.direct_unit or second.units[0]
    if d is None or "previous" not in parts[1].asks or "previous" in parts[0].asks \
            or not bracketed_comparison(unit, d):
        return first
    before = [sp for sp in unit.spans if sp.kind == d.kind and sp.end <= d.start]
    if not before:
        return first
    return Selection([unit], before[-1], unit, second.score)


def _two_part(ev: Evidence, base: Answer, index: LoadedIndex, policy: ReaderPolicy, model: ReaderModel) -> Answer:
    """Answer each part of a two-part question from the same candidates, each with its own citation."""
    q = ev.query
    pieces: list[str] = []
    units: list[Candidate] = []
    directs: list[TypedSpan | None] = []
    shown: list[str | None] = []
    labels: list[str] = []
    names = part_labels(*(p.normalized for p in q.parts[:2])) if len(q.parts) >= 2 else ()
    logits = [model.candidate.logits(featurize(part, ev.cands, ev.adapted)) for part in q.parts]
    chosen = [select(part, index, ev.cands, lg, policy) for part, lg in zip(q.parts, logits, strict=True)]
    if len(chosen) == 2 and _same_value(*chosen) and not states_each(chosen[0]):
        # Two parts about different things do not share one line's one value: the part that
        # scores that line lower takes its best candidate elsewhere; unless the line states the
        # value for each of them (東西、各6名).
        unit = chosen[0].direct_unit or chosen[0].units[0]
        shared = [i for i, c in enumerate(ev.cands) if c.overlaps(unit)]
        if shared and len(shared) < len(ev.cands):
            loser = 0 if logits[0][shared].max() < logits[1][shared].max() else 1
            masked = logits[loser].copy()
            masked[shared] = -np.inf
            chosen[loser] = select(q.parts[loser], index, ev.cands, masked, policy)
    if len(chosen) == 2:
        chosen[0] = _bracket_partner(q.parts, chosen)
    for k, (part, sel) in enumerate(zip(q.parts, chosen, strict=True)):
        label = names[k] if k < len(names) else part.normalized[:12]
        unit = sel.units[0]
        n = next((i + 1 for i, u in enumerate(units) if u.key == unit.key), len(units) + 1)
        if n == len(units) + 1:
            units.append(unit)
        value = shown_direct(sel) or snippet(document_chars(unit), None, policy.snippet_chars)
        pieces.append(f"{label}：{value}{CITE_MARK.format(n=n)}")
        directs.append(sel.direct)
        shown.append(shown_direct(sel))
        labels.append(label)
    text = "／".join(pieces)
    a, b = directs[0], directs[1] if len(directs) > 1 else None
    if q.comparison and a is not None and b is not None:
        text += _compare(a, b, (labels[0], labels[1]))
    direct = "／".join(x for x in shown if x is not None) or None
    if q.english:
        text = f"{EN_LEAD} {text}"
    return replace(base, answer=text, abstained=False, citations=_cite_units(units, index), direct=direct,
                   related=[])
