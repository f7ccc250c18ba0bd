"""Candidate features: one function, used for training and for answering.

Each feature is a number about how a candidate relates to the analysed question:
similarity (its own, its neighbours', its passage's), IDF-weighted coverage of
the question's terms and of its focus (the asked attribute), whether it holds a
value of the expected type and unit, whether it is a recovered cell and whether
its label names the focus, list and reason cues, shape and position. The learned
scorer (``scorer.py``) weighs them; nothing here is fitted to a question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from assistant.lazyre import lazy, rx
from assistant.reader.candidates import Candidate
from assistant.reader.query import ASK_PATTERNS, VALUE_TYPES, Query
from assistant.spans import TYPE_KINDS, TypedSpan, agent_spans, relative_time_spans
from assistant.structure import Cell

FEATURES: tuple[str, ...] = (
    "dense", "dense_gap", "context", "passage_dense", "passage_score", "inv_rank",
    "lex", "lex_gap", "focus", "focus_label", "rare", "literal", "has_literals",
    "type_match", "type_match_x_focus", "unit_match", "value_type", "cell", "cell_table", "cell_kv", "cell_below",
    "cell_row", "item", "item_x_list", "reason_cue", "reason_cue_x_reason", "heading", "short", "log_len",
    "first", "novelty", "english", "english_dense", "type_kind_count",
    "lex_before", "focus_before", "literal_before", "n_terms_hit", "dense_rank", "lex_rank",
    "key_in_question", "unit_mismatch",
    "bigram_cov", "focus_chars",
    "heading_like", "lex_prev", "lex_idf2", "new_typed", "focus_whole",
    "lex_max", "lex_known", "kanji_unknown",
    "dense_adapt", "dense_adapt_gap",
)
F = {name: i for i, name in enumerate(FEATURES)}

#: A CJK ideograph right after the focus makes it part of a longer compound (主査 in 主査代理).
_IDEOGRAPH = rx(r"[\u3400-\u9fff]")
_REASON_CUE = rx(r"ため|目的|から|ので|により|によって|必要|期待|ことで|for |to |because")
_HEADING = rx(r"[:：]\s*$")
#: Slide titles and section heads: they restate a question's words and answer nothing.
_HEADING_LIKE = rx(r"^(?:【[^】]*】|[(（]参考[)）]|[〇○◆●■＜<#]|\d+[.．]\s?\S)|(?:について|の概要|[(（]案[)）]|の推進|の強化)$")


#: Spaces and commas, which ``squash`` drops (compiled once: ``rx`` keeps its program).
_SPACES_COMMAS = rx(r"[\s,，]")


def squash(text: str) -> str:
    """``text`` without spaces and commas, case-folded: how the reader compares a term with a line."""
    return _SPACES_COMMAS.sub("", text).casefold()


def focus_whole(focus: str, text: str) -> bool:
    """Whether ``focus`` occurs in ``text`` as a word of its own, not as the head of a longer compound.

    A roster that glues two rows names a role inside another (主査 in 主査代理, 会長 in 会長代行): the
    longer compound is another attribute. An ideograph after the match continues the compound.
    """
    start = text.find(focus)
    while start >= 0:
        end = start + len(focus)
        if end >= len(text) or not _IDEOGRAPH.match(text[end]):
            return True
        start = text.find(focus, start + 1)
    return False


def japanese_dates(literal: str) -> tuple[str, ...]:
    """How the documents write an English question's fiscal year (``fy2025``: 令和7年度, 2025年度, r7年度)."""
    m = re.fullmatch(r"fy(\d{4})", literal.casefold())
    if not m:
        return ()
    year = int(m.group(1))
    forms = [f"{year}年度"]
    if year >= 2019:
        forms += [f"令和{year - 2018}年度", f"r{year - 2018}年度"]
    return tuple(forms)


#: What may stand between a value and the bracket that holds its comparison figure, and inside
#: the bracket before that figure: nothing, or a label naming another period or a baseline
#: (48億円（前年度予算額 45億円）, 1,250百万円（980百万円)); not a part of the value (240人（うち学生75人）).
_TO_BRACKET = lazy(r"\s*[(（]\s*(?:[^()（）\d]{0,10}(?:前|昨|当初|比|実績)[^()（）\d]{0,10})?$")


def bracketed_comparison(cand: Candidate, span: TypedSpan) -> bool:
    """Whether ``span`` is the comparison figure in brackets after a value of its kind.

    Budget tables write this year's amount and, in brackets, the previous year's
    (1,250百万円（980百万円)); the bracket's own label says so at most once per table.
    """
    lead = cand.text[: span.start]
    m = _TO_BRACKET.search(lead)
    if not m:
        return False
    return any(s.kind == span.kind and s.end <= m.start() and not lead[s.end : m.start()].strip()
               for s in cand.spans)


#: The Japanese words of the previous-period cue (``ASKS``): an English question's derived terms
#: that are part of one name that cue too.
_PREVIOUS_WORDS = ("前年度", "前年", "昨年度", "昨年", "前期")
#: Kinds of figure a budget table compares with the previous period's in brackets.
_FIGURE_KINDS = frozenset({"money", "count", "number", "percent"})


def previous_terms(query: Query) -> list[str]:
    """The question's terms that only say it asks the previous period's figure (前, 年度 of 前年度の予算額).

    A budget table gives the previous year's amount in brackets after this year's (480百万円（310百万円)),
    never writing 前年度 on the row; a line that writes the word (a summary's 前年度予算額) then covered the
    question's rarest term and outranked the row the question names. A row holding such a bracketed
    figure states the cue as much as the word does (``featurize`` counts these terms as found in it)."""
    if "previous" not in query.asks:
        return []
    if query.english:
        return [t for t in query.terms if any(t in w for w in _PREVIOUS_WORDS)]
    m = ASK_PATTERNS["previous"].search(query.normalized)
    return [t for t in query.terms if m is not None and t in m.group(0)]


def states_previous(cand: Candidate) -> bool:
    """Whether ``cand`` gives a figure's comparison in brackets (this year's, then last year's)."""
    return any(s.kind in _FIGURE_KINDS and bracketed_comparison(cand, s) for s in cand.spans)


def cell_key(cell: Cell) -> str:
    """What a cell is about in its own words: a table cell's column, a row's key, a kv line's label."""
    parts = cell.label.split(" ")
    if cell.kind == "row":
        return parts[0]
    return parts[-1]


def coverage(terms: dict[str, float], tokens: frozenset[str] | set[str],
             synonyms: dict[str, dict[str, float]] | None = None) -> float:
    """IDF-weighted share of ``terms`` found in ``tokens`` (0 when there are no terms).

    A term matched only through one of its ``synonyms`` counts with that synonym's share.
    """
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    return sum(v * term_hit(t, tokens, synonyms) for t, v in terms.items()) / total


def term_hit(term: str, tokens: frozenset[str] | set[str], synonyms: dict[str, dict[str, float]] | None) -> float:
    """1.0 when ``term`` is in ``tokens``, else the best share of a synonym of it that is, else 0."""
    if term in tokens:
        return 1.0
    if synonyms and term in synonyms:
        return max((w for s, w in synonyms[term].items() if s in tokens), default=0.0)
    return 0.0


def span_matches(query: Query, span: TypedSpan) -> bool:
    """Whether a typed span is of the kind (and, for numbers, the unit) the question asks for."""
    kinds = TYPE_KINDS.get(query.answer_type)
    if not kinds or span.kind not in kinds:
        return False
    return True


def unit_matches(query: Query, span: TypedSpan) -> bool:
    """Whether a number span carries the unit the question asks for (``何名`` -> a count of 名)."""
    if not query.units:
        return False
    for u in query.units:
        if u in ("money", "percent"):
            if span.kind == u:
                return True
        elif span.kind == "count" and span.value.endswith(u):
            return True
    return False


#: Number questions that count things (いくつ, how many) are answered by a count: a share or an
#: amount on the same topic (3割以上 for "how many shelters") answers something else.
_COUNT_ASKED = rx(r"いくつ|何個|\bhow many\b", re.I)
#: Place questions that name a geographic unit (which country, 国はどこか) are answered by a place
#: name; an office or a company is a venue at best, never a country or a city.
_GEO_ASKED = rx(r"(?:国|都市|都道府県|県|州|地名|国名)(?:は|が)(?:どこ|何処)|(?:どの|どこの)(?:国|都市|県|州)"
                        r"|\b(?:which|what) (?:country|countries|city|cities|prefecture|state)\b", re.I)
_GEO_HEADS = ("国", "都市", "都道府県", "県", "州", "地名", "国名")
#: A place question asking for a city or a town: a country's name is one level too coarse.
_CITY_ASKED = rx(r"都市|市町村|(?:どの|どこの)(?:市|町|村)|\b(?:city|cities|town|towns)\b", re.I)


def place_fits(query: Query, span: TypedSpan) -> bool:
    """Whether ``span`` can answer ``query`` at the level of place it asks: a country does not answer
    a question asking which city (日本 for どこの都市); every other span fits."""
    if span.kind != "place" or query.answer_type != "place" or not _CITY_ASKED.search(query.normalized):
        return True
    from assistant.spans import is_country

    return not is_country(span.text)


def strict_kinds(query: Query) -> frozenset[str]:
    """The span kinds that answer ``query`` as asked, narrower than ``TYPE_KINDS`` where the question says more.

    A number question without a named unit that asks いくつ / how many takes a count (a question
    naming its unit is judged by ``unit_matches``: a table's bare numbers under a 億円 header are
    its money); a place question naming a country or a city takes place names only. Other types
    keep their ``TYPE_KINDS``; a question that is not a value question gets none.
    """
    kinds = TYPE_KINDS.get(query.answer_type, frozenset())
    if query.answer_type == "number" and not query.units and _COUNT_ASKED.search(query.normalized):
        return frozenset({"count", "number"})
    if query.answer_type == "place":
        focus = "".join(query.focus)
        if _GEO_ASKED.search(query.normalized) or (focus and focus.endswith(_GEO_HEADS)):
            return frozenset({"place"})
    return kinds


def scale_matches(query: Query, span: TypedSpan) -> bool:
    """Whether an amount is written in the scale the question asks for ("in millions of yen":
    ``12,000百万円``, not ``120億円``): such a question quotes a table whose caption gives that
    unit. True when no scale is asked."""
    return not query.scale or (span.kind == "money" and span.text.endswith(query.scale))


_BIGRAM_SKIP = rx(r"[\s・、。,.:：()（）「」『』【】]")


def char_bigrams(text: str) -> set[str]:
    """Character pairs of ``text`` without spaces and punctuation (compounds however they were split)."""
    t = _BIGRAM_SKIP.sub("", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def kanji_weights(words: Sequence[str], texts: Sequence[str]) -> dict[str, float]:
    """The ideographs of ``words`` with a weight each: how rare they are among ``texts`` (the lines
    of one question, ``log((n + 1) / (1 + lines holding it))``), so that a common one (会, 的) says little."""
    chars = dict.fromkeys(ch for w in words for ch in w if _IDEOGRAPH.match(ch))
    n = len(texts)
    return {ch: math.log((n + 1) / (1 + sum(ch in t for t in texts))) for ch in chars}


def set_adapted(X: np.ndarray, adapted: np.ndarray) -> None:
    """Write the learned similarity and its gap to the question's best into ``X``'s columns."""
    X[:, F["dense_adapt"]] = adapted
    X[:, F["dense_adapt_gap"]] = adapted - adapted.max() if len(adapted) else adapted


def kanji_share(weights: dict[str, float], text: str) -> float:
    """Weighted share of the ideographs in ``weights`` that ``text`` holds (0 when there are none)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for ch, w in weights.items() if ch in text) / total


#: The learned similarity starts as the embedder's cosine times this (``adapted_scores`` divides it
#: back out): a softmax over one question's candidates needs that spread to be trained at all.
ADAPTER_SCALE = 50.0


def adapted_scores(weights: np.ndarray | None, vectors: np.ndarray, cands: Sequence[Candidate],
                   qvec: np.ndarray | None) -> np.ndarray | None:
    """Each candidate's learned similarity to the question: ``sum_d w_d q_d v_d`` over the embedding's
    dimensions (the cosine reweighted per dimension, ``train.fit_adapter``), on the cosine's scale.

    ``vectors``: the index's sentence vectors (``Candidate.vec`` rows). None without weights or a
    question vector (a BM25-only search) or for another embedder's vectors (a model fitted on
    vectors of another size); 0 for a candidate with no sentence vector.
    """
    if weights is None or qvec is None or not len(cands) or len(weights) != len(qvec):
        return None
    P = adapter_inputs(vectors, cands, qvec)
    return None if P is None else learned_similarity(P, weights)


def learned_similarity(P: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The learned similarity of the candidates whose ``adapter_inputs`` are ``P``: what ``ask`` reads
    (``adapted_scores``) and what training writes into its rows (``train.adapted``), one computation."""
    return (P @ weights / ADAPTER_SCALE).astype(np.float32)


def adapter_inputs(vectors: np.ndarray, cands: Sequence[Candidate], qvec: np.ndarray | None) -> np.ndarray | None:
    """What the learned similarity is fitted on: each candidate's vector times the question's, per
    dimension (rows: candidates; a row's sum is the cosine). None without a question vector."""
    if qvec is None or not len(cands):
        return None
    rows = np.array([c.vec for c in cands], dtype=np.int64)
    P = np.zeros((len(cands), vectors.shape[1]), dtype=np.float32)
    have = rows >= 0
    if have.any():
        P[have] = np.asarray(vectors[rows[have]], dtype=np.float32) * np.asarray(qvec, np.float32)
    return P


def featurize(query: Query, cands: Sequence[Candidate], adapted: np.ndarray | None = None) -> np.ndarray:
    """The feature matrix of ``cands`` (rows) for ``query`` (columns: ``FEATURES``).

    Term coverage is computed for all candidates at once from a candidate × term hit
    matrix; the per-candidate loop only reads flags of the text. ``adapted``: the candidates'
    learned similarity (``adapted_scores``); without it (no adapter, or one fitted on another
    embedder's vectors) the cosine stands in, which is where the learned one starts from.
    """
    n = len(cands)
    X = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if not n:
        return X
    set_adapted(X, adapted if adapted is not None else np.array([c.dense for c in cands], dtype=np.float32))
    terms = list(query.terms)
    w = np.array([query.terms[t] for t in terms], dtype=np.float32)
    total, total2 = float(w.sum()), float((w * w).sum())
    fmask = np.array([t in query.focus for t in terms], dtype=bool)
    extra_focus = [t for t in query.focus if t not in query.terms]
    syn = query.synonyms
    hits = np.array([[term_hit(t, c.tokens, syn) for t in terms] for c in cands],
                    dtype=np.float32).reshape(n, len(terms))
    before = np.array([[term_hit(t, c.before, syn) for t in terms] for c in cands],
                      dtype=np.float32).reshape(n, len(terms))
    cue_cols = [terms.index(t) for t in previous_terms(query)]
    if cue_cols:
        # A bracketed previous-year figure (480百万円（310百万円)) states 前年度 without the word.
        rows = [i for i, c in enumerate(cands) if states_previous(c)]
        hits[np.ix_(rows, cue_cols)] = 1.0
    ctx = np.maximum(hits, before)
    lex = hits @ w / total if total > 0 else np.zeros(n, np.float32)
    dense = np.array([c.dense for c in cands], dtype=np.float32)
    X[:, F["dense"]] = dense
    X[:, F["dense_gap"]] = dense - dense.max()
    X[:, F["context"]] = [c.context for c in cands]
    X[:, F["passage_dense"]] = [c.passage_dense for c in cands]
    X[:, F["passage_score"]] = [c.passage_score for c in cands]
    X[:, F["inv_rank"]] = [1.0 / c.hit_rank for c in cands]
    X[:, F["lex"]] = lex
    X[:, F["lex_gap"]] = lex - lex.max()
    # How well the question's words match any candidate: a question worded apart from the documents
    # matches none well, and its answer is found by meaning (the trees learn the interaction).
    X[:, F["lex_max"]] = lex.max()
    # The same coverage over the words the corpus uses: a paraphrase's own words (勉強会, 建てる) weigh
    # the most by IDF and no line holds them, which squeezes ``lex`` of every line towards 0.
    known = np.array([t not in query.unknown for t in terms], dtype=bool)
    wk = np.where(known, w, 0.0)
    if wk.sum() > 0:
        X[:, F["lex_known"]] = hits @ wk / float(wk.sum())
    # An unknown word shares its ideographs with the documents' word for it (建てる / 建設, 集まる /
    # 集結, 開く / 開催): the rarer among the lines those ideographs are, the more a line holding them
    # says. The trees weigh it (it is noisy: 会 of 勉強会 is in many lines).
    kweights = kanji_weights([t for t in terms if t in query.unknown], [c.text for c in cands])
    if kweights:
        X[:, F["kanji_unknown"]] = [kanji_share(kweights, c.text) for c in cands]
    if total > 0:
        X[:, F["lex_before"]] = ctx @ w / total
        X[:, F["lex_prev"]] = before @ w / total
        X[:, F["lex_idf2"]] = hits @ (w * w) / total2
        X[:, F["rare"]] = hits[:, int(np.argmax(w))]
    X[:, F["n_terms_hit"]] = np.minimum(hits.sum(axis=1), 6) / 6
    if fmask.any() or extra_focus:
        fw = np.where(fmask, w, 0.0)
        ftotal = float(fw.sum()) + len(extra_focus)
        extra = np.array([[term_hit(t, c.tokens, syn) for t in extra_focus] for c in cands],
                         dtype=np.float32).reshape(n, -1)
        extra_ctx = np.array([[term_hit(t, c.before, syn) for t in extra_focus] for c in cands],
                             dtype=np.float32).reshape(n, -1)
        fcov = (hits @ fw + extra.sum(axis=1)) / ftotal
        X[:, F["focus"]] = fcov
        X[:, F["focus_before"]] = (ctx @ fw + np.maximum(extra, extra_ctx).sum(axis=1)) / ftotal
    dense_rank = np.argsort(np.argsort(-dense, kind="stable"), kind="stable")
    lex_rank = np.argsort(np.argsort(-lex, kind="stable"), kind="stable")
    X[:, F["dense_rank"]] = 1.0 / (1 + dense_rank)
    X[:, F["lex_rank"]] = 1.0 / (1 + lex_rank)
    X[:, F["value_type"]] = float(query.answer_type in VALUE_TYPES)
    X[:, F["english"]] = float(query.english)
    X[:, F["english_dense"]] = float(query.english) * dense
    literals = [squash(x) for x in query.literals]
    # A list's items of a kind (誰と誰: people) are values of that kind, line by line.
    kinds = TYPE_KINDS.get(query.item_type or query.answer_type, frozenset())
    # Character bigrams see compounds however the tokenizer split them (受講対象者 / 受講 対象 者).
    q_text = query.normalized
    q_bi = char_bigrams(q_text) if not query.english else set()
    # The focus as written first; a form with a synonym in it counts as found too (催し -> イベント).
    focus_forms = [f for f in query.focus_forms() if len(f) >= 2]
    is_list, is_reason = query.answer_type == "list", query.answer_type == "reason"
    is_date = query.answer_type == "date"
    focus_set = set(query.focus)
    for i, c in enumerate(cands):
        row = X[i]
        text = c.text
        if c.cell is not None:
            row[F["cell"]] = 1.0
            row[F["cell_" + c.cell.kind]] = 1.0
            key = cell_key(c.cell)
            row[F["key_in_question"]] = float(bool(key) and key in q_text)
            if focus_set:
                label = c.cell.label
                row[F["focus_label"]] = sum(t in label for t in focus_set) / len(focus_set)
        if literals:
            if query.english:  # its dates are canonical values (FY2027): the text says 令和9年度
                values = [sp.value.casefold() for sp in c.spans if sp.kind == "date"]
                # A cell's spans are its value's: the year its column names (令和7年度予算案) is in its text.
                squashed = squash(text) if c.cell is not None else ""
                numbered = squash(text)
                lit = sum(any(x in v for v in values) or any(f in squashed for f in japanese_dates(x))
                          or (x.startswith("第") and re.search(re.escape(x) + r"(?!\d)", numbered) is not None)
                          for x in literals) / len(literals)
            else:
                squashed = squash(text)
                lit = sum(x in squashed for x in literals) / len(literals)
            row[F["literal"]] = lit
            row[F["has_literals"]] = 1.0
            row[F["literal_before"]] = max(lit, float(any(x in c.before for x in query.literals)))
        typed = [s for s in c.spans if s.kind in kinds]
        if not typed and is_date:
            typed = relative_time_spans(text)  # …来年度末に公表予定: the when of a line without a date
        if not typed and query.answer_type == "person":
            typed = agent_spans(text)  # 広報コーディネーターを置く: who, named by what they do
        if typed:
            row[F["type_match"]] = 1.0
            row[F["type_match_x_focus"]] = X[i, F["focus"]]
            row[F["type_kind_count"]] = min(len(typed), 5) / 5
            row[F["new_typed"]] = float(any(s.text not in q_text for s in typed))
        if query.units:
            um = any(unit_matches(query, s) for s in c.spans)
            row[F["unit_match"]] = float(um)
            row[F["unit_mismatch"]] = float(bool(typed) and not um)
        item = c.is_item
        row[F["item"]] = float(item)
        row[F["item_x_list"]] = float(item and is_list)
        cue = bool(_REASON_CUE.search(text))
        row[F["reason_cue"]] = float(cue)
        row[F["reason_cue_x_reason"]] = float(cue and is_reason)
        if c.cell is None:
            row[F["heading"]] = float(bool(_HEADING.search(text)))
            row[F["heading_like"]] = float(len(text) < 40 and "。" not in text and bool(_HEADING_LIKE.search(text)))
        row[F["short"]] = float(len(text) < 10)
        row[F["log_len"]] = math.log1p(len(text)) / 5
        row[F["first"]] = float(c.pos == 0)
        if c.tokens:
            row[F["novelty"]] = sum(t not in query.terms for t in c.tokens) / len(c.tokens)
        if q_bi:
            row[F["bigram_cov"]] = len(q_bi & char_bigrams(text)) / len(q_bi)
        form = next((f for f in focus_forms if f in text), None)
        if form is not None:
            row[F["focus_chars"]] = 1.0
            row[F["focus_whole"]] = float(focus_whole(form, text))
    return X
