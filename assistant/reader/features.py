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

from assistant.reader.candidates import Candidate
from assistant.reader.query import VALUE_TYPES, Query
from assistant.spans import TYPE_KINDS, TypedSpan
from assistant.structure import Cell

FEATURES: tuple[str, ...] = (
    "dense", "dense_gap", "context", "passage_dense", "passage_score", "inv_rank",
    "lex", "lex_gap", "focus", "focus_label", "rare", "literal", "has_literals",
    "type_match", "type_match_x_focus", "unit_match", "value_type", "cell", "cell_table", "cell_kv", "cell_below",
    "cell_row", "item", "item_x_list", "reason_cue", "reason_cue_x_reason", "heading", "short", "log_len",
    "first", "novelty", "english", "english_dense", "type_kind_count",
    "lex_before", "focus_before", "literal_before", "n_terms_hit", "dense_rank", "lex_rank",
    "key_in_question", "unit_mismatch",
)
F = {name: i for i, name in enumerate(FEATURES)}

_REASON_CUE = re.compile(r"ため|目的|から|ので|により|によって|必要|期待|ことで|for |to |because")
_HEADING = re.compile(r"[:：]\s*$")


def _squash(text: str) -> str:
    return re.sub(r"[\s,，]", "", text).casefold()


def cell_key(cell: Cell) -> str:
    """What a cell is about in its own words: a table cell's column, a row's key, a kv line's label."""
    parts = cell.label.split(" ")
    if cell.kind == "row":
        return parts[0]
    return parts[-1]


def coverage(terms: dict[str, float], tokens: frozenset[str] | set[str]) -> float:
    """IDF-weighted share of ``terms`` found in ``tokens`` (0 when there are no terms)."""
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    return sum(v for t, v in terms.items() if t in tokens) / total


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


def featurize(query: Query, cands: Sequence[Candidate]) -> np.ndarray:
    """The feature matrix of ``cands`` (rows) for ``query`` (columns: ``FEATURES``)."""
    n = len(cands)
    X = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if not n:
        return X
    terms = query.terms
    focus = {t: terms.get(t, 1.0) for t in query.focus}
    rare = max(terms, key=terms.get) if terms else None  # type: ignore[arg-type]
    literals = [_squash(x) for x in query.literals]
    value_type = query.answer_type in VALUE_TYPES
    kinds = TYPE_KINDS.get(query.answer_type, frozenset())
    lex = np.array([coverage(terms, c.tokens) for c in cands], dtype=np.float32)
    dense = np.array([c.dense for c in cands], dtype=np.float32)
    dense_rank = np.argsort(np.argsort(-dense, kind="stable"), kind="stable")
    lex_rank = np.argsort(np.argsort(-lex, kind="stable"), kind="stable")
    for i, c in enumerate(cands):
        row = X[i]
        row[F["dense"]] = c.dense
        row[F["dense_gap"]] = c.dense - float(dense.max())
        row[F["context"]] = c.context
        row[F["passage_dense"]] = c.passage_dense
        row[F["passage_score"]] = c.passage_score
        row[F["inv_rank"]] = 1.0 / c.hit_rank
        row[F["lex"]] = lex[i]
        row[F["lex_gap"]] = lex[i] - float(lex.max())
        fcov = coverage(focus, c.tokens) if focus else 0.0
        row[F["focus"]] = fcov
        if c.cell is not None and focus:
            label_tokens = frozenset(t for t in c.tokens if t in c.cell.label.lower() or t in c.cell.label)
            row[F["focus_label"]] = coverage(focus, label_tokens)
        row[F["rare"]] = float(rare is not None and rare in c.tokens)
        if literals:
            text = _squash(c.text)
            row[F["literal"]] = sum(x in text for x in literals) / len(literals)
            row[F["has_literals"]] = 1.0
        typed = [s for s in c.spans if s.kind in kinds]
        row[F["type_match"]] = float(bool(typed))
        row[F["type_match_x_focus"]] = float(bool(typed)) * fcov
        row[F["type_kind_count"]] = min(len(typed), 5) / 5
        row[F["unit_match"]] = float(any(unit_matches(query, s) for s in c.spans))
        row[F["value_type"]] = float(value_type)
        if c.cell is not None:
            row[F["cell"]] = 1.0
            row[F["cell_" + c.cell.kind]] = 1.0
        item = float(c.is_item)
        row[F["item"]] = item
        row[F["item_x_list"]] = item * float(query.answer_type == "list")
        cue = float(bool(_REASON_CUE.search(c.text)))
        row[F["reason_cue"]] = cue
        row[F["reason_cue_x_reason"]] = cue * float(query.answer_type == "reason")
        row[F["heading"]] = float(bool(_HEADING.search(c.text)) and c.cell is None)
        row[F["short"]] = float(len(c.text) < 10)
        row[F["log_len"]] = math.log1p(len(c.text)) / 5
        row[F["first"]] = float(c.pos == 0)
        if c.tokens:
            row[F["novelty"]] = sum(t not in terms for t in c.tokens) / len(c.tokens)
        row[F["english"]] = float(query.english)
        row[F["english_dense"]] = float(query.english) * c.dense
        ctx = c.tokens | c.before
        row[F["lex_before"]] = coverage(terms, ctx)
        row[F["focus_before"]] = coverage(focus, ctx) if focus else 0.0
        if literals:
            row[F["literal_before"]] = max(row[F["literal"]], float(any(x in c.before for x in query.literals)))
        row[F["n_terms_hit"]] = min(sum(t in c.tokens for t in terms), 6) / 6
        if c.cell is not None:
            key = cell_key(c.cell)
            row[F["key_in_question"]] = float(bool(key) and key in query.normalized)
        if query.units and typed:
            row[F["unit_mismatch"]] = float(not row[F["unit_match"]])
        row[F["dense_rank"]] = 1.0 / (1 + dense_rank[i])
        row[F["lex_rank"]] = 1.0 / (1 + lex_rank[i])
    return X
