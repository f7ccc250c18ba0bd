"""Shared builders of the reader's and the drafting check's fixture tests: a candidate line without an
index, a fixture passage of lines, a draft sentence's claim, a pipeline over one fixture document
in which only the reader's hard checks abstain, and the reader's evidence and selection on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.bm25 import mecab_tokenize
from assistant.chunking import Chunk
from assistant.claims import Claim, make_claim
from assistant.normalize import normalize, normalize_query
from assistant.reader.candidates import Candidate
from assistant.reader.query import analyse
from assistant.reader.scorer import load_model
from assistant.spans import extract_spans


def sentence_candidate(text: str) -> Candidate:
    """``text`` (normalised) as the one sentence of a one-line passage, with its tokens and typed spans."""
    body = normalize(text)
    chunk = Chunk("d:1-1", "d.txt", "t", 1, 1, None, "", body, body, 0, len(body))
    return Candidate("sentence", 1, 0, chunk, 0, len(body), body, 0, 0, 0.9, 0.9, 1.0, 0.9,
                     frozenset(mecab_tokenize(body)), tuple(extract_spans(body)))


def draft_claim(sentence: str, idf: dict[str, float] | None = None) -> Claim:
    """A draft sentence's claim, as the drafting check reads it (``idf``: term weights, default 1)."""
    q = analyse(sentence, mecab_tokenize, lambda t: (idf or {}).get(t, 1.0))
    return make_claim(q, extract_spans(q.normalized), mecab_tokenize)


def passage_units(lines: Sequence[str], heading: str = "", first: int = 1, ident: str = "1-9",
                  dense: Sequence[float] | None = None) -> list[Candidate]:
    """One passage of ``lines`` (its first line numbered ``first``), each line a unit whose lead-in is
    the two lines above it; ``dense``: each line's similarity (0.9 each by default)."""
    text = "\n".join(lines)
    chunk = Chunk(f"memo.txt:{ident}", "memo.txt", "memo", first, first + len(lines) - 1, None, heading, text, text,
                  0, len(text))
    out: list[Candidate] = []
    tokens = [frozenset(mecab_tokenize(normalize_query(x))) for x in lines]
    start = 0
    for j, line in enumerate(lines):
        norm = normalize_query(line)
        d = dense[j] if dense else 0.9
        out.append(Candidate("sentence", 1, 0, chunk, start, start + len(line), norm, j, j, d, d, 1.0, d,
                             tokens[j], tuple(extract_spans(norm)), None,
                             frozenset().union(*tokens[max(0, j - 2) : j])))
        start += len(line) + 1
    return out


def hard_checks_pipeline(one_document: Any, tmp_path: Path, text: str, title: str) -> Any:
    """``one_document``'s pipeline with the learned abstention and the off-topic guard off (the
    fake embedder's similarities are far below the real model's: these tests check how the reader
    selects and shapes, and which hard checks abstain; the literal check stays on)."""
    p = one_document(tmp_path, text, title)
    p = p.with_reader_model(replace(load_model(), abstain_threshold=0.0))
    p.reader_policy = replace(p.reader_policy, off_topic_dense=-1.0, off_topic_dense_en=-1.0, off_topic_translated=-1.0)
    return p


def reader_evidence(p: Any, question: str) -> tuple[Any, Any, Any]:
    """The analysed question, the index and the reader's evidence for ``question`` on a fixture pipeline."""
    from assistant.bm25 import get_tokenizer
    from assistant.reader import evidence

    idx = p.index()
    res = p._search(question, 10, None, None)
    q = p.analyse(question).with_search_terms(res.query_tokens, idx.idf)
    return q, idx, evidence(q, res, idx, get_tokenizer(p.settings.tokenizer), True, p.reader_policy, p.reader_model)


def select_with_best(p: Any, question: str, starts: str | Callable[[Candidate], bool],
                     rest: float = 0.0) -> tuple[Any, Any, Any, Candidate]:
    """``select`` on a fixture pipeline with the first candidate starting with ``starts`` (or for which
    it is true) scored best (the others ``rest``): the question, the index, the selection and that candidate."""
    from assistant.reader.select import select

    q, idx, ev = reader_evidence(p, question)
    chosen = starts if callable(starts) else (lambda c: c.text.startswith(starts))
    best = next(i for i, c in enumerate(ev.cands) if chosen(c))
    scores = np.full(len(ev.cands), rest)
    scores[best] = 1.0
    return q, idx, select(q, idx, ev.cands, scores, p.reader_policy), ev.cands[best]
