"""Abstention from the reader's own evidence.

A question is answered only when the reader found a candidate it believes: the
abstention model (small trees fitted with the candidate scorer) looks
at the best candidate's probability, whether a candidate of the expected type
covers the focus, how much of the question the best passage covers, whether the
question's words are known to the corpus at all, and how similar the passages
are; and whether the best candidate's own passage names the asked attribute,
holds a value in the asked unit and of the asked kind, and states the qualifier
that picks the asked instance (1か所当たり, 前回). An unanswerable question's
passages are on its topic, and the best of them states some other figure, the
total or the current instance. A literal the question is pinned to (a year,
第N回, a unit, a Latin name) that no candidate passage contains is a hard stop,
reported to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from assistant.lazyre import lazy, rx
from assistant.reader.candidates import Candidate
from assistant.reader.features import F, coverage, place_fits, squash, strict_kinds, unit_matches
from assistant.reader.query import JA_ORG_KINDS, VALUE_TYPES, Query
from assistant.spans import agent_spans

ABSTAIN_FEATURES: tuple[str, ...] = (
    "best_logit", "best_prob", "margin", "best_typed_prob", "best_focus", "best_lex", "passage_cov",
    "unknown", "best_dense", "max_passage_dense", "value_type", "english", "has_focus", "n_terms",
    "translated", "focus_found", "unit_found", "focus_near", "unit_best", "type_best", "qualifier_near",
    "answer_logit",
)
A = {name: i for i, name in enumerate(ABSTAIN_FEATURES)}
#: The columns the abstention model learns from: evidence that the best candidate answers (the
#: ranker's score and margin, the expected type, unit, focus and qualifier found, coverage and
#: similarity), and two priors. ``value_type``: the unanswerable questions of every set written so
#: far ask for a value (a figure, date or name) the documents do not state, 92-94% of them, against
#: 40-50% of the answerable ones. ``english``: the evidence of an English question is weaker by
#: construction (the ranker scores its translated terms lower, its focus features are vacuous), so
#: without this offset answerable English questions were abstained on four times as often (7% vs
#: 2% out of fold) and an on-topic one fell under the cut-off.
#: Left out, as habits of how the training questions were written rather than evidence:
#: ``translated`` (almost always 1 in training; a learned weight on it scored a new corpus's English
#: questions as certainly answerable; the off-topic guard, ``shape.off_topic``, judges it),
#: ``unknown`` (paraphrase items are written with no word of their passage, so words the corpus
#: never uses had learned to mean *answerable*; in the gold set and on the second corpus they go
#: with the unanswerable questions), ``n_terms`` (question length) and ``has_focus``.
#: ``answer_logit``: the answer classifier's (``train.fit_answer``) highest score among the
#: candidates: how likely the likeliest line is to state the answer, on one scale for every
#: question. The ranker's own score only orders the lines of one question (lambdarank: its scale
#: says nothing across questions), and it never saw an unanswerable question; the classifier is
#: fitted on the lines of both, each line of an unanswerable question a negative. Out of fold on the
#: training pool its score alone separated the answerable questions from the others with an AUC of
#: 0.77, the ranker's best score 0.60.
MODEL_FEATURES: tuple[str, ...] = (
    "best_logit", "best_prob", "margin", "best_typed_prob", "best_focus", "best_lex", "passage_cov",
    "best_dense", "max_passage_dense", "focus_found", "unit_found", "focus_near", "unit_best", "type_best",
    "qualifier_near", "value_type", "english", "answer_logit",
)
#: Model features whose weight is fitted with a lower bound of zero: each is oriented so that more
#: of it means more reason to answer, and a negative weight on one (more similar passages, a more
#: probable best candidate: less answerable) is a correlation among them the fit exploited on the
#: training questions, not evidence. Unconstrained, the weights of the collinear score features
#: took opposite signs (best_logit +1.4, best_prob -0.5), and the decision rode on the raw logit's
#: scale, which moves with every refit of the ranker.
MONOTONE: frozenset[str] = frozenset(MODEL_FEATURES) - {"value_type", "english"}
#: The features the abstention trees may use either way: how much of the question the best line
#: and the best passage cover says something only beside the other evidence. A question whose
#: words the passages all hold, and whose best line still does not look like an answer, asks
#: what they do not state; a question in other words than the documents' (a paraphrase) covers
#: little and is answerable all the same. Grouped CV over the training pool: AUC 0.910 for the
#: logistic regression, whether or not these two are bounded (bounded at zero, a negative weight
#: on coverage is all it can add), 0.909 for trees bounded on every feature, 0.915-0.918 over four
#: fold splits for trees with these two free.
TREE_FREE: frozenset[str] = frozenset({"best_lex", "passage_cov"})


def model_columns(names: Sequence[str]) -> list[int]:
    """Indices in an evidence row of the features a fitted abstention model was given, in its order."""
    return [A[n] for n in names]


#: An ordinal asked (第何号, 第何回): what the documents number with that counter, 第3号, 第十回.
_ORDINAL_ASKED = rx(r"第何([一-鿿])")
_ORDINAL_STATED = r"第[0-9０-９一二三四五六七八九十百]+"
#: A web address asked for by the word URL: the documents write the address, not the word.
_URL_STATED = lazy(r"https?://|www\.|[a-z0-9-]+\.(?:go\.jp|ac\.jp|or\.jp|co\.jp|gov|org|com|int)\b", re.I)


def _latin_found(lit: str, text: str) -> bool:
    """A literal of Latin letters only (MA, IIS) occurs as a word of its own in ``text`` (casefolded,
    spaces kept): not inside a longer Latin word (``ma`` of plasma, ``iis`` of a name)."""
    return re.search(rf"(?<![a-z]){re.escape(lit.casefold())}(?![a-z])", text) is not None


def missing_literals(query: Query, passages: Sequence[str],
                     spelled_out: Callable[[str], Sequence[str]] | None = None) -> tuple[str, ...]:
    """Literals of the question that occur in none of ``passages`` (normalised texts).

    令和N and the slides' abbreviation RN (R7年度) match each other, and an English abbreviation
    matches any of the words ``spelled_out`` gives for it (``crosslingual.spelled_out``). A literal
    of Latin letters only must stand as a word of its own (the unit MA is not in "plasma"); the
    word URL is met by any web address. An ordinal asked (``第何号``) is a literal too, met by a
    number with that counter (第3号); none stated, it is reported as 第N号.
    """
    joined = " ".join(passages)
    text = squash(joined)
    spaced = joined.casefold()
    out = []
    for m in _ORDINAL_ASKED.finditer(query.normalized):
        if not re.search(_ORDINAL_STATED + re.escape(m.group(1)), joined):
            out.append(f"第N{m.group(1)}")
    for lit in query.literals:
        if lit.casefold() == "url" and _URL_STATED.search(joined):
            continue
        if re.fullmatch(r"[A-Za-z]+", lit) and not _latin_found(lit, spaced) \
                and not (spelled_out is not None
                         and any(squash(w) in text for w in spelled_out(lit) if len(w) >= 2)):
            out.append(lit)
            continue
        if spelled_out is not None and squash(lit) not in text \
                and any(squash(w) in text for w in spelled_out(lit) if len(w) >= 2):
            continue
        forms = {squash(lit)}
        era = re.fullmatch(r"令和(\d+)(.*)", lit)
        if era:
            forms.add(squash(f"R{era.group(1)}{era.group(2)}"))
        short = re.fullmatch(r"[Rr](\d+)", lit)
        if short:
            forms.add(f"令和{short.group(1)}")
        if not any(f in text for f in forms):
            out.append(lit)
    return tuple(out)


def unknown_share(terms: dict[str, float], synonyms: dict[str, dict[str, float]], df: Callable[[str], int],
                  passage_tokens: Sequence[frozenset[str]] = ()) -> float:
    """IDF-weighted share of ``terms`` the corpus never uses, each less the share its best synonym
    earns when that synonym occurs in the retrieved passages.

    A word of everyday speech whose corpus synonym the passages use (開く -> 開催 in a passage on
    a 祝賀会の開催: 0.5) counts half unknown: an on-topic question worded apart from the documents
    is not off topic (with every such word counted unknown, the off-topic guard, ``shape.off_topic``,
    fired on four answerable paraphrases of the training pool for one unanswerable question). The
    synonym table also maps an off-topic word somewhere (天気 -> 素子): a synonym the passages do
    not use discounts nothing.
    """
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    seen = frozenset().union(*passage_tokens) if passage_tokens else frozenset()
    return sum(w * (1.0 - max((share for syn, share in synonyms.get(t, {}).items() if syn in seen), default=0.0))
               for t, w in terms.items() if df(t) == 0) / total


def abstain_features(
    query: Query,
    cands: Sequence[Candidate],
    X: np.ndarray,
    logits: np.ndarray,
    passage_tokens: Sequence[frozenset[str]],
    passage_dense: Sequence[float],
    df: Callable[[str], int],
    translated: float = 1.0,
    passage_texts: Sequence[str] = (),
    answer_logits: np.ndarray | None = None,
) -> np.ndarray:
    """One row of question-level evidence (``ABSTAIN_FEATURES``).

    ``answer_logits``: the answer classifier's score of each candidate (``answer_logit`` is the
    highest, clipped to +-``ANSWER_LOGIT_CLIP``; with no candidates, or no classifier, the floor).
    """
    v = np.zeros(len(ABSTAIN_FEATURES), dtype=np.float32)
    terms = query.terms
    if len(cands):
        order = np.argsort(-logits)
        b = int(order[0])
        v[A["best_logit"]] = float(logits[b])
        v[A["best_prob"]] = float(1 / (1 + np.exp(-logits[b])))
        v[A["margin"]] = float(logits[b] - logits[order[1]]) if len(order) > 1 else 0.0
        typed = X[:, F["type_match"]] > 0
        if query.answer_type in VALUE_TYPES:
            v[A["best_typed_prob"]] = float(1 / (1 + np.exp(-logits[typed].max()))) if typed.any() else 0.0
        else:
            v[A["best_typed_prob"]] = v[A["best_prob"]]
        v[A["best_focus"]] = float(X[b, F["focus"]])
        v[A["best_lex"]] = float(X[b, F["lex"]])
        v[A["best_dense"]] = float(X[b, F["dense"]])
        # The passage the answer would come from names the asked attribute (not only some other passage).
        v[A["focus_near"]] = focus_found(query, [cands[b].chunk.search_text])
        # The answer's own candidate holds a value in the asked unit (a count does not answer いくら).
        v[A["unit_best"]] = float(not query.units or any(unit_matches(query, s) for s in cands[b].spans))
        # ... and a value of the kind asked at all (a share does not count shelters, an office is no country).
        kinds = strict_kinds(query)
        v[A["type_best"]] = float(not kinds or any(s.kind in kinds and place_fits(query, s) for s in cands[b].spans)
                                  or (query.answer_type == "person" and bool(agent_spans(cands[b].text))))
        # ... and states the qualifier that picks the asked instance (1か所当たり, 前回), when there is one.
        v[A["qualifier_near"]] = qualifier_found(query, cands[b].chunk.search_text)
    v[A["answer_logit"]] = answer_logit(answer_logits)
    v[A["passage_cov"]] = max((coverage(terms, toks, query.synonyms) for toks in passage_tokens), default=0.0)
    v[A["unknown"]] = unknown_share(terms, query.synonyms, df, passage_tokens)
    v[A["max_passage_dense"]] = max(passage_dense, default=0.0)
    v[A["value_type"]] = float(query.answer_type in VALUE_TYPES)
    v[A["english"]] = float(query.english)
    # A Japanese question's focus is its own words; an English one's is translated (and so
    # says less about whether the documents answer it).
    v[A["has_focus"]] = float(bool(query.focus) and not query.english)
    v[A["n_terms"]] = min(len(terms), 10) / 10
    # An English question whose words the corpus's term table cannot translate is about
    # something the documents do not discuss (1.0 for Japanese questions).
    v[A["translated"]] = translated
    v[A["focus_found"]] = focus_found(query, passage_texts)
    # A question that names its unit (何分, how many ports) is answered only by a value in that
    # unit: passages on its topic that hold none (costs but no count) do not answer it.
    v[A["unit_found"]] = float(not query.units or any(unit_matches(query, s) for c in cands for s in c.spans))
    return v


#: The answer classifier's score is a log-odds; beyond this either way it says no more.
ANSWER_LOGIT_CLIP = 8.0


def answer_logit(logits: np.ndarray | None) -> float:
    """The highest of the answer classifier's candidate scores, clipped (the floor when there are none)."""
    if logits is None or not len(logits):
        return -ANSWER_LOGIT_CLIP
    return float(np.clip(np.max(logits), -ANSWER_LOGIT_CLIP, ANSWER_LOGIT_CLIP))


#: A per-unit figure asked for (1か所当たり, 1人あたり, per station) and how a passage states one
#: (in words, or as a value over a unit: 100円/Nm3).
_PER_UNIT_ASKED = rx(r"当たり|あたり|につき|\bper\b", re.I)
_PER_UNIT_STATED = rx(r"当たり|あたり|につき|単価|\bper\b|\d[\d,.]*[^\s\d/]{1,3}/[^\s\d/]", re.I)
#: The previous or next instance of something asked for (前回の改定, 次回の会議): the documents
#: state the current one, and a passage speaks of the asked one only when it says so.
_RELATIVE = rx(r"前回|次回|次期|来年|翌年|次の(?=[一-鿿ァ-ヺ]{1,8}(?:は|が|を|に|の))(?!通り)")
#: How a passage states the next instance of something asked with 次の (次の会合): 次回, 次期, 次の
#: itself, or a plan (予定). A passage on an earlier instance (the last meeting's date) says none;
#: nor does 今後 or に向け (開発に向けた協調: every policy passage is aimed at something). Only a value
#: question's 次の is judged: 次の審査に備え、何が必要か asks what is needed, not which instance.
_NEXT_STATED = ("次回", "次期", "次の", "予定")
#: How a budget document states the next fiscal year's figure: the proposal for a named year
#: (令和N年度予算額(案), 予算案, 概算要求), or a table's amount followed by the previous year's in
#: brackets (480百万円(310百万円)). Written before the year it is for, that is "next year's" budget.
_NEXT_YEAR_BUDGET = rx(r"予算額?\s*[(（]案[)）]|予算案|概算要求"
                               r"|\d[\d,.]*\s*[千百万億兆]*円\s*[(（]\s*\d[\d,.]*\s*[千百万億兆]*円")


def qualifier_found(query: Query, passage: str) -> float:
    """1.0 unless the question picks one instance of its attribute and ``passage`` never says which.

    Two kinds of qualifier: a per-unit one (``1か所当たりの整備費用``), met by any per-unit
    statement of the passage, and a relative one (``前回``, ``次回``), met by the same word (``次の会合``
    by 次回, 次期, 次の or 予定: ``_NEXT_STATED``), or for
    next year's budget (``来年度``) by a budget proposal or a table of this year's and last year's
    amounts (``_NEXT_YEAR_BUDGET``). The passages of such an unanswerable question state the total
    or the current instance.
    """
    text = query.normalized
    found = 1.0
    if _PER_UNIT_ASKED.search(text) and not _PER_UNIT_STATED.search(passage):
        found = 0.0
    for word in dict.fromkeys(m.group() for m in _RELATIVE.finditer(text)):
        if word in passage or (word == "次の" and (query.answer_type not in VALUE_TYPES
                                                   or any(w in passage for w in _NEXT_STATED))):
            continue
        # 来年度の予算: the documents name the year (令和9年度予算額(案)), never "next year".
        if f"{word}度" in text and word in ("来年", "翌年") and _NEXT_YEAR_BUDGET.search(passage):
            continue
        found = 0.0
    return found


def focus_found(query: Query, passage_texts: Sequence[str]) -> float:
    """1.0 when the asked attribute (the focus compound, ``人件費``) occurs as written in a passage.

    The passages of an unanswerable question are often about its topic but never name what
    it asks for (a budget's personnel costs, a grant's per-region cap): its terms are covered
    one by one, its compound is not. English questions (their focus is translated word by
    word, not a compound of the documents) and questions without a focus count as found.
    """
    compound = squash("".join(query.focus))
    if query.english or len(compound) < 2 or not passage_texts:
        return 1.0
    # A form with a synonym of a word the corpus never uses counts (手助け -> 支援): asked in
    # everyday words, the attribute is named in the documents' own.
    forms = [squash(f) for f in query.focus_forms()]
    texts = [squash(t) for t in passage_texts]
    if any(f in t for f in forms for t in texts):
        return 1.0
    # A kind of body asked (どの省庁, 参加企業は): the documents name the bodies (甲省、乙株式会社).
    heads = JA_ORG_KINDS.get(compound, ())
    named = lazy(r"[一-鿿ァ-ヺーA-Za-z]{1,16}(?:" + "|".join(heads) + r")(?![一-鿿ァ-ヺー])") if heads else None
    return float(named is not None and any(named.search(t) for t in texts))
