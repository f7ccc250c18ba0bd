"""Claim analysis for the drafting check: what a draft sentence asserts, and how it compares.

A claim is a draft sentence split into its topic terms (content words with their
IDF, the reader's ``Query`` analysis), its typed values (the reader's span rules:
amounts, percentages, dates with era ↔ Western conversion, counts, names; and roles, 副知事
not being the 知事) and its polarity (negation, and antonym pairs such as 増加 / 減少, 決定 / 見送り).
``compare`` lines a claim up against one evidence unit (a sentence or a recovered
cell) and reports which values agree, which differ and which the unit does not
state. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.glossary import COUNTRIES, COUNTRY_ABBREVIATIONS
from assistant.lazyre import lazy
from assistant.reader.query import Query
from assistant.spans import TypedSpan, decade, ends_inside_word, is_latin_word, range_end_spans, range_joined

#: Word pairs of opposite meaning; a claim with one side and a source with the other conflict.
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("増加", "減少"), ("増え", "減"), ("拡大", "縮小"), ("上回", "下回"), ("上昇", "低下"), ("向上", "低下"),
    ("決定", "見送"), ("開始", "中止"), ("開始", "終了"), ("実施", "中止"), ("設立", "解散"), ("設置", "廃止"),
    ("強化", "縮小"), ("推進", "中止"), ("参加", "離脱"), ("成功", "失敗"), ("承認", "否決"), ("締結", "破棄"),
    ("発効", "失効"), ("完成", "未完成"), ("達成", "未達"), ("可能", "不可能"), ("有効", "無効"),
    ("十分", "不足"), ("同じ", "異なる"), ("同一", "異なる"), ("多い", "少ない"), ("容易", "困難"), ("受付中", "締め切"),
    ("継続", "終了"), ("前倒し", "延期"), ("賛成", "反対"), ("義務", "任意"),
    ("明確", "不明確"), ("十分", "不十分"), ("十分", "不足"), ("足り", "不足"), ("適切", "不適切"),
    ("容易", "難し"), ("有償", "無償"), ("有料", "無料"),
    # The whole of an amount and a part of it (経費の全額を負担 / その一部を負担).
    ("全額", "一部"), ("全部", "一部"),
    # Every year and once in several years (毎年1回 / 数年おきに1回).
    ("毎年", "数年に"), ("毎年", "隔年"),
    # A session's opening and its close; a growth in size and a reduction.
    ("開会", "閉会"), ("開幕", "閉幕"), ("大型化", "小型化"),
    # A call or meeting held on a schedule, and one held when needed (定期的に開催 / 不定期に開催).
    ("定期", "不定期"),
    # 目標を上回る / 目標の8割にとどまる: a figure that stops short of a mark has not exceeded it.
    ("上回", "にとどま"),
    # Sent while keeping one's post, and sent having left it (職を維持して出向 / 職を離れて出向).
    ("維持", "離れ"), ("保っ", "離れ"),
    # Places, order and bounds (general Japanese): at home and abroad (国内外 is both: it is read as one word and
    # opposes only 国内のみ); the first and the last; before and after the fact; the upper and the lower bound.
    ("国内", "海外"), ("国内", "国外"), ("国内外", "国内のみ"), ("最初", "最後"), ("事前", "事後"),
    ("上限", "下限"), ("最大", "最小"), ("前半", "後半"), ("入会", "退会"), ("公開", "非公開"), ("常勤", "非常勤"),
)
#: Negation of the main predicate: only the end of a sentence says whether it is denied
#: (選ばれなかった項目も…続ける is an affirmation about a negated group).
_NEGATION = lazy(
    r"(?:ない|なかった|ません|ませんでした|せず|ず|未定|未決定|未了|未実施|見送った|見送られた|見送る|困難)"
    r"(?:とされている|とされた|とされる|とする|としている|ものとする|見込み|予定|方針|状況)?(?:である|だ|です)?[。.!！]?$"
)

#: Span kinds compared as values (names are compared as values too).
VALUE_KINDS = ("money", "percent", "count", "number", "date", "person", "org", "place", "facility")
#: The mismatch kind reported for each span kind.
MISMATCH_KIND = {"money": "number", "percent": "number", "count": "number", "number": "number", "date": "date",
                 "person": "name", "org": "name", "place": "place", "facility": "place", "trend": "polarity",
                 "role": "name", "relative": "date", "listno": "number", "vague": "number"}

#: Words saying a figure went up, down or stayed (``増えている``, ``減額された``, ``同額``): a claim with one
#: is checked against a figure stated with its previous value (``120百万円(95百万円)``).
TREND_WORDS: dict[str, tuple[str, ...]] = {
    "up": ("増加", "増え", "増額", "拡充", "拡大", "上回", "伸び", "多くな"),
    "down": ("減少", "減っ", "減額", "減り", "縮小", "下回", "少なくな", "削減"),
    "same": ("同額", "横ばい", "据え置", "変わらな", "同水準"),
}
#: How a trend is named to the user.
TREND_NAMES = {"up": "増加", "down": "減少", "same": "同額"}
#: Between a figure and its previous value: an opening bracket, possibly 前年度(予算額).
_PREVIOUS = lazy(r"[(（]\s*(?:前年度?(?:予算額?|実績)?\s*[:：]?\s*)?")


@dataclass(frozen=True, slots=True)
class Claim:
    """A draft sentence analysed for checking."""

    query: Query
    values: tuple[TypedSpan, ...]
    #: Content terms (IDF-weighted) that are not part of a value: what the claim is about.
    topic: dict[str, float] = field(default_factory=dict)
    negated: bool = False
    #: The antonym-pair words the claim uses.
    polar: tuple[str, ...] = ()
    #: For each value, the topic terms of its label: the words just before it in its clause
    #: (``試験装置の維持・管理には`` of ``312百万円``), what the figure is a figure of.
    labels: tuple[tuple[str, ...], ...] = ()
    #: Of a negated claim, the topic term of the predicate it denies (許す of 許されない): a source
    #: affirming the item says so in its own verb (できるようにする), so the word is the slot stated otherwise.
    predicate: tuple[str, ...] = ()
    #: ``topic`` with its verbs weighing no more than ``VERB_WEIGHT``: what tells which item a unit is
    #: about (the drafter's verb is the draft's wording), while ``topic`` tells how much of the claim it states.
    nouns: dict[str, float] = field(default_factory=dict)
    #: Of an affirmative claim, the noun of its main predicate (実現 of …を十分に実現できている): a source may
    #: deny it inside a clause (…を実現することが困難であり、…), not only at its end.
    affirmed: tuple[str, ...] = ()
    #: ``nouns`` without the words of a clause giving the claim's reason or circumstance (…の遅延を考慮しつつ、
    #: …を踏まえ、): what the main clause states (empty when the claim has no such clause). A slide states the
    #: reason in a note of its own, so the line stating the item covers the main clause only.
    main: dict[str, float] = field(default_factory=dict)
    #: ``nouns`` split at the claim's topic marker (甲機構は…): the terms of what it speaks of (``subject``) and
    #: the terms of what it asserts of it (``assertion``, without the subject's words). Both empty when the
    #: claim has no topic marker.
    subject: dict[str, float] = field(default_factory=dict)
    assertion: dict[str, float] = field(default_factory=dict)
    #: The topic terms no passage of the documents uses (a drafter's own word: 式場 where slides write 開催地):
    #: no unit can state them, so they do not tell whether a unit speaks of the claim's item (see
    #: ``cite._Unit.own_k``). Set by the drafting check from the index (empty otherwise).
    unused: frozenset[str] = frozenset()

    @property
    def trend(self) -> TypedSpan | None:
        """The claim's trend value (``増加``: up), if it says a figure went up, down or stayed."""
        return next((v for v in self.values if v.kind == "trend"), None)


_SENTENCE_BREAK = lazy(r"(?<=[。！？!?])")
_OPEN, _CLOSE = "「『（(【", "」』）)】"


def split_draft(text: str) -> list[str]:
    """A pasted paragraph (or several) as its sentences, in order: lines, then 。！？ outside brackets."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        depth, cur = 0, []
        for ch in line:
            cur.append(ch)
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth = max(0, depth - 1)
            elif ch in "。！？!?" and depth == 0:
                out.append("".join(cur))
                cur = []
        out.append("".join(cur))
    return [x.strip() for x in out if x.strip()]


_ORDER = {w: i for i, w in enumerate(w for pair in ANTONYMS for w in pair)}
_LONGEST_FIRST = sorted(_ORDER, key=len, reverse=True)


def polarity_words(text: str) -> tuple[str, ...]:
    """The words of ``ANTONYMS`` that occur in ``text``, a word inside a longer one not counted
    (明確 in 不明確, 可能 in 不可能)."""
    found = []
    for w in _LONGEST_FIRST:
        if w in text:
            found.append(w)
            text = text.replace(w, "　" * len(w))
    return tuple(sorted(found, key=_ORDER.__getitem__))


def opposed_words(claim: Claim, text: str, spans: Sequence[TypedSpan] = ()) -> list[str]:
    """The claim's polarity words whose opposite ``text`` states (十分 when it says 不足)."""
    src = polarity_words(_mask(text, spans))
    return list(dict.fromkeys(w for a, b in ANTONYMS for w, o in ((a, b), (b, a))
                              if w in claim.polar and o in src and w not in src and o not in claim.polar))


def trend_span(text: str, spans: Sequence[TypedSpan] = ()) -> TypedSpan | None:
    """The first word of ``TREND_WORDS`` in ``text`` outside its names and values, as a ``trend`` span
    (value ``up``, ``down`` or ``same``)."""
    masked = _mask(text, spans)
    found = [(i, w, d) for d, words in TREND_WORDS.items() for w in words if (i := masked.find(w)) >= 0]
    if not found:
        return None
    i, w, d = min(found)
    return TypedSpan("trend", i, i + len(w), w, d)


def figure_trends(spans: Sequence[TypedSpan], text: str) -> list[TypedSpan]:
    """Each amount stated with its previous value right after it in brackets (``120百万円(95百万円)``,
    ``80億円(前年度予算額80億円)``), as a ``trend`` span over both: ``up``, ``down`` or ``same``."""
    money = sorted((s for s in spans if s.kind == "money"), key=lambda s: s.start)
    out = []
    for a, b in zip(money, money[1:], strict=False):
        if not _PREVIOUS.fullmatch(text, a.end, b.start):
            continue
        now, before = _leading(a.value), _leading(b.value)
        if now is None or before is None:
            continue
        d = "up" if now > before else "down" if now < before else "same"
        end = b.end + 1 if text[b.end : b.end + 1] in (")", "）") else b.end
        out.append(TypedSpan("trend", a.start, end, text[a.start : end], d))
    return out


#: A decision or outcome about a negated clause (…を開催しないことが決まった, …を行わないこととした, …しない方針を決定した):
#: the sentence says the thing will not happen, though its own verb is affirmative. General Japanese.
_NEGATED_DECISION = lazy(
    r"(?:ない|ず)(?:こと|方針|旨)(?:が|を|に|と)?\s*(?:正式に)?"
    r"(?:決ま(?:った|る|っている)|決定(?:した|された|している|されている|する|される)?|決め(?:た|る|ている|られた)"
    r"|し(?:た|ている)|され(?:た|ている)|な(?:った|る|っている))(?:である|だ|です)?[。.!！]?$"
)


def _negation(text: str) -> re.Match[str] | None:
    """The negation ending the sentence (its main predicate's, or that of the clause a decision ending it is about)."""
    text = text.strip().rstrip("」』)）")
    return _NEGATION.search(text) or _NEGATED_DECISION.search(text)


def is_negated(text: str) -> bool:
    """Whether the sentence's main predicate (its end) is negated, or it ends deciding a negated clause
    (…しないことが決まった)."""
    return _negation(text) is not None


def make_claim(query: Query, spans: Sequence[TypedSpan], tokenize: Callable[[str], list[str]]) -> Claim:
    """A claim from the reader's analysis of the sentence and its typed spans.

    The tokens of the values are not topic terms: a wrong year must not count as
    coverage of what the claim is about.
    """
    text = query.normalized
    spans = range_end_spans(text, spans)
    # A name cut off inside a word (博士課 of 博士課程) is no name.
    spans = [s for s in spans if not ends_inside_word(text, s)]
    # An ordinal inside a name (第72回 of 第72回甲会議) is still checked: it tells one meeting from the next.
    values = tuple(s for s in spans if s.kind in VALUE_KINDS and (not _inside_other(s, spans) or is_ordinal(text, s))
                   and not _is_subject_name(s, text, spans))
    # The last name of a list (甲とKLMの共催) shares the role of the names before it: the の after it
    # qualifies the predicate, it does not make the list's last name the topic.
    values = tuple(sorted({*values, *_listed_after_values(values, text, spans)}, key=lambda s: (s.start, s.end)))
    value_tokens = {t for v in values for t in tokenize(v.text)}
    # 甲社と乙社の2社: the count restates how many names the list gives; the names are the values
    # (a source lists them without counting them).
    values = tuple(v for v in values if not _restated_count(v, text, values))
    # A role (副知事, 会長) is checked as a value: the deputy is not the head the source names. Its words stay
    # topic terms (a role no unit states either way is not required: ``cite.judge``).
    values = (*values, *(r for r in role_spans(text) if not any(
        o.kind in _NAMES and o.start <= r.start and r.end <= o.end for o in spans)))
    # The number a claim gives an item of a numbered list (「乙」は項目7): the slot a slide's ``7.乙`` states.
    values = (*values, *list_number_spans(text))
    # An ordinal the span patterns leave out (第5回WG: a counter before a Latin word) tells one meeting
    # from the next all the same.
    values = (*values, *ordinal_spans(text, spans))
    # A first occurrence in words (初めての大会) is the ordinal 1 (``first_spans``); a rough quantity (数十回) is
    # compared by its order of magnitude, not as the figure inside it (``vague_spans``).
    values = (*values, *first_spans(text, spans))
    vague = vague_spans(text)
    values = (*without_vague_counts(values, vague), *vague)
    value_tokens |= {t for v in vague for t in tokenize(v.text)}
    if any(text[v.end : v.end + 1] == _ORDINAL_AFTER for v in values if v.kind in ("count", "number")):
        value_tokens.add(_ORDINAL_AFTER)  # the 目 of 2回目 is part of the ordinal, not a word of the topic
    # A period relative to the time of writing (来年度中) is checked as a value, against the source's own
    # relative period (来年度末): both read from the same present, the draft quoting the document.
    periods = period_spans(text, spans)
    values = (*values, *periods)
    value_tokens |= {t for p in periods for t in tokenize(p.text)}
    trend = trend_span(text, spans)
    if trend is not None:
        # A figure with its previous value states a trend without its word (前年度より増えている):
        # the word and the comparison are the value, not topic terms a budget line would lack.
        values = (*values, trend)
        value_tokens |= {t for w in (trend.text, "前年度", "前年") for t in tokenize(w)}
    # A one-character token is mostly a suffix (地 of 建設地 and 実施地): it says little about the item.
    topic = {t: (min(w, 1.0) if len(t) == 1 else w) for t, w in query.terms.items()
             if t not in value_tokens and not t.isdigit()}
    labels = tuple(tuple(dict.fromkeys(t for t in tokenize(label_before(text, v, spans)) if t in topic))
                   for v in values)
    negated = is_negated(text)
    # A verb (務める, 取りまとめる) is how the draft words its predicate; slides state the item in nouns
    # (会長：…, 設立 2016年4月): for which item a unit speaks of, a verb rare in the documents must not
    # weigh like a name.
    nouns = {t: min(w, VERB_WEIGHT) if _VERB.search(t) else w for t, w in topic.items()}
    subject, assertion = split_at_topic(text, nouns, tokenize)
    return Claim(query, values, topic, negated, polarity_words(_mask(text, spans)), labels,
                 negated_predicate(text, tokenize, topic) if negated else (), nouns,
                 () if negated else affirmed_predicate(text, tokenize, topic), main_clause(text, nouns, tokenize),
                 subject, assertion)


#: The topic marker after a noun (甲機構は, 乙では, 丙には, 丁とは): what the sentence speaks of ends there. Not
#: は inside a word (はじめ, はず) or a negation (ではない).
_TOPIC_MARK = lazy(r"(?<=[一-鿿ァ-ヺーA-Za-z0-9)）」』])(?:で|に|と)?は(?![じずな])")


def topic_end(text: str) -> int:
    """Where the claim's first topic marker ends (0 without one)."""
    m = _TOPIC_MARK.search(text)
    return m.end() if m else 0


def split_at_topic(text: str, nouns: dict[str, float], tokenize: Callable[[str], list[str]],
                   ) -> tuple[dict[str, float], dict[str, float]]:
    """The claim's ``nouns`` before its first topic marker and those after it only (see ``Claim.subject``)."""
    m = _TOPIC_MARK.search(text)
    if m is None:
        return {}, {}
    head = set(tokenize(text[: m.start()]))
    tail = set(tokenize(text[m.end() :]))
    subject = {t: w for t, w in nouns.items() if t in head}
    assertion = {t: w for t, w in nouns.items() if t in tail and t not in head}
    return subject, assertion


#: The end of a clause giving a reason or circumstance before the main clause (…を考慮しつつ、…のため、
#: …を踏まえ、…により、): general Japanese connectives.
_CIRCUMSTANCE = lazy(r"(?:しつつ|ながら|ため|ので|ことから|により|によって|を踏まえ(?:て)?|を考慮し(?:て)?|を受け(?:て)?|に伴い)\s*[、,]")


def main_clause(text: str, nouns: dict[str, float], tokenize: Callable[[str], list[str]]) -> dict[str, float]:
    """``nouns`` less the terms only the claim's circumstance clauses use (see ``Claim.main``); empty when the
    claim has none, or when they leave fewer than two terms."""
    cut = 0
    for m in _CIRCUMSTANCE.finditer(text):
        cut = m.end()
    if not cut:
        return {}
    # The subject before the clause (甲は、…を考慮しつつ、) is the main clause's.
    head = text[:cut]
    subject = max(head.find("は、"), head.find("が、"))
    inner = head[subject + 2 :] if subject >= 0 else head
    rest = set(tokenize(text[cut:])) | (set(tokenize(head[: subject + 1])) if subject >= 0 else set())
    gone = set(tokenize(inner)) - rest
    main = {t: w for t, w in nouns.items() if t not in gone}
    return main if len(main) >= 2 and len(main) < len(nouns) else {}


#: Verbs and endings that carry a predicate without naming it (実現できている: できる, いる).
_AUXILIARIES = frozenset({"できる", "いる", "ある", "する", "なる", "れる", "られる", "おる", "いく", "くる", "しまう"})


def affirmed_predicate(text: str, tokenize: Callable[[str], list[str]], topic: dict[str, float]) -> tuple[str, ...]:
    """The noun of the predicate ending ``text`` (実現 of …十分に実現できている。), if it is a noun of the
    topic written as such (a verb's form varies; a noun's does not)."""
    clause = text.strip().rstrip("。.!！")
    clause = clause[max(clause.rfind(x) for x in "、。,，") + 1 :]
    terms = [t for t in tokenize(clause) if t in topic and t not in _AUXILIARIES]
    if not terms or _VERB.search(terms[-1]) or len(terms[-1]) < 2 or terms[-1] not in clause:
        return ()
    return (terms[-1],)


#: A predicate denied inside a clause: the noun, a few kana (することが, が), a word of impossibility.
_DENIED_AFTER = r"[ぁ-ん]{0,6}(?:困難|不可能|できない|できず|できていない|されていない|されず|していない|しておらず)"


def denies(text: str, word: str) -> bool:
    """Whether ``text`` denies ``word`` in some clause (…を実現することが困難であり…)."""
    return re.search(re.escape(word) + _DENIED_AFTER, text) is not None


#: The most a verb weighs in a claim's ``nouns``.
VERB_WEIGHT = 1.0
#: A verb's dictionary form (the tokenizer's lemma): it ends in a kana of the u-row.
_VERB = lazy(r"[ぁ-ゖ][うくぐすつぬぶむる]$|^[一-鿿][うくぐすつぬぶむる]$")


def negated_predicate(text: str, tokenize: Callable[[str], list[str]], topic: dict[str, float]) -> tuple[str, ...]:
    """The last topic term before the negation that ends ``text`` (許す of …許されない), if any."""
    m = _negation(text)
    if m is None:
        return ()
    clause = text[: m.start()]
    clause = clause[max(clause.rfind(x) for x in "、。,，") + 1 :]
    terms = [t for t in tokenize(clause) if t in topic]
    return tuple(terms[-1:])


#: A claim value's label must be this share of its topic to tell which of a unit's values is its
#: (as ``CitePolicy.label_share``); a different value stands under it with this share of its terms,
#: this much more than the claim's value does (stricter than ``CitePolicy.label``: here the claim's own
#: value is in the unit too).
LABEL_SHARE = 0.4
LABEL_OWN = 0.8
LABEL_GAP = 0.5

_NAMES = ("person", "org", "place", "facility")

#: Kinds of span that end the label of the next value (a figure, a date): names stay part of it.
_LABEL_STOPS = ("money", "percent", "count", "date")


def label_before(text: str, v: TypedSpan, spans: Sequence[TypedSpan]) -> str:
    """The words before value ``v`` in ``text`` back to the clause break (、。) or the figure before it:
    what the value is stated of (``維持・管理`` of ``維持・管理 412百万円``)."""
    start = max((s.end for s in spans if s.kind in _LABEL_STOPS and s.end <= v.start), default=0)
    for mark in "、。,，":
        start = max(start, text.rfind(mark, 0, v.start) + 1)
    if v.kind in _NAMES and not text[start : v.start].strip() and text[start - 1 : start] in ("、", ","):
        # A name listed after another (副会長：甲株式会社、乙株式会社) stands under the list's label.
        prev = next((o for o in spans if o.kind in _NAMES and o.end == start - 1), None)
        if prev is not None:
            return label_before(text, prev, spans)
    return text[start : v.start]


#: Titles and roles, and the prefixes that make another role of them (副会長 is not the 会長, 常任理事
#: not a 理事, 名誉教授 not a 教授): general Japanese, not a topic list.
ROLE_WORDS = frozenset({"会長", "理事", "理事長", "委員", "委員長", "大臣", "長官", "主査", "教授", "所長", "議長", "代表",
                        "社長", "部長", "局長", "座長", "センター長", "機構長", "本部長", "市長", "知事", "町長", "村長",
                        "区長", "課長", "室長"})
_PREFIXES = "副|准|常任|名誉|元|筆頭|非常勤"
_ROLE_PREFIX = lazy(r"(?:" + _PREFIXES + r")$")
#: A deputy standing in for a role (議長代理, 会長代行) holds another office than the role itself.
_ROLE_SUFFIXES = "代理|代行"
_ROLE = lazy(r"(?P<pre>" + _PREFIXES + r")?(?P<role>(?:" + "|".join(sorted(ROLE_WORDS, key=len, reverse=True))
             + r")(?:" + _ROLE_SUFFIXES + r")?)")


#: Periods named relative to the time of writing (来年度末, 来年度から, 昨年): general Japanese. Not 前年度 / 翌年度,
#: which are relative to another year the text names (前年度予算額), nor a relative year before a date
#: (昨年6月5日: a date, see ``spans.relative_year_spans``).
RELATIVE_PERIODS: dict[str, tuple[str, int]] = {
    "今年度": ("FY", 0), "本年度": ("FY", 0), "来年度": ("FY", 1), "昨年度": ("FY", -1), "再来年度": ("FY", 2),
    "今年": ("Y", 0), "本年": ("Y", 0), "来年": ("Y", 1), "昨年": ("Y", -1), "去年": ("Y", -1), "一昨年": ("Y", -2),
    "再来年": ("Y", 2),
}
_PERIOD = lazy(r"(?:" + "|".join(sorted(RELATIVE_PERIODS, key=len, reverse=True)) + r")(?!\s*(?:の\s*)?\d)")


def period_spans(text: str, spans: Sequence[TypedSpan] = ()) -> list[TypedSpan]:
    """The periods ``text`` names relative to its time of writing (来年度), as ``relative`` spans (value ``FY+1``):
    a draft writing 再来年度末 where the source writes 来年度末 moves the item by a year. A period inside
    one of ``spans`` (a date or name of the text) is that span's, not a period of its own."""
    out = []
    for m in _PERIOD.finditer(text):
        if any(o.start <= m.start() < o.end for o in spans):
            continue
        unit, offset = RELATIVE_PERIODS[m.group()]
        out.append(TypedSpan("relative", m.start(), m.end(), m.group(), f"{unit}{offset:+d}"))
    return out


#: An ordinal: 第 and a number before a counter of occurrences or parts (第5回, 第2期).
_ORDINAL = lazy(r"第\s*(\d+)\s*(回|期|次|号|条|章|弾|版)")


def ordinal_spans(text: str, spans: Sequence[TypedSpan] = ()) -> list[TypedSpan]:
    """The ordinals of ``text`` (第5回 before a Latin word, 第5回WG) that no count span of ``spans`` gives, as
    ``count`` spans from their number (value ``5回``, as the count patterns give them)."""
    out = []
    for m in _ORDINAL.finditer(text):
        a, b = m.start(1), m.end()
        if any(o.kind in ("count", "number") and o.start <= a < o.end for o in spans):
            continue
        out.append(TypedSpan("count", a, b, text[a:b], f"{int(m.group(1))}{m.group(2)}"))
    return out


#: A first occurrence said in words (初めての大会, 初回の会合, 最初の): the ordinal 1 of the counter 回.
_FIRST = lazy(r"初めて|初回|最初の|初の(?=[一-鿿ァ-ヺー])")
#: A count after 第 or before 目 (第7回, 7回目) is an ordinal.
_ORDINAL_AFTER = "目"


def first_spans(text: str, spans: Sequence[TypedSpan] = ()) -> list[TypedSpan]:
    """The first occurrences ``text`` states in words (初めての年次大会), as ordinal ``count`` spans (value
    ``1回``): a draft calling it the 2回目 states the ordinal otherwise. None inside a span of ``spans``."""
    return [TypedSpan("count", m.start(), m.end(), m.group(), "1回") for m in _FIRST.finditer(text)
            if not any(o.start <= m.start() < o.end for o in spans)]


def is_first(v: TypedSpan) -> bool:
    """Whether a value is a first occurrence said in words (``first_spans``), not a number."""
    return v.kind == "count" and v.value == "1回" and not any(ch.isdigit() for ch in v.text)


#: A rough quantity (数回, 数十回, 数百人, 数年): 数, an order of magnitude, a counter. Not 数 inside a word
#: (複数回, 人数, 件数, 多数).
_VAGUE = lazy(r"(?<![複人件総点多少係変関定整指個無回])数\s*(十|百|千|万)?\s*"
              r"(回|名|人|社|件|か所|箇所|機関|団体|か国|カ国|ヶ国|年|日|週|か月|ヶ月|カ月)")
_MAGNITUDE = {"": 1, "十": 10, "百": 100, "千": 1000, "万": 10000}
_VAGUE_UNIT = {"名": "人", "カ国": "か国", "ヶ国": "か国", "ヶ月": "か月", "カ月": "か月", "箇所": "か所"}


def vague_spans(text: str) -> list[TypedSpan]:
    """The rough quantities of ``text`` (数回, 数十回), as ``vague`` spans whose value is the order of magnitude
    and the counter (``10回`` for 数十回): 数回 and 数十回 are different quantities of one counter."""
    out = []
    for m in _VAGUE.finditer(text):
        unit = _VAGUE_UNIT.get(m.group(2), m.group(2))
        out.append(TypedSpan("vague", m.start(), m.end(), m.group(), f"{_MAGNITUDE[m.group(1) or '']}{unit}"))
    return out


def without_vague_counts(spans: Sequence[TypedSpan], vague: Sequence[TypedSpan]) -> list[TypedSpan]:
    """``spans`` without the figures inside a rough quantity (十回 of 数十回 is no count of ten)."""
    return [s for s in spans if not (s.kind in ("count", "number")
                                     and any(v.start <= s.start < v.end for v in vague))]


def role_spans(text: str) -> list[TypedSpan]:
    """The roles ``text`` names, each with its prefix (副知事, 常任理事), as ``role`` spans."""
    return [TypedSpan("role", m.start(), m.end(), m.group(), m.group()) for m in _ROLE.finditer(text)]


def _role_parts(v: str) -> tuple[str, str]:
    m = _ROLE.fullmatch(v)
    return (m.group("pre") or "", m.group("role")) if m else ("", v)


def other_role_only(word: str, text: str) -> bool:
    """Whether role ``word`` occurs in ``text`` only as part of another role (会長 only in 副会長)."""
    if word not in ROLE_WORDS:
        return False
    starts = [m.start() for m in re.finditer(re.escape(word), text)]
    return bool(starts) and all(_ROLE_PREFIX.search(text, 0, i) for i in starts)


def label_match(claim: Claim, v: TypedSpan, s: TypedSpan, spans: Sequence[TypedSpan], text: str,
                min_share: float = 0.0) -> float:
    """IDF-weighted share of the label terms of claim value ``v`` that stand before source value ``s``
    in its unit (0.0 when the claim value's label is under ``min_share`` of its topic: a bare subject,
    ``試験装置は2031年に``, says what the sentence is about, not what the figure measures)."""
    label = next((lab for cv, lab in zip(claim.values, claim.labels, strict=False) if cv is v), ())
    total = sum(claim.topic.get(t, 0.0) for t in label)
    if not total or total < min_share * sum(claim.topic.values()):
        return 0.0
    before = label_before(text, s, spans)
    low = before.lower()
    claim_text = claim.query.normalized
    return sum(claim.topic.get(t, 0.0) for t in label if t.lower() in low
               and not (other_role_only(t, before) and not other_role_only(t, claim_text))) / total


def stated_label_share(claim: Claim, v: TypedSpan, s: TypedSpan, spans: Sequence[TypedSpan], text: str) -> float:
    """IDF-weighted share of the label terms of claim value ``v`` that the unit states anywhere which stand
    before source value ``s`` (0.0 when those it states are under ``LABEL_SHARE`` of the label's weight)."""
    label = next((lab for cv, lab in zip(claim.values, claim.labels, strict=False) if cv is v), ())
    low = text.lower()
    stated = [t for t in label if t.lower() in low]
    total = sum(claim.topic.get(t, 0.0) for t in stated)
    if not total or total < LABEL_SHARE * sum(claim.topic.get(t, 0.0) for t in label):
        return 0.0
    before = label_before(text, s, spans).lower()
    return sum(claim.topic.get(t, 0.0) for t in stated if t.lower() in before) / total


def label_terms(claim: Claim, v: TypedSpan, s: TypedSpan, spans: Sequence[TypedSpan], text: str) -> frozenset[str]:
    """The label terms of claim value ``v`` that stand before source value ``s`` in its unit."""
    label = next((lab for cv, lab in zip(claim.values, claim.labels, strict=False) if cv is v), ())
    low = label_before(text, s, spans).lower()
    return frozenset(t for t in label if t.lower() in low)


def _mask(text: str, spans: Sequence[TypedSpan]) -> str:
    """``text`` with its names and values blanked (推進 in 推進会議 is part of a name, not a polarity)."""
    chars = list(text)
    for s in spans:
        chars[s.start : s.end] = "　" * (s.end - s.start)
    return "".join(chars)


#: After a name: it qualifies the topic (日本の費用分担) or is the topic (推進協議会は、センター等には).
_SUBJECT_MARK = lazy(r"(?:氏|さん|様|等|など)?(?:の|は|には|では|とは)")
#: ...unless the の ends the sentence's predicate (金沢大学の所属である): there the name is what is asserted.
_PREDICATE_NO = lazy(r"の[^、。,]{1,6}?(?:である|だ|です|となっている)?[。.]?$")


#: A count right after the name's の (乙社の2社, 丙氏の3名): the names are listed, not a qualifier.
_APPOSITION = lazy(r"の(?:計)?\d+(?:社|名|人|者|機関|団体|か国|カ国|ヶ国|つ)")


def _is_subject_name(s: TypedSpan, text: str, spans: Sequence[TypedSpan] = ()) -> bool:
    """A name that qualifies the topic (``日本の費用分担``) or is the sentence's topic (``推進協議会は``)
    names the item the claim is about; it is not the asserted value."""
    if s.kind not in ("person", "org", "place", "facility") or not _SUBJECT_MARK.match(text, s.end):
        return False
    if _APPOSITION.match(text, s.end):
        return False  # 甲社と乙社の2社: the の sums the names up; they are what is asserted
    # A place qualifying another name that is asserted (甲国乙市の丙会館で開かれた) is part of the asserted
    # venue, not the topic; a place qualifying the topic's name (甲国の乙機構は) is topic with it.
    # (Only a place: a body before a person's name, 甲社理事の乙山氏, is an affiliation, itself a loose slot.)
    nxt = next((o for o in spans if o.kind in ("place", "facility", "org") and o.start == s.end + 1), None)
    if (s.kind == "place" and text[s.end : s.end + 1] == "の" and nxt is not None
            and not _is_subject_name(nxt, text, spans)):
        return False
    # The predicate's の: unless another name follows it (理事の甲山花子氏である: that name is the value).
    return not (_PREDICATE_NO.match(text, s.end) and not any(o.start == s.end + 1 for o in spans))


#: Between the items of a list of names (甲、乙 / 甲と乙 / 甲・乙 / 甲及び乙).
_LIST_JOIN = lazy(r"\s*(?:、|,|・|と|及び|並びに|や)\s*")


def _listed_after_values(values: Sequence[TypedSpan], text: str, spans: Sequence[TypedSpan]) -> list[TypedSpan]:
    """The names of ``spans`` listed right after a name of ``values`` (甲 and then と, 、 or や), in turn."""
    out: list[TypedSpan] = []
    names = [v for v in values if v.kind in _NAMES]
    while names:
        v = names.pop()
        m = _LIST_JOIN.match(text, v.end)
        nxt = None if m is None else next((s for s in spans if s.kind in _NAMES and s.start == m.end()
                                          and s not in values and s not in out and not _inside_other(s, spans)), None)
        if nxt is not None:
            out.append(nxt)
            names.append(nxt)
    return out


def _restated_count(v: TypedSpan, text: str, values: Sequence[TypedSpan]) -> bool:
    """Whether count ``v`` follows a list of names with の and counts them (甲社と乙社の2社)."""
    if v.kind != "count" or _leading(v.value) is None:
        return False
    names = sorted((s for s in values if s.kind in _NAMES and s.end <= v.start), key=lambda s: s.end)
    if not names or not re.fullmatch(r"の(?:計)?", text[names[-1].end : v.start].strip()):
        return False
    n, last = 1, names[-1]
    for prev in reversed(names[:-1]):
        if not _LIST_JOIN.fullmatch(text, prev.end, last.start):
            break
        n, last = n + 1, prev
    return n > 1 and _leading(v.value) == n


def _inside_other(s: TypedSpan, spans: Sequence[TypedSpan]) -> bool:
    """A span strictly inside a longer one (乙 in 甲県乙市) is part of it, not a value of its own."""
    return any(o is not s and o.start <= s.start and s.end <= o.end and (o.end - o.start) > (s.end - s.start)
               for o in spans)


@dataclass(frozen=True, slots=True)
class Comparison:
    """How one evidence unit stands to a claim's values and polarity."""

    matched: tuple[TypedSpan, ...]  # claim values the unit states
    differing: tuple[tuple[TypedSpan, TypedSpan], ...]  # (claim value, the unit's different value)
    unknown: tuple[TypedSpan, ...]  # claim values the unit says nothing comparable about
    polarity_conflict: str | None  # e.g. "増加 ≠ 減少" or "negation"

    @property
    def stated(self) -> tuple[TypedSpan, ...]:
        """The claim values the unit states a value for, the same or another."""
        return (*self.matched, *(cv for cv, _ in self.differing))


def _date_parts(v: str) -> tuple[str, list[str], bool]:
    parts = v.split("-")
    fy = parts[0].startswith("FY")
    return parts[0].removeprefix("FY"), [p for p in parts[1:] if p], fy


#: Years of a decade each part covers (2030年代前半: 2030–2034; 半ば overlaps both halves).
_PART_YEARS = {"": range(10), "early": range(5), "mid": range(3, 8), "late": range(5, 10)}


def _decade_vs_date(claim: str, source: str) -> str | None:
    """A decade (``2030s``, ``2030s-early``) against a date; None when neither is a decade.

    A year inside the claim's decade (or inside the part of it the claim names) confirms it (2030年代
    and 2035年); a year outside it, or another decade or part, differs. A source naming part of the
    decade (2030年代前半) confirms a claim of the whole decade, not the other way round, and a source
    decade cannot confirm a claim's exact year.
    """
    dc, ds = decade(claim), decade(source)
    if dc is None and ds is None:
        return None
    if dc is not None and ds is not None:
        if dc[0] != ds[0]:
            return "differ"
        if dc[1] == ds[1] or not dc[1]:
            return "equal"
        return "unknown" if not ds[1] else "differ"
    start, part = dc if dc is not None else ds  # type: ignore[misc]
    year = _date_parts(source if dc is not None else claim)[0]
    if not year.isdigit():
        return "unknown"  # a month or day without a year
    inside = int(year) - start in _PART_YEARS[part]
    if dc is not None:
        return "equal" if inside else "differ"
    return "unknown" if inside else "differ"


#: Endings of a name that make it a body's (an organisation's): 甲機構, 乙研究所, 丙省.
BODY_ENDINGS = ("省", "庁", "機構", "研究所", "委員会", "大学", "協会", "協議会", "センター", "機関", "法人", "会議")


def _abbreviation(x: TypedSpan) -> bool:
    """Whether a name is a Latin-script abbreviation not written out (its value is still Latin script)."""
    return is_latin_word(x.text) and x.value.isascii()


def _written_out(x: TypedSpan) -> bool:
    """Whether a name is a Latin-script abbreviation whose value is the body it stands for, written out."""
    return is_latin_word(x.text) and not x.value.isascii()


def compare_values(a: TypedSpan, b: TypedSpan) -> str:
    """``"equal"``, ``"differ"`` or ``"unknown"`` for a claim value ``a`` and a source value ``b``."""
    num = {"money", "percent", "count", "number"}
    if a.kind in num and b.kind in num:
        if a.kind != b.kind and not ({a.kind, b.kind} <= {"count", "number"}):
            return "unknown"
        va, vb = _leading(a.value), _leading(b.value)
        if a.kind == b.kind and a.kind in ("count", "money") and unit_of(a.value) != unit_of(b.value):
            return "unknown"  # 12人 and 12社, 30億ユーロ and 31億円: other units, not other figures
        if va != vb and va is not None and vb is not None and _approximate(a):
            # 約12億円 for 1,180百万円: a figure the claim rounds is the source's when it rounds to it.
            return "equal" if abs(va - vb) <= approx_tolerance(va) else "differ"
        return "equal" if va == vb else "differ"
    if a.kind == "date" and b.kind == "date":
        by_decade = _decade_vs_date(a.value, b.value)
        if by_decade is not None:
            return by_decade
        ya, ra, _ = _date_parts(a.value)
        yb, rb, _ = _date_parts(b.value)
        if ya and yb and ya != yb:
            return "differ"
        n = min(len(ra), len(rb))
        if ra[:n] != rb[:n]:
            return "differ"
        if ya and not yb:
            return "unknown"  # the source gives no year: it cannot confirm the claim's
        if len(ra) > len(rb):
            return "unknown" if ya == yb or not ya else "differ"
        return "equal"
    if a.kind == "relative" and b.kind == "relative":
        # 来年度 and 今年度 differ; 来年 and 今年度 are periods of two kinds (a year, a fiscal year): unknown.
        (ua, oa), (ub, ob) = (re.match(r"([A-Z]+)([+-]\d+)", x.value).groups() for x in (a, b))  # type: ignore[union-attr]
        return "unknown" if ua != ub else "equal" if oa == ob else "differ"
    if a.kind == "listno" and b.kind == "listno":
        # The same item (保守性 of 9.保守性 and of 「保守性」は項目11) numbered alike or otherwise; another item
        # of the list says nothing of the claim's number.
        (ia, na), (ib, nb) = (x.value.rsplit("#", 1) for x in (a, b))
        if not ia or not ib or not (ia in ib or ib in ia):
            return "unknown"
        return "equal" if na == nb else "differ"
    if a.kind == "vague" and b.kind == "vague":
        # 数回 and 数十回: one counter, another order of magnitude.
        if unit_of(a.value) != unit_of(b.value):
            return "unknown"
        return "equal" if a.value == b.value else "differ"
    if a.kind == "trend" and b.kind == "trend":
        return "equal" if a.value == b.value else "differ"
    if a.kind == "role" and b.kind == "role":
        # A claim's 副知事 where the source names the 知事 differs; two offices (会長, 理事) are two slots,
        # and a source's 名誉会長 may be another person than the 会長 a claim speaks of.
        (pa, ra), (pb, rb) = _role_parts(a.value), _role_parts(b.value)
        return "equal" if (pa, ra) == (pb, rb) else "differ" if ra == rb and pa and not pb else "unknown"
    names = ("person", "org", "place", "facility")
    if a.kind in names and b.kind in names:
        if a.value in b.value or b.value in a.value:
            return "equal"
        # ABC may be the 甲科学技術機構 a source writes out: unknown, unless the documents define the
        # abbreviation (its value is then the name written out: ``cite.with_body_abbreviations``). Two
        # abbreviations (ABC, XYZ) are two bodies.
        if a.kind != b.kind or not (_abbreviation(a) == _abbreviation(b) or (is_latin_word(a.text) and is_latin_word(b.text))):
            return "unknown"
        if _written_out(a) != _written_out(b) and not all(is_latin_word(x.text) or x.value.endswith(BODY_ENDINGS)
                                                     for x in (a, b)):
            # An abbreviation the documents define for a body is another body than a name that is none (a
            # tagger's 会議室): only a body's name (乙大学, 丙機構) or another abbreviation is in its place.
            return "unknown"
        # (Levels by the names' values: a one-character country of a list, 欧 of 米、欧, is the 欧州 it stands for.)
        la, lb = place_level(a.value or a.text), place_level(b.value or b.text)
        if a.kind == "place" and la != lb:
            # 甲山県乙村 and 丙川県: a municipality written with its prefecture is in no other prefecture.
            pa, pb = _prefecture_of(a.text), _prefecture_of(b.text)
            if pa and pb and la != "country" != lb:
                return "equal" if pa == pb else "differ"
            return "unknown"  # ワシントン and 米国: a city inside a country, not a different place
        return "differ"
    return "unknown"


_ABBR = "[" + "".join(COUNTRY_ABBREVIATIONS) + "]"
#: A list of two or more of them, standing alone (参加国：日、米、英), not inside a word (中国, 日本).
_ABBR_LIST = lazy(r"(?<![一-鿿])" + _ABBR + r"(?:\s*[、・,，]\s*" + _ABBR + r")+(?![一-鿿])")


def country_abbreviations(text: str) -> list[TypedSpan]:
    """The countries a list of one-character names (日、米、英、独) gives, as ``place`` spans."""
    return [TypedSpan("place", m.start() + i, m.start() + i + 1, ch, COUNTRY_ABBREVIATIONS[ch])
            for m in _ABBR_LIST.finditer(text) for i, ch in enumerate(m.group()) if ch in COUNTRY_ABBREVIATIONS]


def place_level(name: str) -> str:
    """``country``, ``prefecture``, ``municipality`` or ``place`` (a city or site without suffix)."""
    if name in COUNTRIES or name.endswith(("国", "州")):
        return "country"
    if name.endswith(("県", "都", "道", "府")):
        return "prefecture"
    if name.endswith(("市", "区", "町", "村", "郡")):
        return "municipality"
    return "place"


def is_country(v: TypedSpan) -> bool:
    """Whether a value names a country: context a sentence gives in passing (日本の…), seldom the value checked."""
    return v.kind == "place" and place_level(v.value or v.text) == "country"


_PREFECTURE = lazy(r"^(?:北海道|東京都|大阪府|京都府|[一-鿿々]{2,3}県)")


def _prefecture_of(name: str) -> str:
    """The prefecture a place name starts with (``甲山県`` of ``甲山県乙村``), or ""."""
    m = _PREFECTURE.match(name)
    return m.group() if m else ""


#: Qualifiers saying a figure is rounded (約, およそ, 概ね, 程度, 前後, ほど): general Japanese.
APPROXIMATE = ("約", "およそ", "概ね", "程度", "前後", "ほど")
#: The most a rounded figure may be off, as a share of itself.
APPROX_SHARE = 0.1


def _approximate(v: TypedSpan) -> bool:
    return any(q in v.qualifier for q in APPROXIMATE)


def approx_tolerance(x: float) -> float:
    """How far a figure written as rounded (約 ``x``) may be from the exact one: half the unit of its last
    non-zero digit (約12億円: 11.5–12.5億円), at most ``APPROX_SHARE`` of it (約60名 is not 90名)."""
    if x <= 0:
        return 0.0
    unit = 1.0
    while x >= unit * 10 and (x / (unit * 10)) == int(x / (unit * 10)):
        unit *= 10
    if x != int(x):
        unit = 10 ** -len(repr(x).split(".")[1])
    return min(unit / 2, APPROX_SHARE * x)


def _leading(v: str) -> float | None:
    m = re.match(r"[\d.]+", v)
    return float(m.group()) if m else None


#: Counters that name one unit two ways (a duration: 7年 and 7年間).
_SAME_UNIT = {"年間": "年", "日間": "日", "週間": "週"}


def unit_of(v: str) -> str:
    u = re.sub(r"^[\d.]+", "", v)
    return _SAME_UNIT.get(u, u)


def compare(claim: Claim, spans: Sequence[TypedSpan], text: str) -> Comparison:
    """Line a claim's values and polarity up against one unit's spans and text."""
    matched, differing, unknown = [], [], []
    if claim.trend is not None:
        spans = [*spans, *figure_trends(spans, text)]
    if any(is_country(v) for v in claim.values):
        spans = [*spans, *country_abbreviations(text)]
    spans = with_slot_spans(claim, spans, text)
    # Dates the unit states as the start or end of an open range (2012年以降, 2030年以前).
    open_dates = [(b, after) for b, after, _ in directions(text, spans) if isinstance(b, TypedSpan)]
    for v in claim.values:
        # An ordinal (第3回) and a count or frequency (年2回) of the same counter are not one kind of value.
        ordinal = is_ordinal(claim.query.normalized, v)
        # (A list item's index, ``(2)`` before a heading, is no figure: it neither states nor denies one.)
        verdicts = [(compare_values(v, s) if is_ordinal(text, s) == ordinal and not _enumerator(text, s) else "unknown", s)
                    for s in spans]
        if v.kind == "role":
            verdicts = [("differ" if x == "unknown" and _role_of_named(claim, v, s, spans, text) else x, s) for x, s in verdicts]
            # A line of several members (…教授乙川次郎…講師甲山花子): the office written against the claim's
            # person is the claim's slot, whatever the others hold.
            bound = [s for x, s in verdicts if _role_of_named(claim, v, s, spans, text, same=x == "equal")]
            if bound and not any(x == "equal" for x, s in verdicts if s in bound):
                differing.append((v, bound[0]))
                continue
        # A source value equal to another value of the claim is that value, not a different one
        # (設立は4月2日、総会は6月18日: the source's 6月18日 does not contradict 4月2日).
        diff = [s for x, s in verdicts if x == "differ"
                and not any(o is not v and compare_values(o, s) == "equal" and not _twin_of(v, o, s, spans)
                            for o in claim.values)
                and not (s.kind == "date" and _within_open_range(v, s, open_dates))
                and not document_date(claim.query.normalized, text, s) and not _enumerator(text, s)]
        if _additive(claim.query.normalized, v, claim.values):
            diff = []  # 甲総理も出席した: others named beside the claim's name do not deny it
        equal = [s for x, s in verdicts if x == "equal"]
        if equal and diff and v.kind != "trend":
            # A unit listing several items with their values (甲の式典(5月1日) 乙の式典(5月2日)): the
            # claim's value stated of another item, and a different one under the claim's own label,
            # is the claim's item stated otherwise.
            def label(s: TypedSpan, v: TypedSpan = v) -> float:
                return label_match(claim, v, s, spans, text, LABEL_SHARE)

            other = max(diff, key=label)
            if label(other) >= LABEL_OWN and label(other) > max(map(label, equal)) + LABEL_GAP:
                differing.append((v, other))
                continue
            # Two events of one item on one line (【開始】5月、【本格開始】9月): the claim's value stated
            # under a label naming fewer of the claim's label words than the label of a different value,
            # which names them all and more, is the other event's; the claim's event is stated otherwise.
            def terms(s: TypedSpan, v: TypedSpan = v) -> frozenset[str]:
                return label_terms(claim, v, s, spans, text)

            if label(other) >= LABEL_OWN and all(terms(e) < terms(other) for e in equal):
                differing.append((v, other))
                continue
            # The label words the unit states nowhere tell none of its values apart (a draft's verb, 面談した,
            # where the line has 甲の知事面会(5月1日)): of those it states, the claim's figure or date under none and
            # a different one under them all is the claim's item stated otherwise. (Not a name: a roster
            # writes a member's body before the name, 甲大学 教授 乙山, so the words before it are another's.)
            def stated(s: TypedSpan, v: TypedSpan = v) -> float:
                return stated_label_share(claim, v, s, spans, text)

            told = max(diff, key=stated)
            if v.kind in _LABEL_STOPS and stated(told) >= LABEL_OWN and not any(terms(e) for e in equal):
                differing.append((v, told))
                continue
            # Rows of one table by year (令和9年度予算額 40億円 / 令和8年度補正予算額 55億円): the claim's
            # figure under another year's label, and a different one under the claim's year and label,
            # is the claim's row stated otherwise.
            year = _year_of(v, claim.query.normalized, claim.values)
            if year is not None:
                def same_year(s: TypedSpan, year: TypedSpan = year) -> bool:
                    y = _year_of(s, text, spans)
                    return y is not None and compare_values(year, y) == "equal"

                mine = [s for s in diff if same_year(s) and label(s) >= LABEL_OWN]
                if mine and not any(map(same_year, equal)):
                    differing.append((v, max(mine, key=label)))
                    continue
        if equal:
            matched.append(v)
            continue
        if diff:
            differing.append((v, _closest(v, diff)))
        else:
            unknown.append(v)
    conflict = None
    src_polar = polarity_words(_mask(text, spans))
    for a, b in ANTONYMS:
        if a in claim.polar and b in src_polar and a not in src_polar and b not in claim.polar:
            conflict = f"{a} ≠ {b}"
            break
        if b in claim.polar and a in src_polar and b not in src_polar and a not in claim.polar:
            conflict = f"{b} ≠ {a}"
            break
    if conflict is None:
        conflict = direction_conflict(claim, spans, text)
    if conflict is None:
        conflict = exclusive_conflict(claim.query.normalized, _mask(text, spans))
    if conflict is None:
        conflict = aspect_conflict(claim.query.normalized, _mask(text, spans))
    if conflict is None and claim.negated != is_negated(text):
        conflict = "negation"
    if conflict is None and any(denies(text, w) for w in claim.affirmed):
        conflict = "negation"
    return Comparison(tuple(matched), tuple(differing), tuple(unknown), conflict)


def _role_of_named(claim: Claim, v: TypedSpan, s: TypedSpan, spans: Sequence[TypedSpan], source: str,
                   same: bool = False) -> bool:
    """Whether source role ``s`` is claim role ``v`` with another prefix (副センター長 for センター長) given to
    a person the claim names, the role written right against the name (…副センター長甲山太郎): the claim's
    person holds another office than the claim says. (Unbound, a 副会長 beside a claim's 会長 may be
    someone else's office: ``compare_values`` leaves the pair unknown.) With ``same``, the role may be the
    claim's own (equal to it)."""
    if s.kind != "role" or _role_parts(v.value)[1] != _role_parts(s.value)[1] or (v.value == s.value and not same):
        return False
    # (The claim's subject, 甲山太郎氏は…, is no value of the claim: its text names the person.)
    text = claim.query.normalized
    return any(n.kind == "person" and len(n.text) >= 2 and n.text in text
               and (between_roles(source[s.end : n.start]) if s.end <= n.start else n.end <= s.start <= n.end + 1)
               for n in spans)


#: What may stand between a role and the name it is given besides other roles of the person (名誉教授・客員教授
#: 甲山太郎): the list marks and the qualifiers no role list names (客員, 特任).
_ROLE_GAP = lazy(r"[・、\s]|客員|特任|招へい|招聘")


def between_roles(gap: str) -> bool:
    """Whether ``gap``, the text between a role and a name after it, is only more roles of that name's person."""
    return len(_ROLE_GAP.sub("", _ROLE.sub("", gap))) <= 1


def _twin_of(v: TypedSpan, o: TypedSpan, s: TypedSpan, spans: Sequence[TypedSpan]) -> bool:
    """Whether source value ``s``, equal to claim value ``o``, is the one of two source values equal to ``o``
    that stands in claim value ``v``'s place: the source states ``o``'s figure twice (40億円(前年度40億円)),
    once where the claim states ``o`` and once where it states ``v`` (40億円, 前年度の35億円). The twin in
    ``o``'s place is ``o``'s; the other is the source's value of ``v``'s slot, compared with ``v``."""
    twins = [t for t in spans if t is not s and t.kind == s.kind and compare_values(o, t) == "equal"]
    return any((t.start < s.start) == (o.start < v.start) for t in twins)


def with_slot_spans(claim: Claim, spans: Sequence[TypedSpan], text: str) -> list[TypedSpan]:
    """A unit's ``spans`` with the roles (会長, 常任理事) and relative periods (今年度) its ``text`` names, when
    the claim has values of those kinds (they are no spans of the index: only a claim asks for them)."""
    out = list(spans)
    if any(v.kind == "role" for v in claim.values):
        out += [r for r in role_spans(text) if not any(
            o.kind in _NAMES and o.start <= r.start and r.end <= o.end for o in spans)]
    if any(v.kind == "relative" for v in claim.values):
        out += period_spans(text, spans)
    if any(is_ordinal(claim.query.normalized, v) for v in claim.values):
        out += ordinal_spans(text, spans)
        out += first_spans(text, spans)
    if any(v.kind == "vague" for v in claim.values):
        vague = vague_spans(text)
        out = [*without_vague_counts(out, vague), *vague]
    if any(v.kind == "listno" for v in claim.values):
        out += enumerated_spans(text)
    return out


#: A claim numbering an item of a list: 項目7, 7番目(の項目).
_LIST_NUMBER = lazy(r"項目\s*(\d{1,2})(?![\d.,])|(?<![\d.,])(\d{1,2})\s*番目")
#: The item a claim numbers: a quoted word before the number (「乙」は項目7), else the subject (乙は項目7).
_QUOTED_ITEM = lazy(r"[「『]([^」』]{1,20})[」』]\s*(?:は|が|を|も)[^「『]*$")
_SUBJECT_ITEM = lazy(r"([^、。,\s「」『』]{2,20}?)(?:は|が)[^、。は]*$")
#: A slide's numbered items run together (0.概要4.冷却系8.遮蔽): the number, then the item's words
#: up to the next number.
_ENUMERATED = lazy(r"(?<![\d.,])(\d{1,2})[.．]\s*([^\d\s.．][^\d.．]*?)\s*(?=(?<![\d.,])\d{1,2}[.．]|$)")


def list_number_spans(text: str) -> list[TypedSpan]:
    """The numbers ``text`` gives an item of a numbered list (「乙」は項目7に挙げられる), as ``listno`` spans whose
    value is the item and its number (``乙#7``); none when the item is not said."""
    out = []
    for m in _LIST_NUMBER.finditer(text):
        head = text[: m.start()]
        item = _QUOTED_ITEM.search(head) or _SUBJECT_ITEM.search(head)
        if item is None:
            continue
        n = int(m.group(1) or m.group(2))
        out.append(TypedSpan("listno", m.start(), m.end(), m.group(), f"{item.group(1).strip()}#{n}"))
    return out


def enumerated_spans(text: str) -> list[TypedSpan]:
    """The numbered items of ``text`` (``9.保守性``), as ``listno`` spans (value ``保守性#9``)."""
    return [TypedSpan("listno", m.start(), m.end(), m.group(), f"{m.group(2).strip()}#{int(m.group(1))}")
            for m in _ENUMERATED.finditer(text)]


_QUOTE_OPEN, _QUOTE_CLOSE = "「『", "」』"
#: A claim speaking of a document itself: its title's end, then は / が or the act that dates it.
_OF_DOCUMENT = r"[」』]?\s*(?:は|が|では|の(?:決定|策定|改訂|閣議決定|取りまとめ|制定|発効))"


def _enumerator(text: str, s: TypedSpan) -> bool:
    """Whether a bare number is a list item's index, ``(4)`` before a heading's words: no figure of anything."""
    return (s.kind == "number" and len(s.text) <= 2 and text[s.start - 1 : s.start] in ("(", "（")
            and text[s.end : s.end + 1] in (")", "）") and bool(text[s.end + 1 : s.end + 2].strip()))


def document_date(claim_text: str, text: str, s: TypedSpan) -> bool:
    """Whether source date ``s`` dates a document quoted by its title (「甲戦略(令和12年7月乙会議決定)」,
    「乙方針」(2031年3月閣議決定)) that the claim does not speak of: the date of the document a line
    refers to is not the date of what the line says (a target year, a call for proposals). A claim
    whose subject is the document (甲戦略は…, 甲戦略の改訂) speaks of it."""
    if s.kind != "date":
        return False
    head = text[: s.start].rstrip()
    if not head.endswith(("(", "（")):
        return False
    before = head[:-1].rstrip()
    if before.endswith(tuple(_QUOTE_CLOSE)):
        body = before[:-1]
        title = body[max(body.rfind(q) for q in _QUOTE_OPEN) + 1 :]
    else:
        opened = max(before.rfind(q) for q in _QUOTE_OPEN)
        if opened < 0 or max(before.rfind(q) for q in _QUOTE_CLOSE) > opened:
            return False  # a bracket after a plain name (甲会議資料(2024年2月)): the line's own date
        title = before[opened + 1 :]
    title = title.strip()
    if len(title) < 3:
        return False
    return re.search(re.escape(title[-2:]) + _OF_DOCUMENT, claim_text) is None


def range_partner(claim: Claim, v: TypedSpan) -> TypedSpan | None:
    """The other end of the range claim value ``v`` is an end of, if any."""
    text = claim.query.normalized
    return next((p for p in claim.values if p is not v and p.kind == v.kind
                 and (range_joined(text, p, v) or range_joined(text, v, p))), None)


#: Before or after a date or an event (2012年以降, 設計審査の後に, 2012年より前から): the side of it a
#: statement places something on. Not 前年, 前回, 前提, 前半, 後半, 前後 (other words).
_DIRECTION = lazy(r"(?:より|の)?\s*(以前|以降|以後|前|後)(?![年回提身半者任期述進方部日月度週輩記段線後])")
_EVENT_DIRECTION = lazy(r"([一-鿿ァ-ヺー]{2,})(?:の|より)(以前|以降|以後|前|後)(?![年回提身半者任期述進方部日月度週輩記段線後])")
_BEFORE = frozenset({"以前", "前"})


def directions(text: str, spans: Sequence[TypedSpan]) -> list[tuple[TypedSpan | str, bool, str]]:
    """Each date or event ``text`` places something before or after: (the date span, or the event's last
    two characters; True for after; the words as written)."""
    out: list[tuple[TypedSpan | str, bool, str]] = []
    dates = [s for s in spans if s.kind == "date"]
    for s in dates:
        m = _DIRECTION.match(text, s.end)
        if m is not None:
            out.append((s, m.group(1) not in _BEFORE, text[s.start : m.end()]))
    for m in _EVENT_DIRECTION.finditer(text):
        if not any(s.start <= m.start(1) < s.end or s.start < m.end(1) <= s.end for s in spans):
            out.append((m.group(1)[-2:], m.group(2) not in _BEFORE, m.group()))
    return out


#: An exclusive restriction (甲系の学生のみ, 乙に限られる, 丙だけを対象): the words before it back to a particle or
#: clause break. Not だけでなく / のみならず (an addition).
_ONLY = lazy(r"([一-鿿ァ-ヺーA-Za-z0-9]+(?:の[一-鿿ァ-ヺーA-Za-z0-9]+)?)(?:のみ(?!なら)|だけ(?!で(?:なく|は))|に限ら|に限定|に限る)")
#: Between the members of a source's list (甲系、乙系 / 甲・乙).
_LIST_SEP = "、・,，"


@lru_cache(maxsize=4096)
def exclusive_words(claim_text: str) -> tuple[str, ...]:
    """The words (two characters or more) a claim restricts its item to (甲類 and 会員 of 甲類の会員のみ)."""
    out: list[str] = []
    for m in _ONLY.finditer(claim_text):
        out += [w for w in re.split(r"の", m.group(1)) if len(w) >= 2]
    return tuple(dict.fromkeys(out))


def exclusive_conflict(claim_text: str, text: str) -> str | None:
    """``のみ ≠ 列挙`` when the unit lists a word the claim restricts its item to beside another member
    (甲類の会員のみ against 対象：甲類、乙類): the source names more than the claim's only one."""
    for w in exclusive_words(claim_text):
        for m in re.finditer(re.escape(w), text):
            # The member's own end (類 of 甲類 when the claim wrote 甲): up to one more character.
            end = m.end() + (1 if m.end() < len(text) and text[m.end()] not in _LIST_SEP and
                             m.end() + 1 < len(text) and text[m.end() + 1] in _LIST_SEP else 0)
            after = text[end : end + 1]
            before = text[m.start() - 1 : m.start()] if m.start() else ""
            if (after and after in _LIST_SEP and end + 1 < len(text) and text[end + 1] not in _LIST_SEP + " 　") or (
                    before and before in _LIST_SEP):
                return f"{w}のみ ≠ {text[max(0, m.start() - 6) : end + 6].strip()}"
    return None


#: A claim that something is finished (完了している, 締め切った, 終えた, 済み).
_DONE = lazy(r"完了|終了し|終え|終わっ|締め切っ|済み|済ん")
#: A source saying it is under way or still to come: a verbal noun with 中 (更新中, 募集中, 検討中), or 予定 / に向けて.
_UNDER_WAY = lazy(r"[一-鿿]{2}中(?![一-鿿])|予定|に向けて|に向け、")


def aspect_conflict(claim_text: str, text: str) -> str | None:
    """``完了 ≠ 更新中`` when the claim says its item is finished and the unit says it is under way or
    still to come (…の改修が完了している against …の改修に向けて、調整中). Only when the unit itself does
    not say it is finished."""
    done = _DONE.search(claim_text)
    if done is None or _DONE.search(text):
        return None
    m = _UNDER_WAY.search(text)
    return f"{done.group(0)} ≠ {m.group(0)}" if m else None


def direction_conflict(claim: Claim, spans: Sequence[TypedSpan], text: str) -> str | None:
    """``2012年より前 ≠ 2012年以降`` when the unit places the claim's item on the other side of the same
    date or event than the claim does (a before/after contradiction); else None."""
    for a, after, words in directions(claim.query.normalized, claim.values):
        for b, other, src in directions(text, spans):
            same = (compare_values(a, b) == "equal" if isinstance(a, TypedSpan) and isinstance(b, TypedSpan)
                    else a == b)
            if same and after != other:
                return f"{words} ≠ {src}"
    return None


def _within_open_range(v: TypedSpan, s: TypedSpan, open_dates: Sequence[tuple[TypedSpan, bool]]) -> bool:
    """Whether claim date ``v`` falls inside the open range source date ``s`` starts or ends (2024年 and
    2012年以降): the source then says nothing against it."""
    year_v = _date_parts(v.value)[0]
    year_s = _date_parts(s.value)[0]
    if not (year_v.isdigit() and year_s.isdigit()):
        return False
    return any(b is s and (int(year_v) >= int(year_s) if after else int(year_v) <= int(year_s))
               for b, after in open_dates)


#: A name with も after it (and its title: 甲総理も): the claim adds it to others, it does not name the only one.
_ADDITIVE = lazy(r"(?:氏|さん|様|[一-鿿]{1,4})?も(?![のっ])")


def _additive(text: str, v: TypedSpan, values: Sequence[TypedSpan] = ()) -> bool:
    """Whether name ``v`` is added to others by も (甲総理も出席した), itself or as one of a list of names the
    も ends (甲国と乙国も参加: both are added to the members the source lists)."""
    if v.kind not in _NAMES:
        return False
    cur: TypedSpan | None = v
    while cur is not None:
        if _ADDITIVE.match(text, cur.end):
            return True
        m = _LIST_JOIN.match(text, cur.end)
        cur = None if m is None else next((o for o in values if o.kind in _NAMES and o.start == m.end()), None)
    return False


def _year_of(v: TypedSpan, text: str, spans: Sequence[TypedSpan]) -> TypedSpan | None:
    """The date that opens a figure's label (令和8年度 of 令和8年度補正予算額 55億円), if any."""
    if v.kind not in ("money", "percent", "count", "number"):
        return None
    before = [s for s in spans if s.kind in _LABEL_STOPS and s.end <= v.start]
    last = max(before, key=lambda s: s.end, default=None)
    if last is None or last.kind != "date" or any(m in text[last.end : v.start] for m in "、。,，"):
        return None
    return last


def is_ordinal(text: str, s: TypedSpan) -> bool:
    """Whether a count span is an ordinal (第 before it: 第3回, 第 2 期; 目 after it: 2回目; or a first occurrence
    said in words: 初めて)."""
    return s.kind in ("count", "number") and (text[max(0, s.start - 2) : s.start].rstrip().endswith("第")
                                              or text[s.end : s.end + 1] == _ORDINAL_AFTER or is_first(s))


def _closest(v: TypedSpan, options: Sequence[TypedSpan]) -> TypedSpan:
    """The source value most like the claim's (same kind first, then the same unit; of names, the one ending
    alike: 乙大学丙研究所 for the claim's 甲大学丙研究所, not the first body of a list)."""
    return max(options, key=lambda s: (s.kind == v.kind, unit_of(s.value) == unit_of(v.value),
                                       _common_tail(v.text, s.text) if v.kind in _NAMES else 0))


def _common_tail(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` end with in common."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def unsupported_values(sentence: str, sources: Sequence[str], names: bool = True) -> list[TypedSpan]:
    """The values of ``sentence`` (amounts, dates, counts, names) that no text of ``sources`` states.

    Used on generated sentences: a figure the model wrote must be in the lines it cites.
    """
    from assistant.normalize import normalize_query
    from assistant.spans import extract_spans

    claim = [v for v in extract_spans(normalize_query(sentence), use_mecab=names)
             if v.kind in ("money", "percent", "count", "date", "person", "org")]
    source_spans = [sp for src in sources for sp in extract_spans(normalize_query(src), use_mecab=names)]
    return [v for v in claim if not any(compare_values(v, sp) == "equal" for sp in source_spans)]
