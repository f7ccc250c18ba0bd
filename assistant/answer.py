"""Extractive answers with numbered citations, and abstention.

From the top passages, every sentence/list item is scored against the question:
dense similarity (sentence vectors are stored in the index), IDF-weighted token
overlap (the BM25 vocabulary gives the IDF), and a cue for the question's type
(numbers with units, dates, reasons, names, list items). The best sentence is
the answer; close runners-up are added (at most three sentences, ~300
characters); a list question gathers the items of the block the best item sits
in. Each sentence becomes a numbered citation whose quote is the exact original
text of its lines. When even the best sentence is weakly supported the answer
abstains and lists the nearest passages under ``related``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.bm25 import TOKENIZERS
from assistant.chunking import Chunk
from assistant.errors import UsageError
from assistant.glossary import is_english
from assistant.messages import (
    ABSTAIN_MESSAGE,
    ABSTAIN_MESSAGE_EN,
    CITE_MARK,
    EN_LEAD,
    MISSING_LITERALS_NOTICE,
)
from assistant.normalize import display_text, starts_item

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.pipeline import Hit, Pipeline, SearchResult
    from assistant.store import LoadedIndex, SentenceTable

MAX_ANSWER_CHARS = 300
MAX_SENTENCES = 3
#: Passages whose sentences are candidates.
ANSWER_PASSAGES = 5

#: Question types and the cues that mark them (Japanese and English).
QTYPE_PATTERNS: dict[str, re.Pattern[str]] = {
    "number": re.compile(
        r"いくら|何円|金額|予算|費用|経費|何%|何％|割合|比率|分担|何名|何人|何社|何件|何回|何か国|何カ国|何機|何億|数は|規模"
        r"|how much|how many|budget|cost|percent|share|number of|amount",
        re.I,
    ),
    "date": re.compile(r"いつ|何年|何月|何日|時期|年度は|日付|when|what year|which year|what date|date", re.I),
    "why": re.compile(r"なぜ|何故|理由|目的|ねらい|狙い|意義|背景|why|purpose|reason|aim|goal", re.I),
    "list": re.compile(
        r"挙げ|すべて|全て|列挙|どのような|どんな|主な|何が|項目|分野|内容|構成|取組|施策"
        r"|list|what are|which .* (are|were)|what kinds|name the",
        re.I,
    ),
    "who": re.compile(
        r"誰|だれ|どこ|どの(企業|機関|組織|団体|国|大学|省)|何という|名称|会長|主査|主催|who|which (organi|company|agency|institut|country)|where|name",
        re.I,
    ),
}
_CUES: dict[str, re.Pattern[str]] = {
    "number": re.compile(r"\d[\d,.]*\s*(?:百万円|億円|兆円|万円|円|%|名|人|社|件|回|か国|カ国|極|年|年度|月|倍|基|機|団体)"),
    "date": re.compile(r"(?:\d{4}|令和\s*\d+|平成\s*\d+|R\d)\s*年|\d+\s*月\s*\d*\s*日?|年度"),
    "why": re.compile(r"ため|目的|から|ので|により|によって|必要|期待|ことで"),
    "list": re.compile(r"^(?:[・●○〇◆■◎※•\-]|[①-⑳]|\d{1,2}[.)．]|[(（]\d+[)）])"),
    "who": re.compile(r"株式会社|機構|大臣|会社|省|庁|大学|研究所|協議会|委員会|[氏様]|主査|会長|長官|首相|総理"),
}


def question_types(question: str) -> set[str]:
    """The question's types (number, date, why, list, who); may be empty."""
    return {name for name, pat in QTYPE_PATTERNS.items() if pat.search(question)}


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source: exact quote and its line span."""

    n: int
    doc: str
    title: str
    first_line: int
    last_line: int
    page: int | None
    quote: str
    score: float
    #: The passage the quote comes from (for context in the UI).
    passage_id: str = ""
    passage_first_line: int = 0
    passage_text: str = field(default="", repr=False)
    #: Page of ``last_line`` (PDFs; differs from ``page`` when the quote runs onto the
    #: next page). ``page`` and this are set from the corpus manifest by the Pipeline.
    page_last: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc": self.doc,
            "title": self.title,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "page": self.page,
            "page_last": self.page_last,
            "quote": self.quote,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What ``ask`` returns to the CLI, the app and the eval."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    related: list[Citation]
    retrieved: list[Hit]
    timings_ms: dict[str, float]
    mode: str = "extractive"
    notice: str | None = None
    support: float = 0.0
    evidence: Evidence | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "related": [c.to_json() for c in self.related],
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
            "answer_mode": self.mode,
            "support": round(self.support, 4),
        }
        if self.evidence is not None:
            d["evidence"] = self.evidence.to_json()
        if self.notice:
            d["notice"] = self.notice
        return d


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved passage, scored."""

    hit_rank: int
    chunk: Chunk
    sent_index: int  # global sentence index in the index
    start: int
    end: int
    text: str
    dense: float
    lexical: float
    cue: float
    score: float
    #: Position of the sentence in its passage and the best dense score of its neighbours.
    pos: int = 0
    context: float = 0.0
    cues: frozenset[str] = frozenset()
    row: int = -1  # passage row in the index


def _line_span(chunk: Chunk, start: int, end: int) -> tuple[int, int]:
    """1-based lines of document offsets [start, end) inside ``chunk``."""
    a, b = start - chunk.start, end - chunk.start
    first = chunk.first_line + chunk.text.count("\n", 0, a)
    last = first + chunk.text.count("\n", a, max(a, b - 1))
    return first, last


def make_citation(n: int, chunk: Chunk, start: int, end: int, score: float) -> Citation:
    """A citation of document offsets [start, end), which must lie inside ``chunk``."""
    first, last = _line_span(chunk, start, end)
    return Citation(
        n=n,
        doc=chunk.doc,
        title=chunk.title,
        first_line=first,
        last_line=last,
        page=chunk.page,
        quote=chunk.text[start - chunk.start : end - chunk.start],
        score=float(score),
        passage_id=chunk.id,
        passage_first_line=chunk.first_line,
        passage_text=chunk.text,
    )


def _idf(index: LoadedIndex, token: str) -> float:
    bm = index.bm25
    i = bm.vocab.get(token)
    df = 0 if i is None else int(bm.offsets[i + 1] - bm.offsets[i])
    return math.log(1 + (bm.n_docs - df + 0.5) / (df + 0.5))


def sentence_cues(sents: SentenceTable, si: int) -> frozenset[str]:
    """The answer-type cues a sentence carries (cached on the table: they never change)."""
    hit = sents.cue_cache.get(si)
    if hit is None:
        text = sents.texts[si]
        hit = frozenset(qt for qt, pat in _CUES.items() if pat.search(text))
        sents.cue_cache[si] = hit
    return hit


@dataclass(frozen=True, slots=True)
class Weights:
    """Sentence-scoring weights (chosen on the eval set; see eval/REPORT.md)."""

    dense: float = 1.0
    lexical: float = 0.1
    cue: float = 0.02
    #: Slides put a label and its value on adjacent lines: a sentence next to a
    #: strong match is likely the answer, so the neighbours' similarity counts too.
    context: float = 0.3
    rank: float = 0.02
    short_penalty: float = 0.08
    #: Runners-up within this score of the best join the answer.
    margin: float = 0.1


DEFAULT_WEIGHTS = Weights()


def score_candidates(
    pipeline: Pipeline, result: SearchResult, qtypes: set[str], weights: Weights = DEFAULT_WEIGHTS
) -> list[Candidate]:
    """Score every sentence of the top passages; best first."""
    index = pipeline.index()
    sents = index.sentences
    tokenize = TOKENIZERS[pipeline.settings.tokenizer]
    q_tokens = set(result.query_tokens or tokenize(result.normalized))
    q_idf = {t: _idf(index, t) for t in q_tokens}
    q_total = sum(q_idf.values()) or 1.0
    qvec = result.query_vector
    out: list[Candidate] = []
    for hit in result.hits[:ANSWER_PASSAGES]:
        idxs = list(sents.of_row(hit.row))
        if not idxs:
            continue
        dense = (
            np.asarray(sents.vectors[idxs[0] : idxs[-1] + 1] @ qvec, dtype=np.float32)
            if qvec is not None
            else np.zeros(len(idxs), np.float32)
        )
        for j, si in enumerate(idxs):
            text = sents.texts[si]
            toks = sents.tokens[si]
            lex = sum(v for t, v in q_idf.items() if t in toks) / q_total
            cues = sentence_cues(sents, si)
            cue = float(len(cues & qtypes))
            neighbours = [float(dense[x]) for x in (j - 1, j + 1) if 0 <= x < len(idxs)]
            context = max(neighbours) if neighbours else float(dense[j])
            short = 1.0 if len(text) < 8 else 0.0
            score = (
                weights.dense * float(dense[j])
                + weights.lexical * lex
                + weights.cue * cue
                + weights.context * context
                + weights.rank / hit.rank
                - weights.short_penalty * short
            )
            start, end = (int(x) for x in sents.spans[si])
            out.append(
                Candidate(hit.rank, hit.chunk, si, start, end, text, float(dense[j]), lex, cue, score,
                          j, context, cues, hit.row)
            )
    out.sort(key=lambda c: (-c.score, c.hit_rank, c.start))
    return out


def following_sentences(index: LoadedIndex, cand: Candidate, limit: int = 8) -> list[Candidate]:
    """The sentences after ``cand`` in document order, across passage boundaries.

    A list often starts at the end of one passage and continues in the next, so
    the walk goes on through the following passages of the same document
    (skipping their overlap with what was already read).
    """
    sents = index.sentences
    out: list[Candidate] = []
    last_end = cand.end
    row = cand.row
    while 0 <= row < index.size and len(out) < limit:
        chunk = index.chunks[row]
        if chunk.doc != cand.chunk.doc:
            break
        for pos, si in enumerate(sents.of_row(row)):
            start, end = (int(x) for x in sents.spans[si])
            if start < last_end:
                continue
            text = sents.texts[si]
            cues = sentence_cues(sents, si)
            out.append(Candidate(cand.hit_rank, chunk, si, start, end, text, 0.0, 0.0, 0.0, 0.0, pos, 0.0, cues, row))
            last_end = end
            if len(out) >= limit:
                break
        row += 1
    return out


def _list_block(index: LoadedIndex, best: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The list around ``best``: from the first item of its run of items (or from
    ``best`` when it is a heading or lead-in), forward in document order while
    the answer stays under the length limit and the items go on."""
    same = sorted((c for c in cands if c.chunk.id == best.chunk.id), key=lambda c: c.start)
    pos = next(i for i, c in enumerate(same) if c.sent_index == best.sent_index)
    lo = pos
    if starts_item(best.text):
        while lo - 1 >= 0 and starts_item(same[lo - 1].text):
            lo -= 1
    block = same[lo : pos + 1]
    total = sum(len(c.text) for c in block)
    items = sum(starts_item(c.text) for c in block)
    for c in following_sentences(index, best):
        is_item = starts_item(c.text)
        if items >= 2 and not is_item:
            break  # the list has ended
        if total + len(c.text) > MAX_ANSWER_CHARS:
            break
        block.append(c)
        total += len(c.text)
        items += is_item
    return block


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    """Drop candidates whose span repeats an earlier one (passages overlap)."""
    seen: set[object] = set()
    out = []
    for c in cands:
        # Slides repeat excerpts word for word: one copy is enough.
        keys = ((c.chunk.doc, c.start, c.end), c.text)
        if any(k in seen for k in keys):
            continue
        seen.update(keys)
        out.append(c)
    return out


#: Question types whose answer must contain a value the sentence can be checked for.
_VALUE_TYPES = ("number", "date", "who")


def select_sentences(
    index: LoadedIndex, cands: list[Candidate], qtypes: set[str], margin: float = DEFAULT_WEIGHTS.margin
) -> list[Candidate]:
    """The sentences that make the answer, best first.

    - list questions: the run of items around the best sentence (or following it,
      when the best is the list's heading or lead-in);
    - number/date/who questions whose best sentence has no such value: the next
      sentences of the passage up to the first that has one (a label line, then
      its value);
    - then runners-up within ``margin`` of the best score, up to three sentences
      and ~300 characters in all.
    """
    cands = _dedupe(cands)
    if not cands:
        return []
    best = cands[0]
    if "list" in qtypes:
        block = _list_block(index, best, cands)
        if len(block) > 1:
            return block
    chosen = [best]
    total = len(best.text)
    wanted = [t for t in _VALUE_TYPES if t in qtypes]
    if wanted and not (best.cues & set(wanted)):
        for c in following_sentences(index, best, limit=3):
            if total + len(c.text) > MAX_ANSWER_CHARS:
                break
            chosen.append(c)
            total += len(c.text)
            if c.cues & set(wanted):
                break
    for c in cands[1:]:
        if len(chosen) >= MAX_SENTENCES + 1 or c.score < best.score - margin:
            break
        if c in chosen or total + len(c.text) > MAX_ANSWER_CHARS or len(c.text) < 8:
            continue
        chosen.append(c)
        total += len(c.text)
    return _complete_labels(index, chosen)


def _complete_labels(index: LoadedIndex, chosen: list[Candidate]) -> list[Candidate]:
    """A chosen label line (``…分担(建設期):``) brings the lines that hold its value."""
    out: list[Candidate] = []
    total = sum(len(c.text) for c in chosen)
    taken = {c.sent_index for c in chosen}
    for c in chosen:
        out.append(c)
        if not c.text.rstrip().endswith((":", "：")):
            continue
        for nxt in following_sentences(index, c, limit=3):
            if nxt.sent_index in taken or total + len(nxt.text) > MAX_ANSWER_CHARS:
                break
            out.append(nxt)
            taken.add(nxt.sent_index)
            total += len(nxt.text)
            if nxt.cues & {"number", "date"}:
                break
    return out


#: At most this many numbered citations in one answer.
MAX_CITATIONS = 4


def _joinable(last: Candidate, c: Candidate) -> Chunk | None:
    """The passage that holds both sentences when only whitespace separates them."""
    if last.chunk.doc != c.chunk.doc or c.start < last.end:
        return None
    for chunk in (last.chunk, c.chunk):
        if chunk.start <= last.start and c.end <= chunk.end:
            if not chunk.text[last.end - chunk.start : c.start - chunk.start].strip():
                return chunk
    return None


def _group_citations(chosen: list[Candidate]) -> list[tuple[list[Candidate], Citation]]:
    """Sentences that follow each other in the document share one citation.

    Numbering follows the order of selection (best first); at most
    ``MAX_CITATIONS`` citations are kept.
    """
    groups: list[tuple[Chunk, list[Candidate]]] = []
    for c in chosen:
        if groups:
            host = _joinable(groups[-1][1][-1], c)
            if host is not None and host.start <= groups[-1][1][0].start:
                groups[-1] = (host, [*groups[-1][1], c])
                continue
        groups.append((c.chunk, [c]))
    out = []
    for n, (host, g) in enumerate(groups[:MAX_CITATIONS], start=1):
        cit = make_citation(n, host, g[0].start, g[-1].end, max(c.score for c in g))
        out.append((g, cit))
    return out


def passage_citations(cands: list[Candidate], limit: int = 3) -> list[Citation]:
    """One citation per passage, best passages first, each quoting its best sentence."""
    out: list[Citation] = []
    seen: set[str] = set()
    for c in cands:
        if c.chunk.id in seen:
            continue
        seen.add(c.chunk.id)
        out.append(make_citation(len(out) + 1, c.chunk, c.start, c.end, c.score))
        if len(out) >= limit:
            break
    return out


def related_citations(pipeline: Pipeline, result: SearchResult, limit: int = 3) -> list[Citation]:
    """The nearest passages, each cited by its best sentence (shown when abstaining)."""
    return passage_citations(_dedupe(score_candidates(pipeline, result, set())), limit)


def support_of(cands: list[Candidate]) -> float:
    """How well the best sentence supports a claim (used for citation strength)."""
    if not cands:
        return 0.0
    best = cands[0]
    return best.dense + 0.5 * best.lexical


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the abstention decision looks at."""

    dense: float | None  # best passage similarity (None in bm25-only mode)
    coverage: float  # IDF-weighted share of the question's subject nouns found in one top passage
    unknown: float  # IDF-weighted share of those nouns that the corpus never uses
    english: bool
    #: The question's literals (``question_literals``) that no answer passage contains.
    missing: tuple[str, ...] = ()
    #: English questions: how many of their glossary terms the corpus uses (-1: not known).
    terms: int = -1

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in
                (("dense", self.dense), ("coverage", self.coverage), ("unknown", self.unknown),
                 ("english", self.english), ("missing", list(self.missing)), ("terms", self.terms))}


_LITERAL_PATTERNS = (
    # A number with its counter or era: 令和7年度, 第1回 -> 1回, 3月22日 -> 3月, 22日.
    re.compile(r"(?:令和|平成|昭和)?\d+(?:\.\d+)?(?:年度|年|月|日|回|期|次|%|億|万)?"),
    # The unit a number question asks for: 何ユーロ, 何メガアンペア.
    re.compile(r"(?<=何)[ァ-ヴー]{2,}"),
    # A Latin-script name: STEP, LHD, JT-60SA.
    re.compile(r"[A-Za-z][A-Za-z0-9\-]+"),
)


def question_literals(question: str) -> list[str]:
    """The literals a (normalised, Japanese) question is pinned to, in order, without repeats."""
    found = [m.group() for pat in _LITERAL_PATTERNS for m in pat.finditer(question)]
    return list(dict.fromkeys(found))


def _squash(text: str) -> str:
    """Case, spaces and digit-group commas do not matter when looking for a literal."""
    return re.sub(r"[\s,，]", "", text).casefold()


def missing_literals(question: str, passages: Sequence[str]) -> tuple[str, ...]:
    """Literals of ``question`` that occur in none of ``passages`` (normalised texts).

    令和N and the slides' abbreviation RN (R5年度) match each other.
    """
    text = _squash(" ".join(passages))
    out = []
    for lit in question_literals(question):
        forms = {_squash(lit)}
        era = re.fullmatch(r"令和(\d+)(.*)", lit)
        if era:
            forms.add(_squash(f"R{era.group(1)}{era.group(2)}"))
        short = re.fullmatch(r"[Rr](\d+)", lit)
        if short:
            forms.add(f"令和{short.group(1)}")
        if not any(f in text for f in forms):
            out.append(lit)
    return tuple(out)


def gather_evidence(pipeline: Pipeline, result: SearchResult, english: bool) -> Evidence:
    """Similarity and subject-noun coverage of the retrieved passages."""
    index = pipeline.index()
    scores = [h.dense_score for h in result.hits[:ANSWER_PASSAGES] if h.dense_score is not None]
    dense = max(scores) if result.query_vector is not None and scores else None
    if english:
        # Nothing in the question maps to the documents' vocabulary (sourdough, weather): off-topic.
        from assistant.glossary import to_japanese_terms

        terms = TOKENIZERS[pipeline.settings.tokenizer](to_japanese_terms(result.query))
        known = {t for t in terms if t in index.bm25.vocab and not t.isdigit()}
        return Evidence(dense, 0.0, 0.0, english, terms=len(known))
    if pipeline.settings.tokenizer != "mecab":
        return Evidence(dense, 0.0, 0.0, english)
    missing = missing_literals(result.normalized, [h.chunk.search_text for h in result.hits[:ANSWER_PASSAGES]])
    from assistant.bm25 import mecab_content_nouns

    nouns = list(dict.fromkeys(mecab_content_nouns(result.normalized)))
    if not nouns:
        return Evidence(dense, 1.0, 0.0, english, missing)
    idf = {t: _idf(index, t) for t in nouns}
    total = sum(idf.values()) or 1.0
    unknown = sum(v for t, v in idf.items() if t not in index.bm25.vocab) / total
    sents = index.sentences
    coverage = 0.0
    for hit in result.hits[:ANSWER_PASSAGES]:
        toks: set[str] = set()
        for si in sents.of_row(hit.row):
            toks |= sents.tokens[si]
        coverage = max(coverage, sum(v for t, v in idf.items() if t in toks) / total)
    return Evidence(dense, coverage, unknown, english, missing)


def should_abstain(ev: Evidence, settings: Settings) -> bool:
    """The abstention rule (thresholds in ``Settings``).

    When most of a question's subject nouns never occur in the corpus it is
    phrased in other words than the documents, so only similarity can judge it;
    when they do occur but no retrieved passage holds them together, what is
    asked is not covered.
    """
    if ev.missing and settings.abstain_literals:
        return True
    lexical_gap = ev.coverage < settings.abstain_coverage and ev.unknown < settings.abstain_oov
    if ev.dense is None:  # bm25-only mode: the words are all there is to go by
        return not ev.english and lexical_gap
    if ev.english:
        return ev.terms == 0 or ev.dense < settings.abstain_dense_en
    if ev.dense < settings.abstain_dense_floor:
        return True  # off-topic: nothing in the documents is even close
    return lexical_gap and ev.dense < settings.abstain_dense


def _missing_notice(ev: Evidence, settings: Settings) -> str | None:
    if not (ev.missing and settings.abstain_literals):
        return None
    return MISSING_LITERALS_NOTICE.format(items="".join(f"「{x}」" for x in ev.missing))


def answer_question(pipeline: Pipeline, question: str, k: int | None = None, mode: str | None = None) -> Answer:
    """Retrieve, select sentences, cite; abstain when the support is below the threshold."""
    from assistant.validate import clean_query

    question = clean_query(question, "question")
    t0 = time.perf_counter()
    k = pipeline.settings.top_k if k is None else k
    if not 1 <= k <= 100:
        raise UsageError(f"-k must be between 1 and 100, got {k}")
    result = pipeline.search(question, k=max(k, ANSWER_PASSAGES), mode=mode)
    t1 = time.perf_counter()
    english = is_english(result.query)
    qtypes = question_types(result.query)
    cands = score_candidates(pipeline, result, qtypes)
    support = support_of(cands)
    evidence = gather_evidence(pipeline, result, english)
    timings = dict(result.timings_ms)
    timings["retrieve"] = (t1 - t0) * 1000
    abstain = not cands or should_abstain(evidence, pipeline.settings)
    if abstain:
        related = related_citations(pipeline, result)
        timings["answer"] = (time.perf_counter() - t1) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return Answer(
            question=result.query,
            answer=ABSTAIN_MESSAGE_EN if english else ABSTAIN_MESSAGE,
            abstained=True,
            citations=[],
            related=related,
            retrieved=result.hits,
            timings_ms=timings,
            support=support,
            evidence=evidence,
            notice=_missing_notice(evidence, pipeline.settings),
        )
    chosen = select_sentences(pipeline.index(), cands, qtypes)
    grouped = _group_citations(chosen)
    parts = []
    for group, cit in grouped:
        body = "".join(display_text(cit.quote) if len(group) > 1 else display_text(cit.quote) for _ in [0])
        parts.append(body + CITE_MARK.format(n=cit.n))
    text = "".join(parts)
    if english:
        titles = list(dict.fromkeys(c.title for _, c in grouped))
        text = EN_LEAD.format(title="「" + "」「".join(titles) + "」") + " " + text
    timings["answer"] = (time.perf_counter() - t1) * 1000
    timings["total"] = (time.perf_counter() - t0) * 1000
    return Answer(
        question=result.query,
        answer=text,
        abstained=False,
        citations=[c for _, c in grouped],
        related=[],
        retrieved=result.hits,
        timings_ms=timings,
        support=support,
        evidence=evidence,
    )
